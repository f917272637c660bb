import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import type { CommandDefinition } from '../context.js';
import { requireAnswerer } from '../answerer.js';
import { onSession, opencodeName, requireName } from '../targets.js';

export const approve: CommandDefinition<'access' | 'monitor' | 'registry' | 'servers'> = {
  verb: 'approve',
  summary: 'allow the tool call a name is waiting on (once, or always for that pattern)',
  positionals: [{ name: 'name' }, { name: 'scope', optional: true }],
  options: [],
  level: 'work',
  examples: ['approve kumo', 'approve kumo always'],
  async handle(ctx) {
    const record = requireName(ctx);
    const scope = (ctx.args.scope ?? 'once').toLowerCase();
    if (scope !== 'once' && scope !== 'always') {
      throw new SwitchboardError('usage', `approve takes \`once\` or \`always\`, not \`${scope.slice(0, 20)}\``, { hint: 'usage: approve <name> [once|always]' });
    }
    requireAnswerer(ctx, record, `answer the permission requests of ${record.name}`);
    const target = opencodeName(ctx, record, 'approve');
    const pending = (await onSession(target, () => target.client.permissions(target.target.directory))).filter((p) => p.sessionID === target.target.sessionId);
    const request = pending[0];
    if (!request) throw new SwitchboardError('nothing_pending', `**${record.name}** is not waiting for a permission`);
    await target.client.replyPermission(request.id, target.target.directory, scope);
    const what = [request.permission, ...request.patterns].join(' ');
    return reply(`✅ approved ${scope === 'always' ? 'always' : 'once'} for **${record.name}**: \`${what}\` (by ${ctx.actor.id})`, {
      data: { name: record.name, requestId: request.id, reply: scope },
    });
  },
};
