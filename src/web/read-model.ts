import { scopeOf } from '../commands/targets.js';
import type { Clock } from '../core/clock.js';
import type { Actor } from '../core/origin.js';
import type { TaskRecord } from '../executors/index.js';
import type { Access } from '../sessions/access.js';
import type { NameRecord, Registry } from '../sessions/registry.js';
import type { CardFeed, LiveCard, RunRow } from './card-feed.js';
import type { FleetProbe } from './fleet-probe.js';
import type { History } from './history.js';

/** What the lead's schedules and the budgets add to a row, once wired (both optional). */
export interface RowExtras {
  nextScheduleOf?(name: string): { at: number; line?: string } | undefined;
  budgetOf?(name: string): { tokens?: number; costUsd?: number; timeMs?: number } | undefined;
}

export interface ReadModelDeps extends RowExtras {
  clock: Clock;
  registry: Pick<Registry, 'list' | 'get'>;
  access: Pick<Access, 'roleOf'>;
  feed: CardFeed;
  probe: FleetProbe;
  history: History;
  tasks: { get(name: string): TaskRecord | null; logs(name: string, lines?: number): Promise<string> };
}

export type RowState = 'working' | 'approval' | 'question' | 'stalled' | 'failed' | 'queued' | 'idle';

export interface NameRow {
  name: string;
  kind: 'opencode' | 'task';
  where: string;
  state: RowState;
  done: number;
  total: number;
  active?: string;
  startedAt?: number;
  endedAt?: number;
  tokens?: number;
  costUsd?: number;
  budget?: { tokens?: number; costUsd?: number; timeMs?: number };
  nextSchedule?: { at: number; line?: string };
  channel: string;
  owner: string;
}

const STATE_OF_PHASE: Record<string, RowState> = {
  working: 'working',
  retrying: 'working',
  approval: 'approval',
  question: 'question',
  stalled: 'stalled',
  failed: 'failed',
  queued: 'queued',
  finished: 'idle',
};

const STATE_OF_TASK: Record<string, RowState> = { running: 'working', retrying: 'working', stopping: 'working', queued: 'queued', needs_attention: 'question', failed: 'failed', abandoned: 'failed', killed: 'failed' };

const DAY_MS = 86_400_000;

function whereOf(record: NameRecord): string {
  return record.target.kind === 'opencode' ? record.target.server : record.target.executor;
}

/**
 * The page's view of the fleet, always for one person: only the names their role lets them see (a viewer or
 * more, globally or under `access.names` / `access.executors`), and only the servers and executors those run on
 * unless their role is global. Plain data; the HTTP layer scrubs it before it leaves.
 */
