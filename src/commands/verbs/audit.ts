import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import { firstLine } from '../../core/format.js';
import { assertValidName } from '../../sessions/names.js';
import type { CommandDefinition } from '../context.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export function parseSince(raw: string): number {
  const match = /^(\d{1,4})([mhdw])$/.exec(raw.trim());
  if (!match) throw new SwitchboardError('usage', `\`${raw.slice(0, 20)}\` is not a period: use 30m, 12h, 1d or 2w`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

export const audit: CommandDefinition<'access' | 'audit' | 'clock'> = {
  verb: 'audit',
  summary: 'who sent what, where and when, with the outcome',
  positionals: [{ name: 'name', optional: true }],
  options: [
    { name: 'since', value: 'string', placeholder: 'PERIOD', description: 'how far back: 30m, 12h, 1d (default 1d)' },
    { name: 'limit', value: 'int', placeholder: 'N', description: 'at most this many entries (default 50)' },
  ],
  level: 'work',
  examples: ['audit', 'audit kumo --since 2d'],
  details: 'Members see their own commands; admins see everyone’s.',
  async handle(ctx) {
    const name = ctx.args.name;
    if (name !== undefined) assertValidName(name);
    const since = ctx.services.clock.now() - parseSince(String(ctx.options.since ?? '1d'));
    const limit = Math.min(Number(ctx.options.limit ?? 50), 500);
    const admin = ctx.services.access.isAdmin(ctx.actor, name ? { name } : {});
    const entries = ctx.services.audit
      .list({ ...(name ? { target: name } : {}), since, limit: admin ? limit : 500 })
      .filter((entry) => admin || entry.actor === ctx.actor.id)
      .slice(-limit);
    if (entries.length === 0) return reply(`No audit entries${name ? ` for ${name}` : ''} in that period.`, { data: [] });
    const lines = entries.map((entry) => {
      const when = new Date(entry.at).toISOString().replace('T', ' ').slice(0, 19);
      const what = entry.prompt !== undefined ? `${entry.command ?? entry.verb}: “${firstLine(entry.prompt, 80)}”` : (entry.command ?? entry.verb);
      const outcome = entry.outcome === 'ok' ? '✅' : `❌ ${entry.outcome.replace(/^error:/, '')}`;
      const by = entry.scheduleId !== undefined ? `${entry.actor} (⏰ schedule #${entry.scheduleId})` : entry.actor;
      return `${when}Z · ${by} · ${entry.origin} · ${firstLine(what, 140)} · ${outcome}`;
    });
    return reply(lines.join('\n'), { data: entries });
  },
};
