import { reply } from '../../core/reply.js';
import type { CommandDefinition } from '../context.js';
import { droppedNote } from '../follow-ups.js';
import { requireName } from '../targets.js';

export const forget: CommandDefinition<'fleet' | 'followUps' | 'monitor' | 'registry'> = {
  verb: 'forget',
  summary: 'drop a name (the remote session or task is never deleted)',
  positionals: [{ name: 'name' }],
  options: [],
  level: 'admin',
  examples: ['forget kumo'],
  async handle(ctx) {
    const record = requireName(ctx);
    // A task's record goes with its name; a live task must be killed first (never left running unnamed).
    if (record.target.kind === 'task' && ctx.services.fleet.get(record.name)) await ctx.services.fleet.forget(record.name);
    ctx.services.monitor.unwatch(record.name);
    // Prompts queued for this name must never reach a later name spelled the same.
    const dropped = ctx.services.followUps.drop(record.name);
    ctx.services.registry.remove(record.name);
    const what =
      record.target.kind === 'opencode'
        ? `its OpenCode session ${record.target.sessionId} on ${record.target.server} was left untouched`
        : `the task's log directory on ${record.target.executor} was cleaned up; its workspace was left untouched`;
    const dropNote = dropped.length ? `; ${droppedNote(dropped)}` : '';
    return reply(`🗑 forgot **${record.name}**; ${what}${dropNote}`, { data: { name: record.name, dropped: dropped.length } });
  },
};
