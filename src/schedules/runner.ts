import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Actor, Origin } from '../core/origin.js';
import { reply, type Reply, type Tone } from '../core/reply.js';
import type { SwitchboardError } from '../errors.js';
import type { Schedule, ScheduleStore } from './store.js';
import { formatFire, nextFire, parseWhen, shortestGap } from './when.js';

export interface ScheduledLine {
  text: string;
  actor: Actor;
  origin: Origin;
  scheduleId: number;
}

export interface ScheduleRunnerDeps {
  store: ScheduleStore;
  clock: Clock;
  logger: Logger;
  /** Runs a line through the core as its owner: the same grammar, access check, audit row and card. */
  execute(line: ScheduledLine): Promise<Reply>;
  notify(origin: Origin, message: Reply, threadKey?: string): void;
  /** Whether a run of this name is in progress (a watched prompt, a live task). */
  busy(name: string): boolean;
  /** Why the owner may not run the line there now (the core's own check, without running it). */
  refusal(schedule: Schedule): SwitchboardError | undefined;
  /** Frees the name of a finished task the owner made, for the next run of a named `start`/`run`. */
  freeName(name: string, ownerId: string): Promise<void>;
  /** A fire later than this was missed (Switchboard was down): it is a catch-up, or skipped with `--catch-up none`. */
  lateMs?: number;
}

/** After this many runs in a row stopped by their budget, a schedule pauses itself. */
export const BUDGET_PAUSE_AFTER = 3;

const TASK_VERBS = new Set(['start', 'run']);

export type ScheduleRunner = ReturnType<typeof createScheduleRunner>;

/**
 * Fires due schedules on the app's beat. Each fire is claimed in the database first, so two processes never run
 * the same one; the line then runs through the core exactly as if its owner typed it in the schedule's channel.
 * What only a schedule knows (a skip, a catch-up, a pause) is said in that channel, once.
 */
