import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Origin } from '../core/origin.js';
import { reply, text, verbatim, type Reply } from '../core/reply.js';
import type { Fleet, TaskEvent, TaskRecord } from '../executors/index.js';
import { ACTIVE_STATUSES } from '../executors/index.js';
import type { Outbox } from '../notify/outbox.js';
import type { CardSink } from '../notify/card-sink.js';
import type { Scrubber } from '../core/scrub.js';
import type { Registry } from '../sessions/registry.js';
import { tokenTotal, usageFacts } from './card.js';
import { claudeUsage } from './card-facts.js';
import { finishedTaskCard, taskCardKey, taskCardState, type TaskView } from './card-task.js';
import { createRunCards, type CardTarget, type QueuedFor, type ScheduleOf } from './card-runs.js';
import { finalReport } from './reports.js';
import { budgetedCard, type BudgetGuard } from '../budgets/index.js';

export interface TaskRelayDeps {
  fleet: Fleet;
  registry: Registry;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  /** Each run's live card: drawn as the run goes, instead of a message per change. */
  cards: CardSink;
  queuedFor?: QueuedFor;
  /** The schedule that started a run, for its card. */
  scheduleOf?: ScheduleOf;
  /** The branch of the worktree a task works in, for its card. */
  branchOf?: (name: string) => string | undefined;
  /** Who stopped a run with `send --now`, by the run's prompt id: its card and final say so instead of "killed". */
  interruptedBy?: (promptId: number) => { actor: string; actorName?: string } | undefined;
  scrub?: Scrubber;
  /** How often a live card is drawn again so its elapsed time moves. */
  cardRefreshMs?: number;
  /** How often the fleet is probed while tasks are live. */
  tickEveryMs?: number;
  /** Each run's limits: every look is reported (a run past a limit is killed), and a stopped run's final says so. */
  budgets?: Pick<BudgetGuard, 'observe' | 'finish' | 'limitsFor'>;
}

export type { TaskView } from './card-task.js';

export type TaskRelay = ReturnType<typeof createTaskRelay>;

/**
 * Tells a task's channel what its executor reports: started, progress, resumed, needs attention, finished,
 * and executors going away and coming back. The executor layer decides what happened; this only says it.
 */
