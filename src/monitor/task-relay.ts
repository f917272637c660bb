import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Origin } from '../core/origin.js';
import { reply, text, verbatim, type Reply } from '../core/reply.js';
import type { Fleet, TaskEvent, TaskRecord, Todo } from '../executors/index.js';
import { ACTIVE_STATUSES } from '../executors/index.js';
import type { Outbox } from '../notify/outbox.js';
import type { Registry } from '../sessions/registry.js';
import { finalReport, progressReport } from './reports.js';

export interface TaskRelayDeps {
  fleet: Fleet;
  registry: Registry;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  /** Least time between two progress reports of one task. */
  minProgressGapMs?: number;
  /** How often the fleet is probed while tasks are live. */
  tickEveryMs?: number;
}

export interface TaskView {
  todos: Todo[];
  lastText: string | null;
}

export type TaskRelay = ReturnType<typeof createTaskRelay>;

/**
 * Tells a task's channel what its executor reports: started, progress, resumed, needs attention, finished,
 * and executors going away and coming back. The executor layer decides what happened; this only says it.
 */
export function createTaskRelay(deps: TaskRelayDeps) {
  const { fleet, registry, outbox, clock, logger } = deps;
  const minGap = deps.minProgressGapMs ?? 30_000;
  const tickEvery = deps.tickEveryMs ?? 3_000;
  const views = new Map<string, TaskView>();
  const lastProgress = new Map<string, { text: string; at: number }>();
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
    const facts = [
      record.exit_code !== null && record.exit_code !== 0 ? `exit ${record.exit_code}` : '',
      record.total_cost_usd !== null ? `$${record.total_cost_usd.toFixed(4)}` : '',
      record.attempts > 1 ? `${record.attempts} attempts` : '',
    ];
    const problem = ok ? undefined : record.reason ?? record.terminal_reason ?? record.status;
    const message = finalReport({
      name: task.name,
      ok,
      ...(output ? { output } : {}),
      ...(problem ? { problem } : {}),
      todos: view?.todos ?? [],
      ...(started !== undefined ? { elapsedMs: Date.parse(record.finished_at) - started } : {}),
      facts,
    });
    post(task, { ...message, data: { ...(message.data as object), record } });
    // The view stays: `todo` and `status` still show how the task ended.
    lastProgress.delete(task.name);
  }

  function onEvent(event: TaskEvent): void {
    switch (event.kind) {
      case 'started':
        post(event.task, reply(`▶️ task **${event.task.name}** got a slot on ${event.task.executor} and started`));
        return;
      case 'progress': {
        views.set(event.task.name, { todos: event.todos, lastText: event.lastText });
        const report = progressReport(event.task.name, event.todos, event.lastText ?? undefined);
        const previous = lastProgress.get(event.task.name);
        if (previous?.text === report) return;
        if (previous && clock.now() - previous.at < minGap) return;
        lastProgress.set(event.task.name, { text: report, at: clock.now() });
        post(event.task, reply(report));
        return;
      }
      case 'resumed':
        post(event.task, reply(`↻ task **${event.task.name}** ${event.reason}; resumed the same conversation (attempt ${event.attempt})`, { tone: 'warning' }));
        return;
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
