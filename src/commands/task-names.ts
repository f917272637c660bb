import { SwitchboardError } from '../errors.js';
import type { TaskRecord } from '../executors/index.js';
import { firstLine, formatDuration } from '../core/format.js';
import type { NameRecord } from '../sessions/registry.js';
import { assertValidName, pickFreeName } from '../sessions/names.js';
import type { ContextWith } from './context.js';
import type { Origin } from '../core/origin.js';

/** The task behind a registered name, or a clear error when the name is not a task. */
export function taskOf(ctx: ContextWith<'fleet'>, record: NameRecord, verb: string): TaskRecord {
  if (record.target.kind !== 'task') {
    throw new SwitchboardError('usage', `\`${verb}\` works on tasks; ${record.name} is an OpenCode session`);
  }
  const task = ctx.services.fleet.get(record.name);
  if (!task) throw new SwitchboardError('unknown_name', `the task of ${record.name} is gone from the executor store`, { hint: `\`forget ${record.name}\` drops the name` });
  return task;
}

/**
 * Gives a started task its name in the registry, stores its prompt once, and routes the reply (the prompt's
 * echo) into the name's thread. Returns the prompt's id.
 */
export function registerTask(
  ctx: ContextWith<'registry'>,
  entry: { name: string; task: TaskRecord; directory?: string | null; body: string; origin: Origin },
): number {
  const { registry } = ctx.services;
  const directory = entry.directory ?? entry.task.workspace;
  registry.insert({
    name: entry.name,
    target: { kind: 'task', executor: entry.task.executor, taskId: entry.task.id, ...(directory ? { directory } : {}) },
    owner: ctx.actor.id,
    origin: entry.origin,
    currentTask: firstLine(entry.body),
  });
  const promptId = registry.recordPrompt({ name: entry.name, actor: ctx.actor.id, text: entry.body });
  registry.update(entry.name, { lastPromptId: promptId });
  ctx.audit.promptId = promptId;
  ctx.route = { threadKey: entry.name, opensThread: true };
  return promptId;
}

/** A name for a new task: the one asked for (checked), or a free pronounceable one. */
export function newTaskName(ctx: ContextWith<'registry' | 'fleet'>): string {
  const { registry, fleet } = ctx.services;
  const taken = (name: string) => registry.isTaken(name) || fleet.get(name) !== null;
  const wanted = ctx.options.name as string | undefined;
  if (wanted === undefined) return pickFreeName(taken);
  assertValidName(wanted);
  if (taken(wanted)) {
    throw new SwitchboardError('name_taken', `the name \`${wanted}\` is already taken`, { hint: `pick another --name, or \`forget ${wanted}\` first` });
  }
  return wanted;
}

const STATE_ICON: Record<string, string> = {
  queued: '⏳',
  running: '⚙️',
  needs_attention: '✋',
  retrying: '↻',
  stopping: '⏹',
  succeeded: '✅',
  failed: '❌',
  killed: '⏹',
  abandoned: '❌',
};

export function taskStateIcon(status: string): string {
  return STATE_ICON[status] ?? '•';
}

/** "running for 5m 02s", "queued (position 2)", "succeeded 3m ago". */
export function describeTaskState(task: TaskRecord, now: number): string {
  const state = task.status.replace('_', ' ');
  if (task.status === 'queued') return `queued (position ${task.queuePosition ?? '?'})`;
  if (task.finishedAt) return `${state} ${formatDuration(now - task.finishedAt)} ago`;
  if (task.startedAt) return `${state} for ${formatDuration(now - task.startedAt)}${task.attempt > 1 ? ` · attempt ${task.attempt}` : ''}`;
  return state;
}
