import { reply, type Reply } from '../../core/reply.js';
import { isSwitchboardError, SwitchboardError } from '../../errors.js';
import { isFinal } from '../../executors/index.js';
import { assertValidName } from '../../sessions/names.js';
import type { CommandDefinition, ContextWith } from '../context.js';
import { requireName } from '../targets.js';
import { taskOf } from '../task-names.js';

type KillContext = ContextWith<'access' | 'fleet' | 'registry' | 'worktrees'>;

export const kill: CommandDefinition<'access' | 'fleet' | 'registry' | 'worktrees'> = {
  verb: 'kill',
  summary: 'stop a task and everything it started; --cleanup then removes its directory (and its worktree)',
  positionals: [{ name: 'name' }],
  options: [
    { name: 'cleanup', value: 'flag', description: 'remove the task directory on its host, keeping the last lines of its log (works on finished tasks too), and the git worktree Switchboard made for the name (the branch stays)' },
    { name: 'force', value: 'flag', description: 'with --cleanup: remove the worktree even when it has uncommitted changes (they are lost)' },
  ],
  level: 'work',
  examples: ['kill auth', 'kill auth --cleanup', 'kill auth --cleanup --force'],
  details:
    'A worktree (made with `--worktree`) with uncommitted changes is not removed: the reply lists them. Commit them on its branch, or add `--force`. ' +
    'On an OpenCode session, `kill <name> --cleanup` removes the session’s worktree and leaves the session alone.',
  async handle(ctx) {
    const cleanup = ctx.options.cleanup === true;
    const force = ctx.options.force === true;
    if (force && !cleanup) throw new SwitchboardError('usage', '`--force` goes with `--cleanup`: it removes a worktree with uncommitted changes', { hint: 'kill <name> --cleanup --force' });
    const name = ctx.args.name ?? '';
    assertValidName(name);
    // A forgotten name may have left its worktree: --cleanup still removes it.
    if (cleanup && !ctx.services.registry.get(name) && ctx.services.worktrees.of(name)) {
      ctx.audit.target = name;
      const row = ctx.services.worktrees.of(name)!;
      ctx.services.access.require(ctx.actor, 'work', `remove the worktree of ${name}`, { name, executor: row.executor });
      return finish(ctx, name, [], force, 'the name is forgotten');
    }
    const record = requireName(ctx);
    if (record.target.kind === 'opencode' && cleanup && ctx.services.worktrees.of(record.name)) {
      const scope = { name: record.name };
      ctx.services.access.require(ctx.actor, 'work', `remove the worktree of ${record.name}`, scope);
      ctx.services.access.requireOwnerOrAdmin(ctx.actor, record.owner, `remove the worktree of ${record.name}`, scope);
      return finish(ctx, record.name, [], force, 'the OpenCode session stays');
    }
    const task = taskOf(ctx, record, 'kill');
    const scope = { name: record.name, executor: task.executor };
    ctx.services.access.require(ctx.actor, 'work', `kill ${record.name}`, scope);
    ctx.services.access.requireOwnerOrAdmin(ctx.actor, task.actor, `kill ${record.name}`, scope);
    if (cleanup && isFinal(task.status)) return cleanedUp(ctx, record.name, `task **${record.name}** already finished (${task.status})`, force);
    const killed = await ctx.services.fleet.kill(record.name);
    const stopped = `⏹ killed task **${record.name}** on ${killed.executor} (and every process it started)`;
    return cleanup ? cleanedUp(ctx, record.name, stopped, force) : reply(stopped, { data: killed });
  },
};

/** Removes the task's directory on its host; its log's last lines stay in the database for `logs`. Then its worktree. */
async function cleanedUp(ctx: KillContext, name: string, before: string, force: boolean): Promise<Reply> {
  const cleaned = await ctx.services.fleet.cleanup(name);
  const said = [before, `🧹 its directory on ${cleaned.executor} is removed, and \`logs ${name}\` still shows the last lines of its log`];
  if (!ctx.services.worktrees.of(name)) return reply(said.join('; '), { data: cleaned });
  return finish(ctx, name, said, force, undefined, cleaned);
}

/**
 * Removes the name's worktree after whatever was done already (`said`). A refusal (uncommitted changes) is an
 * error of its own when nothing else happened, and a warning after what did.
 */
async function finish(ctx: KillContext, name: string, said: string[], force: boolean, note?: string, data?: unknown): Promise<Reply> {
  try {
    const removed = await ctx.services.worktrees.remove(name, { force });
    if (!removed) return reply(said.join('; '), { data });
    const { row, outcome } = removed;
    const what =
      outcome === 'gone'
        ? `🌿 its worktree ${row.path} on ${row.executor} was already gone (forgotten now); branch \`${row.branch}\` stays`
        : `🌿 its worktree ${row.path} on ${row.executor} is removed${force ? ' (forced)' : ''}; branch \`${row.branch}\` stays`;
    return reply([...said, what].join('; ') + (note ? ` (${note})` : ''), { tone: 'success', data: { ...(data && typeof data === 'object' ? data : {}), worktree: row.path, branch: row.branch } });
  } catch (error) {
    if (said.length === 0 || !isSwitchboardError(error) || error.code !== 'worktree_refused') throw error;
    return reply(`${said.join('; ')}; ⚠️ but ${error.message}\n${error.hint ?? ''}`.trim(), { tone: 'warning', data });
  }
}
