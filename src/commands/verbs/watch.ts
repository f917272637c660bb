import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import { parseInterval } from '../../monitor/interval.js';
import type { CommandDefinition } from '../context.js';
import { onSession, opencodeName, requireName, scopeOf } from '../targets.js';
import { taskOf } from '../task-names.js';
import { isFinal } from '../../executors/index.js';

export const watch: CommandDefinition<'access' | 'clock' | 'fleet' | 'monitor' | 'registry' | 'servers'> = {
  verb: 'watch',
  summary: 'post progress about a name every interval, and its final output when done',
  positionals: [{ name: 'name' }, { name: 'interval', optional: true }],
  options: [],
  level: 'work',
  examples: ['watch kumo', 'watch kumo 30s', 'watch kumo "*/10 * * * *"'],
  details: 'An interval is 30s, 5m, 1h or a cron expression; the default comes from `monitor.interval` in switchboard.yaml.',
  async handle(ctx) {
    const record = requireName(ctx);
    ctx.services.access.require(ctx.actor, 'work', `watch ${record.name}`, scopeOf(record));
    const interval = ctx.args.interval ? parseInterval(ctx.args.interval).text : undefined;
    if (record.target.kind === 'opencode') {
      const target = opencodeName(ctx, record, 'watch');
      // Checks the session exists now rather than at the first tick.
      await onSession(target, () => target.client.getSession(target.target.sessionId));
    } else {
      const task = taskOf(ctx, record, 'watch');
      if (isFinal(task.status)) throw new SwitchboardError('task_not_running', `task ${record.name} already ${task.status}; \`last ${record.name}\` shows its result`);
    }
    const info = ctx.services.monitor.watch({
      name: record.name,
      ...(interval ? { interval } : {}),
      since: ctx.services.clock.now(),
      sender: ctx.actor.id,
    });
    return reply(`👀 watching **${record.name}** every ${info.interval}; its final output comes here when it is done`, {
      data: { name: record.name, interval: info.interval },
    });
  },
};

export const unwatch: CommandDefinition<'access' | 'clock' | 'fleet' | 'monitor' | 'registry' | 'servers'> = {
  verb: 'unwatch',
  summary: 'stop posting progress about a name',
  positionals: [{ name: 'name' }],
  options: [],
  level: 'work',
  examples: ['unwatch kumo'],
  async handle(ctx) {
    const record = requireName(ctx);
    ctx.services.access.require(ctx.actor, 'work', `unwatch ${record.name}`, scopeOf(record));
    if (!ctx.services.monitor.unwatch(record.name)) {
      throw new SwitchboardError('usage', `**${record.name}** is not being watched`, { hint: `\`watch ${record.name}\` starts watching` });
    }
    return reply(`🙈 no longer watching **${record.name}**`, { data: { name: record.name } });
  },
};