export function createReadModel(deps: ReadModelDeps) {
  const { access, registry, feed } = deps;

  const sees = (actor: Actor, record: NameRecord) => access.roleOf(actor, scopeOf(record)) !== 'none';
  const seesAll = (actor: Actor) => access.roleOf(actor) !== 'none';

  function rowOf(record: NameRecord, card: LiveCard | undefined = feed.get(record.name)): NameRow {
    const task = record.target.kind === 'task' ? deps.tasks.get(record.name) : null;
    // A card shows the current run; without one (never ran here, or before this bot kept cards) the task's status.
    const state = card ? (STATE_OF_PHASE[card.phase] ?? 'working') : task ? (STATE_OF_TASK[task.status] ?? 'idle') : 'idle';
    const budget = deps.budgetOf?.(record.name);
    const nextSchedule = deps.nextScheduleOf?.(record.name);
    return {
      name: record.name,
      kind: record.target.kind,
      where: whereOf(record),
      state,
      done: card?.done ?? 0,
      total: card?.total ?? 0,
      ...(card?.active !== undefined && state !== 'idle' ? { active: card.active } : {}),
      ...(card?.startedAt !== undefined ? { startedAt: card.startedAt } : {}),
      ...(card?.endedAt !== undefined ? { endedAt: card.endedAt } : {}),
      ...(card?.tokens !== undefined ? { tokens: card.tokens } : task?.usage ? { tokens: task.usage.input_tokens + task.usage.output_tokens } : {}),
      ...(card?.costUsd !== undefined ? { costUsd: card.costUsd } : task?.totalCostUsd != null ? { costUsd: task.totalCostUsd } : {}),
      ...(budget ? { budget } : {}),
      ...(nextSchedule ? { nextSchedule } : {}),
      channel: `${record.origin.adapter}:${record.origin.channel}`,
      owner: record.owner,
    };
  }

  /** Who the page is for, as its header shows it. */
  function whoami(actor: Actor) {
    return { id: actor.id, ...(actor.name ? { name: actor.name } : {}), role: access.roleOf(actor) };
  }

  function visible(actor: Actor): NameRecord[] {
    return registry.list().filter((record) => sees(actor, record));
  }

  /** Runs per day (by outcome) and cost per day over the last `days` UTC days, for these names. */
  function charts(names: ReadonlySet<string>, days = 14) {
    const today = Math.floor(deps.clock.now() / DAY_MS) * DAY_MS;
    const from = today - (days - 1) * DAY_MS;
    const byDay = Array.from({ length: days }, (_, i) => ({ day: new Date(from + i * DAY_MS).toISOString().slice(0, 10), finished: 0, failed: 0, other: 0, costUsd: 0, tokens: 0 }));
    for (const run of feed.runsSince(from)) {
      if (!names.has(run.name)) continue;
      const slot = byDay[Math.floor((run.startedAt - from) / DAY_MS)];
      if (!slot) continue;
      if (run.phase === 'finished') slot.finished++;
      else if (run.phase === 'failed') slot.failed++;
      else slot.other++;
      slot.costUsd += run.costUsd;
      slot.tokens += run.tokens;
    }
    return byDay;
  }

  return {
    rowOf,
    sees,
    whoami,
    /** Whether `actor` may see `name` (false for a name that does not exist, so existence does not leak). */
    canSee(actor: Actor, name: string): boolean {
      const record = registry.get(name);
      return record !== undefined && sees(actor, record);
    },
    /**
     * What decides a snapshot's content apart from who is named in it: the global role, the visible names and the
     * executors granted by name. People with the same key see the same page.
     */
    viewKey(actor: Actor, executors: readonly string[]): string {
      return [access.roleOf(actor), visible(actor).map((r) => r.name).join(','), executors.map((e) => access.roleOf(actor, { executor: e })).join(',')].join('|');
    },
    /** Everything the page shows at first: the overview, every visible name's row, the charts. */
    async snapshot(actor: Actor) {
      const records = visible(actor);
      const rows = records.map((record) => rowOf(record));
      const names = new Set(records.map((r) => r.name));
      const { servers, executors } = await deps.probe.look();
      const all = seesAll(actor);
      const today = Math.floor(deps.clock.now() / DAY_MS) * DAY_MS;
      const spend = new Map<string, { tokens: number; costUsd: number }>();
      const whereByName = new Map(records.map((r) => [r.name, whereOf(r)]));
      for (const run of feed.runsSince(today)) {
        const where = whereByName.get(run.name);
        if (where === undefined) continue;
        const sum = spend.get(where) ?? { tokens: 0, costUsd: 0 };
        sum.tokens += run.tokens;
        sum.costUsd += run.costUsd;
        spend.set(where, sum);
      }
      const namesOn = (where: string) => rows.filter((r) => r.where === where).map((r) => r.name);
      return {
        now: deps.clock.now(),
        actor: whoami(actor),
        servers: servers
          .filter((s) => all || namesOn(s.name).length > 0)
          .map((s) => ({ ...s, names: namesOn(s.name), today: spend.get(s.name) ?? { tokens: 0, costUsd: 0 } })),
        executors: executors
          .filter((e) => all || namesOn(e.name).length > 0 || access.roleOf(actor, { executor: e.name }) !== 'none')
          .map((e) => ({ ...e, names: namesOn(e.name), today: spend.get(e.name) ?? { tokens: 0, costUsd: 0 } })),
        rows,
        charts: charts(names),
      };
    },
    /** One name in full: its card, run timeline, last prompts, final outputs, a task's log tail. */
    async detail(name: string) {
      const record = registry.get(name);
      if (!record) return undefined;
      const card = feed.get(name);
      const runs: RunRow[] = feed.runs(name, 30);
      let log: string | undefined;
      if (record.target.kind === 'task') {
        log = await Promise.race([
          deps.tasks.logs(name, 40).catch((error: unknown) => `(no log: ${error instanceof Error ? error.message : String(error)})`),
          new Promise<string>((resolve) => setTimeout(() => resolve('(the log did not come within 3 s)'), 3_000).unref()),
        ]);
      }
      return {
        now: deps.clock.now(),
        row: rowOf(record, card),
        card: card ? { text: card.text, todos: card.todos, phase: card.phase } : undefined,
        runs,
        prompts: deps.history.prompts(name, 5),
        finals: deps.history.finals(name, 3),
        ...(log !== undefined ? { log } : {}),
      };
    },
  };
}

export type ReadModel = ReturnType<typeof createReadModel>;
