import { reply } from '../../core/reply.js';
import type { CommandDefinition } from '../context.js';
import { selectableAgents, serverFor } from '../servers.js';

export const agents: CommandDefinition = {
  verb: 'agents',
  summary: 'the agents a server offers',
  positionals: [{ name: 'server' }],
  options: [],
  level: 'read',
  examples: ['agents lab', 'agents http://127.0.0.1:4096'],
  async handle(ctx) {
    const { ref, client } = await serverFor(ctx, ctx.args.server!);
    ctx.audit.target = ref.label;
    const list = selectableAgents(await client.agents());
    const lines = list.map((agent) => `• **${agent.name}**${agent.description ? ` — ${agent.description}` : ''}`);
    return reply([`Agents on ${ref.label}:`, ...lines].join('\n'), { data: list });
  },
};
