import { reply } from '../../core/reply.js';
import { isFinal } from '../../executors/index.js';
import type { CommandDefinition, ContextWith } from '../context.js';
import { requireName } from '../targets.js';
import { taskOf } from '../task-names.js';

export const kill: CommandDefinition<'access' | 'fleet' | 'registry'> = {
  verb: 'kill',
  summary: 'stop a task and everything it started; --cleanup then removes its directory',
  positionals: [{ name: 'name' }],
  options: [{ name: 'cleanup', value: 'flag', description: 'remove the task directory on its host, keeping the last lines of its log (works on finished tasks too)' }],
  level: 'work',
  examples: ['kill auth', 'kill auth --cleanup'],
  async handle(ctx) {
    const record = requireName(ctx);
    const task = taskOf(ctx, record, 'kill');
    const scope = { name: record.name, executor: task.executor };
    ctx.services.access.require(ctx.actor, 'work', `kill ${record.name}`, scope);
    ctx.services.access.requireOwnerOrAdmin(ctx.actor, task.actor, `kill ${record.name}`, scope);
    const cleanup = ctx.options.cleanup === true;
    if (cleanup && isFinal(task.status)) return cleanedUp(ctx, record.name, `task **${record.name}** already finished (${task.status})`);
    const killed = await ctx.services.fleet.kill(record.name);
    const stopped = `⏹ killed task **${record.name}** on ${killed.executor} (and every process it started)`;
    return cleanup ? cleanedUp(ctx, record.name, stopped) : reply(stopped, { data: killed });
  },
};

/** Removes the task's directory on its host; its log's last lines stay in the database for `logs`. */
async function cleanedUp(ctx: ContextWith<'access' | 'fleet' | 'registry'>, name: string, before: string) {
  const cleaned = await ctx.services.fleet.cleanup(name);
  return reply(`${before}; 🧹 its directory on ${cleaned.executor} is removed, and \`logs ${name}\` still shows the last lines of its log`, {
    data: cleaned,
  });
}
