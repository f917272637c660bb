import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import type { CommandDefinition } from '../context.js';
import { requireAnswerer } from '../answerer.js';
import { onSession, opencodeName, requireName } from '../targets.js';

export const deny: CommandDefinition<'access' | 'monitor' | 'registry' | 'servers'> = {
  verb: 'deny',
  summary: 'refuse the tool call (or decline the question) a name is waiting on',
  positionals: [{ name: 'name' }],
  options: [],
  text: { name: 'message', required: false },
  level: 'work',
  examples: ['deny kumo', 'deny kumo use the staging database instead'],
  details: 'With a message the agent reads it and carries on; without one it stops.',
  async handle(ctx) {
    const record = requireName(ctx);
    requireAnswerer(ctx, record, `answer the permission requests of ${record.name}`);
    const target = opencodeName(ctx, record, 'deny');
    const { directory, sessionId } = target.target;
    const message = ctx.text?.trim() ? ctx.text : undefined;
    const permission = (await onSession(target, () => target.client.permissions(directory))).find((p) => p.sessionID === sessionId);
    if (permission) {
      await target.client.replyPermission(permission.id, directory, 'reject', message);
      return reply(`🚫 denied for **${record.name}**: \`${[permission.permission, ...permission.patterns].join(' ')}\`${message ? ' (with your message)' : ''} (by ${ctx.actor.id})`, {
        data: { name: record.name, requestId: permission.id, reply: 'reject' },
      });
    }
    const question = (await target.client.questions(directory)).find((q) => q.sessionID === sessionId);
    if (question) {
      await target.client.rejectQuestion(question.id, directory);
      return reply(`🚫 declined the question of **${record.name}** (by ${ctx.actor.id})`, { data: { name: record.name, requestId: question.id } });
    }
    throw new SwitchboardError('nothing_pending', `**${record.name}** is not waiting for a permission or an answer`);
  },
};
