import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import type { CommandDefinition } from '../context.js';
import { droppedNote } from '../follow-ups.js';
import { onSession, opencodeName, requireName, scopeOf } from '../targets.js';

export const abort: CommandDefinition<'access' | 'fleet' | 'followUps' | 'registry' | 'servers'> = {
  verb: 'abort',
  summary: 'stop what a name is doing and drop its queued prompts',
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
    if (record.target.kind === 'opencode') {
      const target = opencodeName(ctx, record, 'abort');
      // The server answers `true` even for sessions it does not know, so check the session first.
      await onSession(target, () => target.client.getSession(target.target.sessionId));
    }
    // Dropped before the run stops: its end must not start the next queued prompt.
    const dropped = ctx.services.followUps.drop(record.name);
    const dropNote = dropped.length ? `; ${droppedNote(dropped)}` : '';
    const data = { name: record.name, dropped: dropped.map((e) => ({ actor: e.actor, queuedAt: e.queuedAt })) };
    if (record.target.kind === 'task') {
      try {
        const killed = await ctx.services.fleet.kill(record.name);
        return reply(`⏹ stopped task **${record.name}** on ${killed.executor}${dropNote}`, { data });
      } catch (error) {
        // Nothing was running, but the queue was still worth dropping: say that rather than fail.
        if (dropped.length && error instanceof SwitchboardError && error.code === 'task_not_running') {
          return reply(`⏹ **${record.name}** was not running${dropNote}`, { data });
        }
        // The queue is gone whatever happened to the kill: the error says so too.
        if (dropped.length && error instanceof SwitchboardError) {
          throw new SwitchboardError(error.code, `${error.message}${dropNote}`, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
        }
        throw error;
      }
    }
    const target = opencodeName(ctx, record, 'abort');
    await target.client.abort(target.target.sessionId);
    return reply(`⏹ abort sent to **${record.name}**${dropNote}`, { data });
  },
};
