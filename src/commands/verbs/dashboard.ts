import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import type { CommandDefinition } from '../context.js';
import { requireName, scopeOf } from '../targets.js';

export const dashboard: CommandDefinition<'access' | 'registry' | 'web'> = {
  verb: 'dashboard',
  summary: 'a private one-time link to the live fleet page (read-only)',
  positionals: [{ name: 'name', optional: true }],
  options: [],
  level: 'read',
  examples: ['dashboard', 'dashboard kumo'],
  details:
    'The link is yours alone: it works once, within 15 minutes, and opens an 8-hour session in that browser. The page shows what your ' +
    'role lets you see, and changes nothing. Someone who may see only some names (`access.names`) asks with one of them: `dashboard kumo`.',
  async handle(ctx) {
    const web = ctx.services.web;
    if (!web) {
      throw new SwitchboardError('usage', 'the fleet page is off: this bot has no WEB_PORT', {
        hint: 'an operator sets WEB_PORT (and WEB_URL, the public https address behind a proxy; WEB_HOST, default 127.0.0.1) in .env or the environment, then restarts Switchboard',
      });
    }
    let focus = '';
    if (ctx.args.name !== undefined) {
      const record = requireName(ctx);
      ctx.services.access.require(ctx.actor, 'read', `see ${record.name}`, scopeOf(record));
      focus = `#${record.name}`;
    }
    const link = `${web.link(ctx.actor)}${focus}`;
    return reply(`🔗 Your fleet page (private, works once, within 15 minutes): ${link}`, { privately: true, data: { link } });
  },
};
