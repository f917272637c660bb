import { SwitchboardError } from '../../errors.js';
import { reply } from '../../core/reply.js';
import { channelOf } from '../../core/origin.js';
import { assertValidName } from '../../sessions/names.js';
import type { CommandDefinition } from '../context.js';
import { serverFor } from '../servers.js';

const SESSION_ID = /^ses_[A-Za-z0-9]{6,64}$/;

export const attach: CommandDefinition = {
  verb: 'attach',
  summary: 'give a name to an existing OpenCode session',
  positionals: [{ name: 'name' }, { name: 'server' }, { name: 'session-id' }],
  options: [],
  level: 'work',
  examples: ['attach kumo lab ses_df592262effeDvyzn90p5tuytj'],
  async handle(ctx) {
    const { registry } = ctx.services;
    const name = assertValidName(ctx.args.name!);
    ctx.audit.target = name;
    if (registry.isTaken(name)) {
      throw new SwitchboardError('name_taken', `the name \`${name}\` is already taken`, { hint: `pick another name, or \`forget ${name}\` first` });
    }
    const sessionId = ctx.args['session-id']!;
    if (!SESSION_ID.test(sessionId)) {
      throw new SwitchboardError('usage', `\`${sessionId.slice(0, 60)}\` is not an OpenCode session id (they look like ses_df592262effeDvyzn90p5tuytj)`);
    }
    const { ref, client } = await serverFor(ctx, ctx.args.server!);
    let session;
    try {
      session = await client.getSession(sessionId);
    } catch (error) {
      if (error instanceof SwitchboardError && error.code === 'session_gone') {
        throw new SwitchboardError('session_gone', `server ${ref.label} has no session ${sessionId}`, { cause: error });
      }
      throw error;
    }
    registry.insert({
      name,
      target: { kind: 'opencode', server: ref.label, serverUrl: ref.url, sessionId: session.id, directory: session.directory },
      ...(session.agent ? { agent: session.agent } : {}),
      ...(session.model ? { model: `${session.model.providerID}/${session.model.id}` } : {}),
      owner: ctx.actor.id,
      origin: channelOf(ctx.origin),
    });
    return reply(
      [
        `🔗 **${name}** → OpenCode session \`${session.id}\` on ${ref.label}${session.title ? ` (“${session.title}”)` : ''}`,
        `dir ${session.directory}${session.agent ? ` · agent ${session.agent}` : ''}`,
      ].join('\n'),
      { tone: 'success', data: { name, server: ref.label, sessionId: session.id, directory: session.directory } },
    );
  },
};
