// The host scripts that launch, wait for, probe and stop `opencode serve` in tmux, run over the host's transport.
import { SwitchboardError } from '../errors.js';
import type { Logger } from '../core/logger.js';
import { KILL_SCRIPT, parseFields, shellEnvFile } from '../executors/index.js';
import { LAUNCH_SCRIPT, PREPARE_SCRIPT, PROBE_SCRIPT, REMOVE_SCRIPT, SERVER_WRAPPER, WAIT_SCRIPT } from './host-scripts.js';
import type { Host } from './host-registry.js';
import type { HostRow } from './store.js';

async function run(host: Host, script: string, args: string[], what: string, timeoutMs?: number): Promise<Map<string, string>> {
  const result = await host.transport.exec(script, { args, ...(timeoutMs ? { timeoutMs } : {}) });
  if (result.code !== 0) {
    throw new SwitchboardError('server_start_failed', `${host.where}: could not ${what}: ${result.stderr.trim().split('\n')[0] || `exit ${result.code}`}`);
  }
  return parseFields(result.stdout);
}

/** The last lines of the server's log, as a script sent them (base64), on one line. */
function logTail(fields: Map<string, string>): string {
  const b64 = fields.get('log');
  if (!b64) return '';
  return Buffer.from(b64, 'base64').toString('utf8').trim().split('\n').slice(-6).join(' / ').slice(0, 800);
}

export interface Launched {
  dir: string;
  session: string;
  /** The executor user's home directory. */
  home: string | null;
  /** The opencode binary found on the host. */
  opencode: string;
}

/** Finds tmux and opencode, makes the server's directory with its wrapper and env file, and starts it in tmux. */
export async function launchServer(host: Host, input: { password: string; serverId: string; previousDir: string | null }): Promise<Launched> {
  const executor = host.config.name;
  const opencodeName = host.config.opencodePath ?? 'opencode';
  const prep = await run(host, PREPARE_SCRIPT, [host.config.tmuxPath, opencodeName, host.config.tasksDir ?? '', input.previousDir ?? ''], 'inspect the host');
  const tmux = prep.get('tmux');
  const opencode = prep.get('opencode');
  if (!tmux) {
    throw new SwitchboardError('missing_tool', `tmux not found on ${host.where} (PATH=${prep.get('path') ?? ''})`, {
      hint: `Install tmux on that host, or set tmuxPath for '${executor}' in switchboard.yaml.`,
    });
  }
  if (!opencode) {
    throw new SwitchboardError('missing_tool', `opencode not found on ${host.where}: looked for '${opencodeName}' (PATH=${prep.get('path') ?? ''})`, {
      hint: `Install it there (npm i -g opencode-ai, or curl -fsSL https://opencode.ai/install | bash), or set opencodePath for '${executor}' in switchboard.yaml.`,
    });
  }
  const dir = prep.get('dir');
  if (!dir) throw new SwitchboardError('server_start_failed', `${host.where}: mktemp -d did not make a directory for the server`);
  const session = `sb-opencode-${executor}`;
  await Promise.all([
    host.transport.writeFile(`${dir}/wrapper.sh`, SERVER_WRAPPER, 0o700),
    host.transport.writeFile(`${dir}/env`, shellEnvFile({ ...host.config.env, OPENCODE_SERVER_PASSWORD: input.password, SWITCHBOARD_TASK: input.serverId }), 0o600),
  ]);
  await run(host, LAUNCH_SCRIPT, [tmux, host.config.tmuxSocket, session, dir, opencode, input.serverId], 'start opencode in tmux');
  return { dir, session, home: prep.get('home') ?? null, opencode };
}

/** Waits for the launched server to print its port: the port, or why not and the tail of its output. */
export async function waitForPort(host: Host, dir: string, startTimeoutMs: number): Promise<{ port: number } | { why: string; output: string }> {
  const waited = await run(host, WAIT_SCRIPT, [dir, String(startTimeoutMs)], 'wait for opencode', startTimeoutMs + 30_000);
  const port = Number(waited.get('port'));
  if (waited.has('ready') && port) return { port };
  const why = waited.has('died')
    ? `it exited${waited.get('exit_code') ? ` with code ${waited.get('exit_code')}` : ''}`
    : `it printed no port within ${Math.round(startTimeoutMs / 1000)} s`;
  return { why, output: logTail(waited) };
}

/** Probes the owned server: alive with a port, or dead (with why). Throws when the host cannot be reached. */
export async function probeServer(host: Host, row: HostRow): Promise<{ alive: true; port: number } | { alive: false; why: string }> {
  const fields = await run(host, PROBE_SCRIPT, [row.dir ?? '/nonexistent', host.config.tmuxPath, host.config.tmuxSocket, row.session], 'probe the OpenCode server');
  if (fields.has('gone')) return { alive: false, why: `its directory ${row.dir} is gone (the host rebooted?)` };
  const port = Number(fields.get('port'));
  if (fields.get('alive') === '1' && port) return { alive: true, port };
  const code = fields.get('exit_code');
  const tail = logTail(fields);
  return { alive: false, why: `it exited${code ? ` with code ${code}` : ''}${tail ? `: ${tail}` : ''}` };
}

/** Stops the server the row describes (best effort: failures are logged) and, with removeDir, its directory. */
export async function stopServer(host: Host, row: HostRow, options: { removeDir: boolean; graceMs: number; logger: Logger }): Promise<void> {
  const { graceMs } = options;
  const tmux = host.config.tmuxPath;
  try {
    const prep = await run(host, PREPARE_SCRIPT, [tmux, host.config.opencodePath ?? 'opencode', '', row.dir ?? ''], 'find tmux');
    await host.transport.exec(KILL_SCRIPT, {
      args: [prep.get('tmux') || tmux, host.config.tmuxSocket, row.session, row.dir ?? '/nonexistent', row.serverId, String(graceMs)],
      timeoutMs: graceMs * 4 + 60_000,
    });
    if (options.removeDir && row.dir) await host.transport.exec(REMOVE_SCRIPT, { args: [row.dir] });
  } catch (error) {
    options.logger.warn('could not stop an OpenCode server', { executor: row.executor, error: String(error) });
  }
}