export function createTaskRelay(deps: TaskRelayDeps) {
  const { fleet, registry, outbox, clock, logger } = deps;
  const tickEvery = deps.tickEveryMs ?? 3_000;
  const views = new Map<string, TaskView>();
  const cards = createRunCards({
    cards: deps.cards,
    clock,
    ...(deps.scrub ? { scrub: deps.scrub } : {}),
    ...(deps.queuedFor ? { queuedFor: deps.queuedFor } : {}),
    ...(deps.scheduleOf ? { scheduleOf: deps.scheduleOf } : {}),
    ...(deps.branchOf ? { branchOf: deps.branchOf } : {}),
    ...(deps.cardRefreshMs !== undefined ? { refreshMs: deps.cardRefreshMs } : {}),
  });
  /** What each task's card last showed of its record, so a status change redraws it at once. */
  const drawnStatus = new Map<string, string>();
  let ticking: Promise<void> | undefined;
  let lastTickAt = 0;

  function originOf(task: TaskRecord): Origin | undefined {
    const record = registry.get(task.name);
    if (record) return record.origin;
    try {
      return JSON.parse(task.channel) as Origin;
    } catch {
      return undefined;
    }
  }

  function post(task: TaskRecord, message: Reply): void {
    const origin = originOf(task);
    if (!origin) {
      logger.warn('task event for a task with no channel', { task: task.name });
      return;
    }
    outbox.enqueue({ origin, reply: message, threadKey: task.name });
  }

  async function finished(task: TaskRecord, event: Extract<TaskEvent, { kind: 'finished' }>): Promise<void> {
    const record = event.record;
    const ok = record.status === 'succeeded';
    let output = record.result ?? undefined;
    if (!output && task.kind === 'shell') {
      output = await fleet.logs(task.name, 60).catch(() => undefined);
    }
    const view = views.get(task.name);
    const started = record.started_at ? Date.parse(record.started_at) : undefined;
    // The run's prompt is still the name's last one: a follow-up is sent only after this final is posted.
    const promptId = ok ? undefined : registry.get(task.name)?.lastPromptId;
    const interrupt = promptId !== undefined ? deps.interruptedBy?.(promptId) : undefined;
    const problem = ok ? undefined : interrupt ? `interrupted by ${interrupt.actorName ?? interrupt.actor}` : (record.reason ?? record.terminal_reason ?? record.status);
    let card = finishedTaskCard(task, record, view?.todos ?? [], problem);
    // A run claude cut short (its budget, an API error) may end with a result whose usage is all zeros: the
    // tokens its events reported on the way are the better count.
    const seen = claudeUsage(view?.usage);
    if (seen && tokenTotal(seen) > (card.usage ? tokenTotal(card.usage) : 0)) {
      card = { ...card, usage: { ...seen, ...(card.usage?.costUsd !== undefined ? { costUsd: card.usage.costUsd } : {}) } };
    }
    // The run this record closes, as its card is keyed (its first attempt), whatever the task is now.
    const runOf = { ...task, status: 'running' as const, attempt: record.attempt, retries: record.attempts - 1 };
    const budgeted = deps.budgets && budgetedCard(deps.budgets, { key: taskCardKey(runOf), name: task.name, place: { kind: 'executor', executor: task.executor } }, card, 'ended');
    if (budgeted) card = budgeted.card;
    const stop = budgeted?.stop;
    const facts = [
      record.exit_code !== null && record.exit_code !== 0 ? `exit ${record.exit_code}` : '',
      ...usageFacts(card.usage),
      record.attempts > 1 ? `${record.attempts} attempts` : '',
    ];
    const message = finalReport({
      name: task.name,
      ok: ok && !stop,
      ...(output ? { output } : {}),
      ...(problem ? { problem } : {}),
      ...(stop ? { stopped: stop.line } : {}),
      todos: view?.todos ?? [],
      ...(started !== undefined ? { elapsedMs: Date.parse(record.finished_at) - started } : {}),
      facts,
    });
    post(task, { ...message, data: { ...(message.data as object), record } });
    // The card of this run: keyed by the run the record closes (its first attempt), whatever the task is now.
    // The live card of the name is this run's (one run at a time); after a restart it is found by its key.
    const target = cards.get(task.name)?.target ?? targetOf(runOf);
    if (target) cards.show(target, card);
    drawnStatus.delete(task.name);
    // The view stays: `todo` and `status` still show how the task ended.
  }

  function targetOf(task: TaskRecord): CardTarget | undefined {
    const origin = originOf(task);
    if (!origin) return undefined;
    return { key: taskCardKey(task), origin, threadKey: task.name, ...(task.actor ? { actor: task.actor } : {}) };
  }

  /** Draws a live task's card from its record and its latest events. */
  function drawTask(task: TaskRecord): void {
    const target = targetOf(task);
    if (!target) return;
    const shown = cards.get(task.name);
    const since = shown?.target.key === target.key ? shown.state.startedAt : clock.now();
    let state = taskCardState(task, views.get(task.name), since);
    // A queued run shows its limits already; only a run under way uses anything.
    if (deps.budgets) {
      const look = { key: target.key, name: task.name, place: { kind: 'executor' as const, executor: task.executor } };
      state = budgetedCard(deps.budgets, look, state, task.status === 'queued' ? 'waiting' : 'live').card;
    }
    cards.show(target, state);
    drawnStatus.set(task.name, `${target.key}:${task.status}:${task.reason ?? ''}`);
  }

  /**
   * Every live task has a card, however its run began (start, run, a follow-up, an offload, a restart), and a
   * change of status shows at once; the rest only redraws for the clock.
   */
  function syncCards(): void {
    for (const task of fleet.tasks({ status: [...ACTIVE_STATUSES, 'queued'] })) {
      if (drawnStatus.get(task.name) !== `${taskCardKey(task)}:${task.status}:${task.reason ?? ''}`) drawTask(task);
    }
    cards.refresh();
  }

  function onEvent(event: TaskEvent): void {
    switch (event.kind) {
      case 'started':
        drawTask(event.task);
        return;
      case 'progress': {
        const { todos, lastText, lastTool, usage, lastLine } = event;
        const before = views.get(event.task.name);
        views.set(event.task.name, {
          todos,
          lastText,
          ...(lastTool !== undefined ? { lastTool } : {}),
          ...(usage !== undefined ? { usage } : {}),
          ...(lastLine !== undefined ? { lastLine } : {}),
          ...(before?.note ? { note: before.note } : {}),
        });
        drawTask(event.task);
        return;
      }
      case 'resumed': {
        const view = views.get(event.task.name) ?? { todos: [], lastText: null };
        views.set(event.task.name, { ...view, note: `${event.reason}; resumed the same conversation (attempt ${event.attempt})` });
        drawTask(event.task);
        return;
      }
      case 'needs_attention':
        post(
          event.task,
          reply(
            [
              text(`✋ task **${event.task.name}** on ${event.task.executor} is waiting for input; Switchboard never answers for you:`),
              verbatim(event.paneTail),
              text(`\`logs ${event.task.name}\` shows more; \`kill ${event.task.name}\` stops it.`),
            ],
            { tone: 'warning' },
          ),
        );
        return;
      case 'finished':
        void finished(event.task, event).catch((error: unknown) => logger.error('could not report a finished task', { task: event.task.name, error: String(error) }));
        return;
      case 'unreachable':
      case 'back': {
        const tasks = fleet.tasks({ executor: event.executor, status: [...ACTIVE_STATUSES, 'queued'] });
        const byLane = new Map<string, { origin: Origin; names: string[] }>();
        for (const task of tasks) {
          const origin = originOf(task);
          if (!origin) continue;
          const lane = `${origin.adapter}:${origin.channel}`;
          const entry = byLane.get(lane) ?? { origin: { adapter: origin.adapter, channel: origin.channel }, names: [] };
          entry.names.push(task.name);
          byLane.set(lane, entry);
        }
        for (const { origin, names } of byLane.values()) {
          const line =
            event.kind === 'unreachable'
              ? `⚠️ executor ${event.executor} is unreachable (${event.error}); ${names.join(', ')} keep running there and are followed again when it is back.`
              : `✅ executor ${event.executor} is back; following ${names.join(', ')} again.`;
          outbox.enqueue({ origin, reply: reply(line, { tone: event.kind === 'back' ? 'success' : 'warning' }) });
        }
        return;
      }
    }
  }

  return {
    onEvent,
    /** The latest todos and text of a live task, as its events reported them. */
    view(name: string): TaskView | undefined {
      return views.get(name);
    },
    /** Called every second by the monitor's scheduler; probes the fleet every few seconds while tasks live. */
    tick(force = false): Promise<void> {
      syncCards();
      if (ticking) return ticking;
      if (!force && clock.now() - lastTickAt < tickEvery) return Promise.resolve();
      if (!force && fleet.tasks({ status: [...ACTIVE_STATUSES, 'queued'] }).length === 0) return Promise.resolve();
      lastTickAt = clock.now();
      ticking = fleet
        .tick()
        .then(() => undefined)
        .catch((error: unknown) => logger.error('executor tick failed', { error: String(error) }))
        .finally(() => {
          ticking = undefined;
        });
      return ticking;
    },
  };
}
