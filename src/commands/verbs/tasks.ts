import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import type { TaskStatus } from '../../executors/index.js';
import { ACTIVE_STATUSES } from '../../executors/index.js';
import type { CommandDefinition, ContextWith } from '../context.js';
import type { WorktreeState } from '../../worktrees/index.js';
import { describeTaskState, taskStateIcon } from '../task-names.js';

const STATUSES: readonly TaskStatus[] = ['queued', 'running', 'needs_attention', 'retrying', 'stopping', 'succeeded', 'failed', 'killed', 'abandoned'];

export const tasks: CommandDefinition<'clock' | 'fleet' | 'tasks' | 'worktrees'> = {
  verb: 'tasks',
  summary: 'tasks on the executors, with the queue',
  positionals: [],
  options: [
    { name: 'status', value: 'string', placeholder: 'S', description: `one of ${STATUSES.join(', ')}, or active` },
    { name: 'executor', value: 'string', placeholder: 'E', description: 'only this executor’s tasks' },
    { name: 'worktrees', value: 'flag', description: 'instead: the git worktrees Switchboard made (tasks and sessions) and their state: clean, dirty or missing' },
  ],
  level: 'read',
  examples: ['tasks', 'tasks --status running', 'tasks --executor crib', 'tasks --worktrees'],
  async handle(ctx) {
    if (ctx.options.worktrees === true) return worktreeList(ctx);
    const wanted = ctx.options.status as string | undefined;
    let status: readonly TaskStatus[] | undefined;
    if (wanted === 'active') status = [...ACTIVE_STATUSES, 'queued'];
    else if (wanted !== undefined) {
      if (!STATUSES.includes(wanted as TaskStatus)) {
        throw new SwitchboardError('usage', `\`${wanted.slice(0, 30)}\` is not a task status`, { hint: `statuses: ${STATUSES.join(', ')}, active` });
      }
      status = [wanted as TaskStatus];
    }
    const executor = ctx.options.executor as string | undefined;
    const list = ctx.services.fleet.tasks({ ...(status ? { status } : {}), ...(executor ? { executor } : {}) });
    if (list.length === 0) return reply('No tasks match. Start one with `start <executor> <prompt…>` or `run <executor> <command…>`.', { data: [] });
    const now = ctx.services.clock.now();
    const width = Math.max(...list.map((t) => t.name.length));
    // (Only the worktree the task works in: a forgotten name of the same spelling may have left one behind.)
    const branchOf = (task: (typeof list)[number]) => {
      const worktree = ctx.services.worktrees.of(task.name);
      return worktree && worktree.workdir === task.workspace ? `🌿 ${worktree.branch}` : '';
    };
    const lines = list.map((task) => {
      const view = ctx.services.tasks.view(task.name);
      const done = view?.todos.filter((t) => t.status === 'completed').length;
      return [
        `${taskStateIcon(task.status)} ${task.name.padEnd(width)}`,
        `${task.kind} on ${task.executor}`,
        describeTaskState(task, now),
        view?.todos.length ? `todo ${done}/${view.todos.length}` : '',
        task.totalCostUsd ? `$${task.totalCostUsd.toFixed(4)}` : '',
        task.reason && !['succeeded', 'running'].includes(task.status) ? task.reason : '',
        branchOf(task),
      ]
        .filter(Boolean)
        .join(' · ');
    });
    return reply(lines.join('\n'), { data: list });
  },
};

const STATE_ICON: Record<WorktreeState, string> = { clean: '✅', dirty: '✏️', missing: '❔', unknown: '⚠️' };

/** `tasks --worktrees`: one line per worktree, its state read on its host (one exec per executor). */
async function worktreeList(ctx: ContextWith<'worktrees'>) {
  const executor = ctx.options.executor as string | undefined;
  const all = await ctx.services.worktrees.list();
  const list = executor ? all.filter((w) => w.executor === executor) : all;
  if (list.length === 0) return reply('No worktrees. `start`, `run` and `new … @executor` make one with `--worktree`.', { data: [] });
  const width = Math.max(...list.map((w) => w.name.length));
  const lines = list.map((w) => {
    const state = w.state === 'dirty' ? `dirty (${w.changes} change${w.changes === 1 ? '' : 's'})` : w.state === 'unknown' ? `unknown: ${w.problem ?? 'not checked'}` : w.state;
    return [`${STATE_ICON[w.state]} ${w.name.padEnd(width)}`, `🌿 ${w.branch}`, state, `${w.kind} on ${w.executor}`, w.workdir].join(' · ');
  });
  return reply(lines.join('\n'), { data: list });
}
