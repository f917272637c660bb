import { reply } from '../../core/reply.js';
import type { CommandDefinition } from '../context.js';
import { requireName } from '../targets.js';
import { taskOf } from '../task-names.js';

export const kill: CommandDefinition = {
  verb: 'kill',
  summary: 'stop a task and everything it started',
  positionals: [{ name: 'name' }],
  options: [],
  level: 'work',
  examples: ['kill auth'],
  async handle(ctx) {
    const record = requireName(ctx);
    const task = taskOf(ctx, record, 'kill');
    ctx.services.access.require(ctx.actor, 'work', `kill ${record.name}`, { name: record.name, executor: task.executor });
    ctx.services.access.requireOwnerOrAdmin(ctx.actor, task.actor, `kill ${record.name}`, { name: record.name, executor: task.executor });
    const killed = await ctx.services.fleet.kill(record.name);
    return reply(`⏹ killed task **${record.name}** on ${killed.executor} (and every process it started)`, { data: killed });
  },
};
