import { reply, text, verbatim } from '../../core/reply.js';
import type { CommandDefinition } from '../context.js';
import { requireName, scopeOf } from '../targets.js';
import { taskOf } from '../task-names.js';

export const logs: CommandDefinition<'access' | 'fleet' | 'registry'> = {
  verb: 'logs',
  summary: 'the last lines of a task’s log',
  positionals: [{ name: 'name' }],
  options: [{ name: 'lines', value: 'int', placeholder: 'N', description: 'how many lines (default 40, at most 2000)' }],
  level: 'read',
  examples: ['logs auth', 'logs auth --lines 200'],
  async handle(ctx) {
    const record = requireName(ctx);
    ctx.services.access.require(ctx.actor, 'read', `read ${record.name}`, scopeOf(record));
    taskOf(ctx, record, 'logs');
    const lines = Math.min(Math.max(Number(ctx.options.lines ?? 40), 1), 2_000);
    const body = await ctx.services.fleet.logs(record.name, lines);
    if (!body.trim()) return reply(`**${record.name}** has no output yet.`, { data: { name: record.name, log: '' } });
    return reply([text(`**${record.name}** · last ${lines} lines`), verbatim(body)], { data: { name: record.name, log: body } });
  },
};
