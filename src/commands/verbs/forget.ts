import { reply } from '../../core/reply.js';
import type { CommandDefinition } from '../context.js';
import { requireName } from '../targets.js';

export const forget: CommandDefinition = {
  verb: 'forget',
  summary: 'drop a name (the remote session or task is never deleted)',
  positionals: [{ name: 'name' }],
  options: [],
  level: 'admin',
  examples: ['forget kumo'],
  async handle(ctx) {
    const record = requireName(ctx);
    ctx.services.monitor.unwatch(record.name);
    ctx.services.registry.remove(record.name);
    const what =
      record.target.kind === 'opencode'
        ? `OpenCode session ${record.target.sessionId} on ${record.target.server}`
        : `task ${record.target.taskId} on ${record.target.executor}`;
    return reply(`🗑 forgot **${record.name}**; its ${what} was left untouched`, { data: { name: record.name } });
  },
};
