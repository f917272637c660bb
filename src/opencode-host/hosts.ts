// Why this file is long: start, attach, probe, stop, the supervisor's restart budget and the published refs
// of managed OpenCode servers share one in-memory map of live servers and tunnels. Issue 15 splits it by job
// (lifecycle, supervisor, published refs) on top of the one host layer it introduces.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Client } from 'ssh2';
import { SwitchboardError, toSwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { ExecutorConfig, LocalExecutorConfig, SshExecutorConfig } from '../executors/config.js';
import { describeExecutor, sshTargetFor } from '../executors/executor.js';
import { KILL_SCRIPT } from '../executors/protocol/host-scripts.js';
import { shellEnvFile } from '../executors/protocol/task-files.js';
import { parseFields } from '../executors/runtime/tmux-runtime.js';
import { createLocalTransport } from '../executors/transport/local.js';
import { createSshTransport, type SshTarget } from '../executors/transport/ssh.js';
import type { Transport } from '../executors/transport/transport.js';
import type { ServerRef } from '../opencode/server-ref.js';
import type { Db } from '../sessions/database.js';
import { LAUNCH_SCRIPT, PREPARE_SCRIPT, PROBE_SCRIPT, REMOVE_SCRIPT, SERVER_WRAPPER, WAIT_SCRIPT } from './host-scripts.js';
import { createSecretBox } from './secret-box.js';
import { createHostStore, type HostRow } from './store.js';
import { openTunnel, type Tunnel } from './tunnel.js';
import type { ConnectionGuard } from '../opencode/connection-guard.js';

export const OPENCODE_USERNAME = 'opencode';

export interface OpencodeHostsDeps {
  /** Opened with `opencodeHostMigrations` applied. */
  db: Db;
  executors: readonly ExecutorConfig[];
  clock: Clock;
  logger: Logger;
  runtimeEnv: Readonly<Record<string, string | undefined>>;
  homeDir?: string;
  readIdentity?: (path: string) => Buffer;
  /** SWITCHBOARD_SECRET: seals server passwords in the database. Without it they live in memory only. */
  secret?: string | undefined;
  /** Tests: the transport for an ssh executor's scripts. */
  connectSsh?: (target: SshTarget) => Transport;
  /** Tests: the ssh2 client for tunnels. */
  createSshClient?: () => Client;
  /** Checks the host's address on every SSH connection of a tunnel (default: system DNS, metadata refused). */
  connectionGuard?: ConnectionGuard;
  /** How long `opencode serve` may take to print its port (default 120 s; 5–15 s measured). */
  startTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL when stopping a server (default 5 s). */
  killGraceMs?: number;
  /** More restarts than this within restartWindowMs and Switchboard gives up (default 5 in 10 min). */
  maxRestarts?: number;
  restartWindowMs?: number;
  healthTimeoutMs?: number;
  onEvent?: (event: HostEvent) => void;
}

export type HostEvent =
  | { kind: 'started'; executor: string; url: string; remotePort: number; startMs: number; tunnelMs: number | null }
  | { kind: 'attached'; executor: string; url: string; remotePort: number }
  | { kind: 'restarted'; executor: string; reason: string; url: string }
  /** The bot restarted without the password (no or another SWITCHBOARD_SECRET): the server was restarted with a new one. */
  | { kind: 'password_reset'; executor: string; reason: string }
  | { kind: 'failed'; executor: string; error: string }
  | { kind: 'unreachable'; executor: string; error: string }
  | { kind: 'back'; executor: string };

/** A server Switchboard runs on an executor, as the rest of the core uses it. */
export interface ManagedServer {
  executor: string;
  /** `@<executor>`: what users type and what registered sessions store. */
  label: string;
  /** The local end of the tunnel (ssh), or the server itself (local executor); changes across bot restarts. */
  url: string;
  username: string;
  password: string;
  /** The executor user's home, for `--dir ~/repo`. */
  home: string;
  remotePort: number;
  startedAt: number;
  restarts: number;
}

export interface ManagedServerStatus {
  executor: string;
  label: string;
  where: string;
  state: 'running' | 'failed' | 'unreachable' | 'not attached';
  url: string | null;
  remotePort: number | null;
  startedAt: number | null;
  restarts: number;
  lastError: string | null;
  /** False without SWITCHBOARD_SECRET: a bot restart means a server restart. */
  passwordKept: boolean;
}

export interface OpencodeHosts {
  /** The executor's server: attached if Switchboard already runs one there, started otherwise. */
  ensure(executor: string): Promise<ManagedServer>;
  /** ensure(), as the ServerRef the core keeps (see current()). */
  ref(executor: string): Promise<ServerRef>;
  /**
   * The server Switchboard already owns there, attached if this process has not yet (a one-shot CLI command);
   * never starts one that was stopped or given up on: that is a user's decision (`new … @x`, `servers restart`).
   */
  attached(executor: string): Promise<ServerRef>;
  /** Whether this executor can host a server (an ssh or local executor). */
  canHost(executor: string): boolean;
  /**
   * The connection to `@executor` as the core keeps it: one object per server for the life of the process, whose
   * password (and, for a local executor, URL) is updated in place when the server is restarted. Null for a server
   * Switchboard does not own. It may point at a server that is down: calls then fail as unreachable.
   */
  current(executor: string): ServerRef | null;
  /** Whether the server is up and attached in this process (using it costs nothing). */
  running(executor: string): boolean;
  /** The executor user's home directory, once known (for `--dir ~/repo`). */
  home(executor: string): string | null;
  /** Every password in memory, for the scrubber. */
  secrets(): string[];
  list(): ManagedServerStatus[];
  restart(executor: string, reason?: string): Promise<ManagedServer>;
  /** Stops the server on the host, removes its directory and forgets it. */
  stop(executor: string): Promise<void>;
  /** At bot start: attach to (or restart) every server Switchboard owns. */
  reattach(): Promise<HostEvent[]>;
  /** Probe every owned server once; restart the ones that died. */
  tick(): Promise<HostEvent[]>;
  /** Runs tick() every intervalMs until close(). */
  supervise(intervalMs: number): void;
  /** Closes tunnels and connections; the servers keep running on their hosts. */
  close(): Promise<void>;
}

interface Live {
  server: ManagedServer | null;
  tunnel: Tunnel | null;
  unreachable: boolean;
  restartTimes: number[];
}

interface Host {
  config: SshExecutorConfig | LocalExecutorConfig;
  where: string;
  transport: Transport;
  target: SshTarget | null;
  live: Live;
  tail: Promise<unknown>;
}

const LABEL_PREFIX = '@';

export { managedExecutorOf } from '../opencode/server-directory.js';

/**
 * OpenCode servers that Switchboard starts on executors and keeps up: `opencode serve --hostname 127.0.0.1` in a
 * tmux session on the host, a random password (sealed in the database with SWITCHBOARD_SECRET, else in memory),
 * reached through an SSH tunnel from a port on this machine's loopback.
 */
export function createOpencodeHosts(deps: OpencodeHostsDeps): OpencodeHosts {
  const store = createHostStore(deps.db);
  const box = createSecretBox(deps.secret);
  const homeDir = deps.homeDir ?? deps.runtimeEnv['HOME'] ?? '/';
  const startTimeoutMs = deps.startTimeoutMs ?? 120_000;
  const graceMs = deps.killGraceMs ?? 5_000;
  const maxRestarts = deps.maxRestarts ?? 5;
  const windowMs = deps.restartWindowMs ?? 10 * 60_000;
  const passwords = new Map<string, string>();
  const hosts = new Map<string, Host>();
  const refs = new Map<string, ServerRef>();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<HostEvent[]> | undefined;
  let closed = false;

  const emit = (events: HostEvent[], event: HostEvent) => {
    events.push(event);
    try {
      deps.onEvent?.(event);
    } catch (error) {
      deps.logger.error('opencode host event listener failed', { error: String(error) });
    }
  };

  function configOf(executor: string): SshExecutorConfig | LocalExecutorConfig {
    const config = deps.executors.find((e) => e.name === executor);
    if (!config) {
      const hostable = deps.executors.filter((e) => e.type !== 'container').map((e) => e.name);
      throw new SwitchboardError('unknown_executor', `no executor named '${executor}'`, {
        hint: hostable.length ? `executors that can run an OpenCode server: ${hostable.map((n) => `@${n}`).join(', ')}` : 'add an ssh executor under executors: in switchboard.yaml',
      });
    }
    if (config.type === 'container') {
      throw new SwitchboardError('usage', `${describeExecutor(config)} cannot run an OpenCode server for Switchboard; use an ssh or local executor`);
    }
    return config;
  }

  function hostOf(executor: string): Host {
    const existing = hosts.get(executor);
    if (existing) return existing;
    const config = configOf(executor);
    const where = describeExecutor(config);
    let transport: Transport;
    let target: SshTarget | null = null;
    if (config.type === 'local') transport = createLocalTransport({ env: deps.runtimeEnv });
    else {
      target = sshTargetFor(config, { runtimeEnv: deps.runtimeEnv, homeDir, readIdentity: deps.readIdentity ?? ((p) => readFileSync(p)) });
      transport = deps.connectSsh ? deps.connectSsh(target) : createSshTransport(target, { clock: deps.clock, logger: deps.logger });
    }
    const host: Host = { config, where, transport, target, live: { server: null, tunnel: null, unreachable: false, restartTimes: [] }, tail: Promise.resolve() };
    hosts.set(executor, host);
    return host;
  }

  /** Everything on one executor happens in order: a start, a probe and a stop never interleave. */
  function exclusive<T>(host: Host, fn: () => Promise<T>): Promise<T> {
    const run = host.tail.then(fn, fn);
    host.tail = run.catch(() => undefined);
    return run;
  }

  const sessionName = (executor: string) => `sb-opencode-${executor}`;
  const context = (row: Pick<HostRow, 'executor' | 'serverId'>) => `opencode-host:${row.executor}:${row.serverId}`;

  async function run(host: Host, script: string, args: string[], what: string, timeoutMs?: number): Promise<Map<string, string>> {
    const result = await host.transport.exec(script, { args, ...(timeoutMs ? { timeoutMs } : {}) });
    if (result.code !== 0) {
      throw new SwitchboardError('server_start_failed', `${host.where}: could not ${what}: ${result.stderr.trim().split('\n')[0] || `exit ${result.code}`}`);
    }
    return parseFields(result.stdout);
  }

  function logTail(fields: Map<string, string>): string {
    const b64 = fields.get('log');
    if (!b64) return '';
    return Buffer.from(b64, 'base64').toString('utf8').trim().split('\n').slice(-6).join(' / ').slice(0, 800);
  }

  /** Stops the server the row describes (best effort) and keeps nothing of it on the host. */
  async function stopOnHost(host: Host, row: HostRow, removeDir: boolean): Promise<void> {
    const tmux = host.config.tmuxPath;
    try {
      const prep = await run(host, PREPARE_SCRIPT, [tmux, host.config.opencodePath ?? 'opencode', '', row.dir ?? ''], 'find tmux');
      await host.transport.exec(KILL_SCRIPT, {
        args: [prep.get('tmux') || tmux, host.config.tmuxSocket, row.session, row.dir ?? '/nonexistent', row.serverId, String(graceMs)],
        timeoutMs: graceMs * 4 + 60_000,
      });
      if (removeDir && row.dir) await host.transport.exec(REMOVE_SCRIPT, { args: [row.dir] });
    } catch (error) {
      deps.logger.warn('could not stop an OpenCode server', { executor: row.executor, error: String(error) });
    }
  }

  async function health(url: string, password: string): Promise<'ok' | 'auth' | 'down'> {
    const timeoutMs = deps.healthTimeoutMs ?? 10_000;
    return new Promise((resolve) => {
      const req = request(
        `${url}/global/health`,
        {
          agent: false,
          headers: { authorization: `Basic ${Buffer.from(`${OPENCODE_USERNAME}:${password}`).toString('base64')}`, accept: 'application/json' },
          timeout: timeoutMs,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            if (res.statusCode === 401 || res.statusCode === 403) return resolve('auth');
            resolve(res.statusCode === 200 && /"healthy"\s*:\s*true/.test(body) ? 'ok' : 'down');
          });
          res.on('error', () => resolve('down'));
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve('down'));
      req.end();
    });
  }

  /** Points the tunnel (made once per executor per process) at the port; local executors need none. */
  async function reach(host: Host, port: number): Promise<{ url: string; tunnelMs: number | null }> {
    if (!host.target) return { url: `http://127.0.0.1:${port}`, tunnelMs: null };
    const started = deps.clock.now();
    if (!host.live.tunnel) {
      host.live.tunnel = await openTunnel({
        target: host.target,
        label: host.where,
        remotePort: port,
        clock: deps.clock,
        logger: deps.logger,
        ...(deps.createSshClient ? { createClient: deps.createSshClient } : {}),
        ...(deps.connectionGuard ? { guard: deps.connectionGuard } : {}),
      });
    }
    host.live.tunnel.remotePort = port;
    await host.live.tunnel.connect();
    return { url: host.live.tunnel.url, tunnelMs: deps.clock.now() - started };
  }

  /** Updates (or makes) the one ServerRef the core holds for this server. */
  function publish(executor: string, url: string, password: string | undefined): void {
    const ref = refs.get(executor);
    if (!ref) {
      refs.set(executor, { label: `${LABEL_PREFIX}${executor}`, url, username: OPENCODE_USERNAME, ...(password !== undefined ? { password } : {}) });
      return;
    }
    ref.url = url;
    if (password !== undefined) ref.password = password;
  }

  /**
   * Health through the tunnel, six tries over about 7 s: a server that has just printed its port (or one
   * that replaced a stopped one on the same port) can refuse its first connections on a loaded host.
   */
  async function healthy(url: string, password: string): Promise<'ok' | 'auth' | 'down'> {
    let verdict: 'ok' | 'auth' | 'down' = 'down';
    for (let i = 0; i < 6; i++) {
      verdict = await health(url, password);
      if (verdict !== 'down' || i === 5) return verdict;
      await new Promise((r) => setTimeout(r, 500 * (i + 1)));
    }
    return verdict;
  }

  async function start(host: Host, events: HostEvent[], reason: string | null): Promise<ManagedServer> {
    const executor = host.config.name;
    const previous = store.get(executor);
    if (previous) await stopOnHost(host, previous, false);
    const t0 = deps.clock.now();
    // A restart keeps the password: clients, watches and event streams holding it go on working.
    const password = passwords.get(executor) ?? randomBytes(24).toString('base64url');
    const serverId = `oc${randomBytes(6).toString('hex')}`;
    const opencodeName = host.config.opencodePath ?? 'opencode';
    const prep = await run(host, PREPARE_SCRIPT, [host.config.tmuxPath, opencodeName, host.config.tasksDir ?? '', previous?.dir ?? ''], 'inspect the host');
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
    const session = sessionName(executor);
    await Promise.all([
      host.transport.writeFile(`${dir}/wrapper.sh`, SERVER_WRAPPER, 0o700),
      host.transport.writeFile(`${dir}/env`, shellEnvFile({ ...host.config.env, OPENCODE_SERVER_PASSWORD: password, SWITCHBOARD_TASK: serverId }), 0o600),
    ]);
    await run(host, LAUNCH_SCRIPT, [tmux, host.config.tmuxSocket, session, dir, opencode, serverId], 'start opencode in tmux');
    const row: HostRow = {
      executor,
      serverId,
      dir,
      session,
      remotePort: null,
      passwordSealed: box.seal(password, context({ executor, serverId })),
      home: prep.get('home') ?? null,
      opencodePath: opencode,
      state: 'running',
      restarts: (previous?.restarts ?? 0) + (reason ? 1 : 0),
      lastError: null,
      startedAt: deps.clock.now(),
      updatedAt: deps.clock.now(),
    };
    store.put(row);
    passwords.set(executor, password);
    const waited = await run(host, WAIT_SCRIPT, [dir, String(startTimeoutMs)], 'wait for opencode', startTimeoutMs + 30_000);
    const port = Number(waited.get('port'));
    if (!waited.has('ready') || !port) {
      const why = waited.has('died') ? `it exited${waited.get('exit_code') ? ` with code ${waited.get('exit_code')}` : ''}` : `it printed no port within ${Math.round(startTimeoutMs / 1000)} s`;
      await stopOnHost(host, row, false);
      store.update(executor, { state: 'failed', lastError: `${why}: ${logTail(waited)}`, updatedAt: deps.clock.now() });
      throw new SwitchboardError('server_start_failed', `OpenCode did not start on ${host.where}: ${why}. Its output: ${logTail(waited) || '(none)'}`, {
        hint: 'Run `opencode serve` by hand on that host to see what it needs (a provider key in the executor’s env?).',
      });
    }
    const startMs = deps.clock.now() - t0;
    store.update(executor, { remotePort: port, updatedAt: deps.clock.now() });
    const { url, tunnelMs } = await reach(host, port);
    const verdict = await healthy(url, password);
    if (verdict !== 'ok') {
      throw new SwitchboardError('server_start_failed', `OpenCode started on ${host.where} (port ${port}) but does not answer through the tunnel (${verdict === 'auth' ? 'the password was refused' : 'no healthy reply'})`, {
        hint: 'Check that sshd on that host allows TCP forwarding (AllowTcpForwarding).',
      });
    }
    const server: ManagedServer = {
      executor,
      label: `${LABEL_PREFIX}${executor}`,
      url,
      username: OPENCODE_USERNAME,
      password,
      home: row.home ?? '',
      remotePort: port,
      startedAt: row.startedAt!,
      restarts: row.restarts,
    };
    host.live.server = server;
    host.live.unreachable = false;
    publish(executor, url, password);
    deps.logger.info('opencode server started', { executor, port, url, startMs, tunnelMs, persistentPassword: box.persistent });
    if (reason) emit(events, { kind: 'restarted', executor, reason, url });
    else emit(events, { kind: 'started', executor, url, remotePort: port, startMs, tunnelMs });
    return server;
  }

  /** Probes the owned server: alive with a port, or dead (with why). Throws when the host cannot be reached. */
  async function probe(host: Host, row: HostRow): Promise<{ alive: true; port: number } | { alive: false; why: string }> {
    const fields = await run(host, PROBE_SCRIPT, [row.dir ?? '/nonexistent', host.config.tmuxPath, host.config.tmuxSocket, row.session], 'probe the OpenCode server');
    if (fields.has('gone')) return { alive: false, why: `its directory ${row.dir} is gone (the host rebooted?)` };
    const port = Number(fields.get('port'));
    if (fields.get('alive') === '1' && port) return { alive: true, port };
    const code = fields.get('exit_code');
    const tail = logTail(fields);
    return { alive: false, why: `it exited${code ? ` with code ${code}` : ''}${tail ? `: ${tail}` : ''}` };
  }

  function restartAllowed(host: Host): boolean {
    const now = deps.clock.now();
    host.live.restartTimes = host.live.restartTimes.filter((t) => now - t < windowMs);
    if (host.live.restartTimes.length >= maxRestarts) return false;
    host.live.restartTimes.push(now);
    return true;
  }

  async function restartDead(host: Host, why: string, events: HostEvent[]): Promise<ManagedServer | null> {
    const executor = host.config.name;
    deps.logger.warn('opencode server died; restarting', { executor, why });
    if (!restartAllowed(host)) {
      const error = `it died ${maxRestarts} times within ${Math.round(windowMs / 60_000)} min (last: ${why}); Switchboard stopped restarting it`;
      store.update(executor, { state: 'failed', lastError: error, updatedAt: deps.clock.now() });
      host.live.server = null;
      emit(events, { kind: 'failed', executor, error });
      return null;
    }
    try {
      return await start(host, events, why);
    } catch (error) {
      const e = toSwitchboardError(error);
      store.update(executor, { lastError: e.message, updatedAt: deps.clock.now() });
      host.live.server = null;
      emit(events, { kind: 'failed', executor, error: e.message });
      return null;
    }
  }

  /** A server this bot owns from before: use it if it is alive and the password is known; else restart it. */
  async function attach(host: Host, row: HostRow, events: HostEvent[]): Promise<ManagedServer> {
    const executor = host.config.name;
    const password = passwords.get(executor) ?? (row.passwordSealed ? box.open(row.passwordSealed, context(row)) : null);
    if (!password) {
      const reason = !box.persistent
        ? 'SWITCHBOARD_SECRET is not set, so its password was kept in memory only and is lost with the restart; it was restarted with a new password (set SWITCHBOARD_SECRET to keep servers across restarts)'
        : row.passwordSealed
          ? 'its password was sealed with another SWITCHBOARD_SECRET; it was restarted with a new password'
          : 'its password was kept in memory only (SWITCHBOARD_SECRET was not set then); it was restarted with a new password';
      deps.logger.warn('opencode server password unknown; restarting the server', { executor });
      emit(events, { kind: 'password_reset', executor, reason });
      return start(host, events, null);
    }
    passwords.set(executor, password);
    const state = await probe(host, row);
    if (!state.alive) return (await restartDead(host, `${state.why} (while Switchboard was down)`, events)) ?? failedError(host);
    store.update(executor, { remotePort: state.port, updatedAt: deps.clock.now() });
    const { url } = await reach(host, state.port);
    const verdict = await healthy(url, password);
    if (verdict === 'auth') {
      passwords.delete(executor);
      emit(events, { kind: 'password_reset', executor, reason: 'the server refused the stored password; it was restarted with a new one' });
      return start(host, events, null);
    }
    if (verdict === 'down') {
      throw new SwitchboardError('unreachable', `the OpenCode server on ${host.where} (port ${state.port}) runs but does not answer through the tunnel`);
    }
    const server: ManagedServer = {
      executor,
      label: `${LABEL_PREFIX}${executor}`,
      url,
      username: OPENCODE_USERNAME,
      password,
      home: row.home ?? '',
      remotePort: state.port,
      startedAt: row.startedAt ?? deps.clock.now(),
      restarts: row.restarts,
    };
    host.live.server = server;
    publish(executor, url, password);
    deps.logger.info('opencode server re-attached', { executor, port: state.port, url });
    emit(events, { kind: 'attached', executor, url, remotePort: state.port });
    return server;
  }

  /**
   * Before attaching: the tunnel's local end (no SSH yet), so the server has its URL for the whole process even
   * while its host is unreachable, and the core can index names on it from the start.
   */
  async function listen(host: Host, row: HostRow): Promise<void> {
    const executor = host.config.name;
    const password = passwords.get(executor) ?? (row.passwordSealed ? (box.open(row.passwordSealed, context(row)) ?? undefined) : undefined);
    if (host.target && !host.live.tunnel) {
      host.live.tunnel = await openTunnel({
        target: host.target,
        label: host.where,
        remotePort: row.remotePort ?? 0,
        clock: deps.clock,
        logger: deps.logger,
        ...(deps.createSshClient ? { createClient: deps.createSshClient } : {}),
        ...(deps.connectionGuard ? { guard: deps.connectionGuard } : {}),
      });
    }
    const url = host.live.tunnel ? host.live.tunnel.url : `http://127.0.0.1:${row.remotePort ?? 0}`;
    publish(executor, url, password);
  }

  function failedError(host: Host): never {
    const row = store.get(host.config.name);
    throw new SwitchboardError('server_start_failed', `the OpenCode server on ${host.where} is down: ${row?.lastError ?? 'it could not be restarted'}`, {
      hint: `servers shows its state; new <name> @${host.config.name} tries to start it again.`,
    });
  }

  async function ensure(executor: string): Promise<ManagedServer> {
    const host = hostOf(executor);
    return exclusive(host, async () => {
      if (host.live.server) return host.live.server;
      const events: HostEvent[] = [];
      const row = store.get(executor);
      if (row && row.state === 'running') return attach(host, row, events);
      // Never started, stopped, or given up on: a user asked for it, so start afresh.
      host.live.restartTimes = [];
      return start(host, events, null);
    });
  }

  async function tickHost(host: Host, row: HostRow, events: HostEvent[]): Promise<void> {
    const executor = host.config.name;
    if (!host.live.server) {
      // Owned, but not attached in this process (reattach failed): try again.
      try {
        await attach(host, row, events);
      } catch (error) {
        noteUnreachable(host, toSwitchboardError(error), events);
      }
      return;
    }
    let state;
    try {
      state = await probe(host, row);
    } catch (error) {
      noteUnreachable(host, toSwitchboardError(error), events);
      return;
    }
    if (host.live.unreachable) {
      host.live.unreachable = false;
      emit(events, { kind: 'back', executor });
    }
    if (!state.alive) {
      await restartDead(host, state.why, events);
      return;
    }
    if (state.port !== host.live.server.remotePort) {
      // Not ours to change (the same process cannot move), but follow it.
      const { url } = await reach(host, state.port);
      host.live.server = { ...host.live.server, remotePort: state.port, url };
      publish(executor, url, undefined);
      store.update(executor, { remotePort: state.port, updatedAt: deps.clock.now() });
    }
  }

  function noteUnreachable(host: Host, error: SwitchboardError, events: HostEvent[]): void {
    if (host.live.unreachable) return;
    host.live.unreachable = true;
    deps.logger.warn('opencode host unreachable', { executor: host.config.name, error: error.message });
    emit(events, { kind: 'unreachable', executor: host.config.name, error: error.message });
  }

  async function tick(): Promise<HostEvent[]> {
    if (ticking) return ticking;
    ticking = (async () => {
      const events: HostEvent[] = [];
      const rows = store.list().filter((row) => row.state === 'running' && deps.executors.some((e) => e.name === row.executor && e.type !== 'container'));
      await Promise.all(
        rows.map((row) => {
          const host = hostOf(row.executor);
          return exclusive(host, async () => {
            const fresh = store.get(row.executor);
            if (fresh && fresh.state === 'running') await tickHost(host, fresh, events);
          });
        }),
      );
      return events;
    })();
    try {
      return await ticking;
    } finally {
      ticking = undefined;
    }
  }

  return {
    ensure,
    async ref(executor) {
      const server = await ensure(executor);
      return refs.get(executor) ?? { label: server.label, url: server.url, username: server.username, password: server.password };
    },
    async attached(executor) {
      const known = hosts.get(executor);
      if (known?.live.server) return refs.get(executor)!;
      const host = hostOf(executor);
      return exclusive(host, async () => {
        if (!host.live.server) {
          const row = store.get(executor);
          if (!row) {
            throw new SwitchboardError('unreachable', `Switchboard runs no OpenCode server on @${executor} (it was stopped)`, {
              hint: `\`servers restart @${executor}\` or \`new <name> @${executor}\` starts it again`,
            });
          }
          if (row.state === 'failed') {
            throw new SwitchboardError('unreachable', `the OpenCode server on @${executor} is down: ${row.lastError ?? 'it could not be restarted'}`, {
              hint: `\`servers restart @${executor}\` starts it again`,
            });
          }
          await listen(host, row);
          await attach(host, row, []);
        }
        return refs.get(executor)!;
      });
    },
    canHost(executor) {
      const config = deps.executors.find((e) => e.name === executor);
      return config !== undefined && config.type !== 'container';
    },
    current(executor) {
      return refs.get(executor) ?? null;
    },
    running(executor) {
      return hosts.get(executor)?.live.server != null;
    },
    home(executor) {
      return hosts.get(executor)?.live.server?.home || store.get(executor)?.home || null;
    },
    secrets() {
      return [...passwords.values()];
    },
    list() {
      return store.list().map((row) => {
        const host = hosts.get(row.executor);
        const config = deps.executors.find((e) => e.name === row.executor);
        const live = host?.live;
        const state: ManagedServerStatus['state'] =
          row.state === 'failed' ? 'failed' : live?.unreachable ? 'unreachable' : live?.server ? 'running' : 'not attached';
        return {
          executor: row.executor,
          label: `${LABEL_PREFIX}${row.executor}`,
          where: config ? describeExecutor(config) : `executor '${row.executor}' (no longer configured)`,
          state,
          url: live?.server?.url ?? null,
          remotePort: row.remotePort,
          startedAt: row.startedAt,
          restarts: row.restarts,
          lastError: row.lastError,
          passwordKept: row.passwordSealed !== null,
        };
      });
    },
    async restart(executor, reason = 'restarted on request') {
      const host = hostOf(executor);
      return exclusive(host, async () => {
        host.live.server = null;
        host.live.restartTimes = [];
        return start(host, [], reason);
      });
    },
    async stop(executor) {
      const host = hostOf(executor);
      await exclusive(host, async () => {
        const row = store.get(executor);
        if (row) await stopOnHost(host, row, true);
        store.delete(executor);
        passwords.delete(executor);
        refs.delete(executor);
        host.live.server = null;
        await host.live.tunnel?.close();
        host.live.tunnel = null;
      });
    },
    async reattach() {
      const events: HostEvent[] = [];
      const rows = store.list().filter((row) => row.state === 'running');
      await Promise.all(
        rows.map(async (row) => {
          let host: Host;
          try {
            host = hostOf(row.executor);
          } catch (error) {
            deps.logger.warn('an OpenCode server Switchboard owned is on an executor no longer configured', { executor: row.executor, error: String(error) });
            return;
          }
          await exclusive(host, async () => {
            try {
              await listen(host, row);
              await attach(host, row, events);
            } catch (error) {
              noteUnreachable(host, toSwitchboardError(error), events);
            }
          });
        }),
      );
      return events;
    },
    tick,
    supervise(intervalMs) {
      if (timer || closed) return;
      timer = setInterval(() => {
        tick().catch((error: unknown) => deps.logger.error('opencode host supervision failed', { error: String(error) }));
      }, intervalMs);
      timer.unref();
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await ticking?.catch(() => undefined);
      await Promise.all(
        [...hosts.values()].map(async (host) => {
          await host.live.tunnel?.close().catch(() => undefined);
          await host.transport.close().catch(() => undefined);
        }),
      );
      hosts.clear();
    },
  };
}
