import { reply } from '../../core/reply.js';
import type { CommandDefinition } from '../context.js';
import { droppedNote } from '../follow-ups.js';
import { requireName } from '../targets.js';
import { dropName } from '../drop-name.js';

export const forget: CommandDefinition<'budgets' | 'fleet' | 'followUps' | 'monitor' | 'registry'> = {
  verb: 'forget',
  summary: 'drop a name (the remote session or task is never deleted)',
  positionals: [{ name: 'name' }],
  options: [],
  level: 'admin',
  examples: ['forget kumo'],
  async handle(ctx) {
    const record = requireName(ctx);
    const dropped = await dropName(ctx.services, record);
    ctx.services.budgets?.clear(record.name);
    const what =
      record.target.kind === 'opencode'
        ? `its OpenCode session ${record.target.sessionId} on ${record.target.server} was left untouched`
        : `the task's log directory on ${record.target.executor} was cleaned up; its workspace was left untouched`;
    const dropNote = dropped.length ? `; ${droppedNote(dropped)}` : '';
    return reply(`🗑 forgot **${record.name}**; ${what}${dropNote}`, { data: { name: record.name, dropped: dropped.length } });
  },
};