export function createScheduleRunner(deps: ScheduleRunnerDeps) {
  const { store, clock, logger } = deps;
  const lateMs = deps.lateMs ?? 60_000;

  function say(schedule: Schedule, line: string, tone: Tone, name = schedule.name ?? schedule.lastName): void {
    deps.notify(schedule.origin, reply(line, { tone, data: { schedule: schedule.id } }), name);
  }

  function errorOf(result: Reply): { code: string; message: string; hint?: string } | undefined {
    if (result.tone !== 'error') return undefined;
    const error = (result.data as { error?: { code: string; message: string; hint?: string } } | undefined)?.error;
    return error ?? { code: 'internal', message: 'the command failed' };
  }

  /** Runs the schedule's line now, unless its name is still busy (then skipped, or queued with `--queue`). */
  async function launch(schedule: Schedule, now: number, missedAt?: number): Promise<void> {
    const { id } = schedule;
    const name = schedule.name ?? schedule.lastName;
    // A `send` with --queue goes through the follow-up queue of its name, where its card shows it waiting.
    if (name !== undefined && deps.busy(name) && !(schedule.queue && schedule.verb === 'send')) {
      if (schedule.queue) {
        if (schedule.pendingAt === undefined) say(schedule, `⏳ schedule #${id}: **${name}** is still busy; this run starts when the current one ends`, 'info');
        store.setPending(id, now);
        store.fired(id, { at: now, outcome: 'queued', result: `queued behind the run of ${name}` });
        return;
      }
      // Said once per busy spell, not at every fire while one long run goes on.
      if (!schedule.lastResult?.startsWith('skipped')) {
        say(schedule, `⏭ schedule #${id} skipped a run: **${name}** is still busy with the previous one (make it with \`--queue\` to queue instead)`, 'info');
      }
      store.fired(id, { at: now, outcome: 'skipped', result: `skipped: ${name} was busy` });
      return;
    }
    if (schedule.name !== undefined && TASK_VERBS.has(schedule.verb)) await deps.freeName(schedule.name, schedule.owner.id);
    const result = await deps.execute({ text: schedule.line, actor: schedule.owner, origin: schedule.origin, scheduleId: id });
    const error = errorOf(result);
    if (error?.code === 'forbidden') {
      if (store.pause(id, 'access', error.message)) {
        say(
          schedule,
          `⏸ schedule #${id} is paused: ${error.message}.${error.hint ? ` ${error.hint}.` : ''} It runs again by itself once that is allowed; \`unschedule ${id}\` removes it.`,
          'warning',
        );
      }
      store.fired(id, { at: now, outcome: 'refused', result: `paused: ${error.message}` });
      return;
    }
    if (error) {
      say(schedule, `❌ schedule #${id} could not run \`${schedule.line}\`: ${error.message}${error.hint ? `\n${error.hint}` : ''}`, 'error');
      store.fired(id, { at: now, outcome: 'failed', result: `failed: ${error.message}` });
      return;
    }
    // Said after the run's own echo: a refused catch-up says only why it was refused.
    if (missedAt !== undefined) say(schedule, `⏰ schedule #${id}: that was the run due ${formatFire(missedAt, schedule.zone)}, missed while Switchboard was down (one catch-up run)`, 'info');
    const ranAs = (result.data as { name?: unknown } | undefined)?.name;
    const ran = typeof ranAs === 'string' ? ranAs : name;
    store.fired(id, { at: now, ...(ran !== undefined ? { name: ran } : {}), outcome: 'started', result: ran !== undefined ? `ran ${ran}` : 'ran' });
  }

  async function fireSlot(schedule: Schedule, now: number): Promise<void> {
    const when = parseWhen(schedule.whenText);
    const next = nextFire(when, schedule.zone, schedule.createdAt, now);
    if (!store.claim(schedule.id, schedule.nextAt, next)) return;
    // Late by a whole period (or a minute, for longer ones): a slot passed while nobody was there to fire it.
    const missed = now - schedule.nextAt > Math.min(lateMs, shortestGap(when, schedule.zone));
    if (missed && schedule.catchUp === 'none') {
      store.fired(schedule.id, { at: now, outcome: 'missed', result: 'missed while Switchboard was down (--catch-up none)' });
      return;
    }
    if (schedule.paused === 'access') {
      // Paused schedules keep their times and look again, quietly, at each one.
      const refused = deps.refusal(schedule);
      if (refused) {
        store.fired(schedule.id, { at: now, outcome: 'refused', result: `paused: ${refused.message}` }, false);
        return;
      }
      if (store.resume(schedule.id)) say(schedule, `▶️ schedule #${schedule.id} runs again: ${schedule.owner.id} may run \`${schedule.line}\` here now`, 'info');
    }
    await launch({ ...schedule, nextAt: next }, now, missed ? schedule.nextAt : undefined);
  }

  async function firePending(schedule: Schedule, now: number): Promise<void> {
    const name = schedule.name ?? schedule.lastName;
    if (schedule.pendingAt === undefined || (name !== undefined && deps.busy(name))) return;
    if (!store.claimPending(schedule.id, schedule.pendingAt)) return;
    const { pendingAt: _taken, ...rest } = schedule;
    await launch(rest, now);
  }

  return {
    /** Fires what is due (the app's beat runs it every second). One schedule's failure hurts no other. */
    async tick(): Promise<void> {
      const now = clock.now();
      for (const schedule of store.due(now)) {
        try {
          if (schedule.nextAt <= now) await fireSlot(schedule, now);
          else await firePending(schedule, now);
        } catch (error) {
          logger.error('schedules: a fire failed', { schedule: schedule.id, error: error instanceof Error ? error.message : String(error) });
        }
      }
    },
    /**
     * A run was stopped by its budget. When the schedule that started it has had its last three runs stopped
     * that way, it pauses itself and says so: it would only burn the same money again.
     */
    budgetStopped(name: string, at: number): void {
      const id = store.markBudgetHit(name, at);
      if (id === undefined) return;
      const runs = store.recentRuns(id, BUDGET_PAUSE_AFTER);
      if (runs.length < BUDGET_PAUSE_AFTER || !runs.every((run) => run.budgetHit)) return;
      const schedule = store.get(id);
      if (!schedule) return;
      const note = `its last ${BUDGET_PAUSE_AFTER} runs were stopped by their budget`;
      if (!store.pause(id, 'budget', note)) return;
      say(
        schedule,
        `⏸ schedule #${id} paused itself: ${note}. \`budget ${name}\` shows the limits; \`unschedule ${id}\` removes the schedule (make it again to resume).`,
        'warning',
        name,
      );
    },
  };
}
