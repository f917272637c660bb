import { reply } from '../../core/reply.js';
import type { CommandDefinition } from '../context.js';
import { onSession, opencodeName, requireName, scopeOf } from '../targets.js';

export const abort: CommandDefinition = {
  verb: 'abort',
  summary: 'stop what a name is doing',
  positionals: [{ name: 'name' }],
  options: [],
  level: 'work',
  examples: ['abort kumo'],
  async handle(ctx) {
    const record = requireName(ctx);
    ctx.services.access.require(ctx.actor, 'work', `abort ${record.name}`, scopeOf(record));
    const lastSender = record.lastPromptId ? ctx.services.registry.prompt(record.lastPromptId)?.actor : undefined;
    if (lastSender !== ctx.actor.id) {
      ctx.services.access.requireOwnerOrAdmin(ctx.actor, lastSender ?? record.owner, `abort ${record.name}`, scopeOf(record));
    }
    if (record.target.kind === 'task') {
      const killed = await ctx.services.fleet.kill(record.name);
      return reply(`⏹ stopped task **${record.name}** on ${killed.executor}`, { data: { name: record.name } });
    }
    const target = opencodeName(ctx, record, 'abort');
    // The server answers `true` even for sessions it does not know, so check the session first.
    await onSession(target, () => target.client.getSession(target.target.sessionId));
    await target.client.abort(target.target.sessionId);
    return reply(`⏹ abort sent to **${record.name}**`, { data: { name: record.name } });
  },
};
