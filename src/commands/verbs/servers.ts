import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import { formatDuration } from '../../core/format.js';
import { managedExecutorOf } from '../../opencode/server-directory.js';
import type { CommandDefinition, ContextWith } from '../context.js';

const ICON: Record<string, string> = { running: '✅', unreachable: '⚠️', failed: '❌', 'not attached': '⏳' };

export const servers: CommandDefinition<'access' | 'clock' | 'config' | 'hosts'> = {
  verb: 'servers',
  summary: 'OpenCode servers: the configured ones and those Switchboard runs on executors',
  positionals: [
    { name: 'action', optional: true },
    { name: 'server', optional: true },
  ],
  options: [],
  level: 'read',
  examples: ['servers', 'servers restart @crib', 'servers stop @crib'],
  details:
    'A server Switchboard runs (`new <name> @<executor>`) listens on the executor’s 127.0.0.1 only and is reached through SSH. ' +
    'Switchboard restarts it when it dies and re-attaches to it when Switchboard itself restarts (with SWITCHBOARD_SECRET set; without it, ' +
    'the password lives in memory only, so the server is restarted with a new one). `stop` ends it (its sessions stay on disk there).',
  async handle(ctx) {
    const action = ctx.args.action;
    if (action === undefined) return list(ctx);
    if (action !== 'restart' && action !== 'stop') {
      throw new SwitchboardError('usage', `unknown action \`${action.slice(0, 40)}\`: servers [restart|stop @executor]`);
    }
    const label = ctx.args.server;
    const executor = label === undefined ? null : managedExecutorOf(label);
    if (executor === null) throw new SwitchboardError('usage', `\`servers ${action}\` needs @<executor>, a server Switchboard runs`);
    const { hosts, access } = ctx.services;
    ctx.audit.target = label;
    access.require(ctx.actor, 'work', `${action} the OpenCode server on ${executor}`, { executor });
    if (!hosts.list().some((s) => s.executor === executor)) {
      throw new SwitchboardError('usage', `Switchboard runs no OpenCode server on ${label}`, { hint: `\`new <name> ${label}\` starts one` });
    }
    if (action === 'stop') {
      await hosts.stop(executor);
      return reply(`⏹ stopped the OpenCode server on ${label}. Names on it stay; \`servers restart ${label}\` or \`new <name> ${label}\` starts it again.`, { data: { executor } });
    }
    const server = await hosts.restart(executor);
    return reply(`♻️ restarted the OpenCode server on ${label} (port ${server.remotePort} there, ${server.url} here).`, { data: { executor, url: server.url } });
  },
};

function list(ctx: ContextWith<'access' | 'clock' | 'config' | 'hosts'>) {
  const { config, hosts, clock } = ctx.services;
  const lines: string[] = [];
  for (const server of config.servers) lines.push(`• **${server.name}** ${server.url} (configured)`);
  const managed = hosts.list();
  for (const s of managed) {
    const up = s.startedAt && s.state === 'running' ? ` · up ${formatDuration(clock.now() - s.startedAt)}` : '';
    const where = s.url ? ` · port ${s.remotePort} there, ${s.url} here` : s.remotePort ? ` · port ${s.remotePort} there` : '';
    const restarts = s.restarts ? ` · ${s.restarts} restart${s.restarts === 1 ? '' : 's'}` : '';
    const password = s.passwordKept ? '' : ' · password in memory only (set SWITCHBOARD_SECRET to keep it across restarts)';
    const problem = s.lastError && s.state !== 'running' ? `\n   ${s.lastError}` : '';
    lines.push(`${ICON[s.state] ?? '•'} **${s.label}** ${s.state} · ${s.where}${where}${up}${restarts}${password}${problem}`);
  }
  const hostable = config.executors.filter((e) => e.type !== 'container' && !managed.some((m) => m.executor === e.name)).map((e) => `@${e.name}`);
  if (hostable.length) lines.push(`Switchboard can run one on ${hostable.join(', ')}: \`new <name> @<executor>\`.`);
  if (lines.length === 0) return reply('No OpenCode servers: name some under `servers:` in switchboard.yaml, or add an ssh executor and use `new <name> @<executor>`.', { data: { configured: [], managed: [] } });
  return reply(lines.join('\n'), { data: { configured: config.servers.map((s) => ({ name: s.name, url: s.url })), managed } });
}
