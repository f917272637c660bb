import type { Usage } from '../executors/index.js';
import type { CompletionRecord, TaskRecord, Todo } from '../executors/index.js';
import type { CardPhase, CardState } from './card.js';
import { cardTool, claudeUsage } from './card-facts.js';

/** What a task's events reported last (claude: todos, text, tool, tokens; shell: the newest output line). */
export interface TaskView {
  todos: Todo[];
  lastText: string | null;
  lastTool?: { name: string; input: Record<string, unknown> } | null;
  usage?: Usage | null;
  lastLine?: string | null;
  /** What happened to the run lately that is worth a line (a resume after a crash). */
  note?: string;
}

/**
 * One card per run of a task: a start or a follow-up, whatever automatic resumes it takes. The run is numbered
 * by its first attempt, which the task store keeps (a queued run gets the next attempt number when it starts).
 */
export function taskCardKey(task: Pick<TaskRecord, 'name' | 'id' | 'status' | 'attempt' | 'retries'>): string {
  const run = task.status === 'queued' ? task.attempt + 1 : task.attempt - task.retries;
  return `${task.name}#t${task.id}.${run}`;
}

const LIVE_PHASE: Partial<Record<TaskRecord['status'], CardPhase>> = {
  queued: 'queued',
  running: 'working',
  stopping: 'working',
  retrying: 'retrying',
  needs_attention: 'question',
};

/** A live task's card from its record and its latest events. `startedAt` stands in while it waits in a queue. */
export function taskCardState(task: TaskRecord, view: TaskView | undefined, queuedSince: number): CardState {
  const phase = LIVE_PHASE[task.status] ?? 'working';
  const tool = view?.lastTool ? cardTool(view.lastTool.name, view.lastTool.input) : undefined;
  const usage = claudeUsage(view?.usage);
  const detail =
    task.status === 'queued'
      ? `waiting for a slot on ${task.executor}${task.queuePosition ? ` (position ${task.queuePosition})` : ''}`
      : task.status === 'needs_attention'
        ? 'its terminal waits for input'
        : (task.status === 'retrying' || task.status === 'stopping') && task.reason
          ? task.reason
          : view?.note;
  return {
    name: task.name,
    phase,
    startedAt: task.status === 'queued' ? queuedSince : (task.startedAt ?? task.createdAt),
    todos: view?.todos ?? [],
    ...(tool ? { tool } : {}),
    ...(view?.lastText ? { text: view.lastText } : {}),
    ...(view?.lastLine ? { lastLine: view.lastLine } : {}),
    ...(usage ? { usage } : {}),
    ...(detail ? { detail } : {}),
  };
}

/** The last state of a run's card, from its completion record. */
export function finishedTaskCard(task: TaskRecord, record: CompletionRecord, todos: readonly Todo[], problem: string | undefined): CardState {
  const usage = claudeUsage(record.usage, record.total_cost_usd);
  const endedAt = Date.parse(record.finished_at);
  const startedAt = record.started_at ? Date.parse(record.started_at) : (task.startedAt ?? endedAt);
  return {
    name: task.name,
    phase: record.status === 'succeeded' ? 'finished' : 'failed',
    startedAt,
    endedAt,
    todos,
    ...(usage ? { usage } : {}),
    ...(problem ? { detail: problem } : {}),
  };
}
