import { reply } from '../../core/reply.js';
import type { CommandDefinition } from '../context.js';

export const executors: CommandDefinition<'fleet'> = {
  verb: 'executors',
  summary: 'configured executors, reachability, running tasks',
  positionals: [],
  options: [],
  level: 'read',
  async handle(ctx) {
    const list = await ctx.services.fleet.list();
    if (list.length === 0) {
      return reply('No executors configured. Add some under `executors:` in switchboard.yaml (`switchboard config --init` writes a sample).', { data: [] });
    }
    const lines = list.map((e) => {
      const head = `${e.reachable && e.problems.length === 0 ? '✅' : e.reachable ? '⚠️' : '❌'} **${e.name}** (${e.type}${e.labels.length ? `, ${e.labels.join(', ')}` : ''}) · ${e.where}`;
      const load = `${e.running} running${e.queued ? `, ${e.queued} queued` : ''} (max ${e.maxConcurrent})`;
      const problems = e.problems.length ? `\n   ${e.problems.join('\n   ')}` : '';
      return `${head} · ${e.reachable ? 'reachable' : 'unreachable'} · ${load}${problems}`;
    });
    return reply(lines.join('\n'), { data: list });
  },
};
