import { randomBytes } from 'node:crypto';
import { SwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Emit } from './events.js';
import { waitHealthy, type HealthCheckOptions } from './health-check.js';
import type { Host } from './host-registry.js';
import type { Passwords } from './passwords.js';
import { labelOf, OPENCODE_USERNAME, takeUpServer, type PublishedRefs } from './published-refs.js';
import { launchServer, stopServer, waitForPort } from './server-on-host.js';
import type { ServerUrls } from './server-url.js';
import type { HostRow, HostStore } from './store.js';
import type { HostEvent, ManagedServer } from './types.js';

export interface StartDeps {
  store: HostStore;
  passwords: Passwords;
  refs: PublishedRefs;
  urls: ServerUrls;
  emit: Emit;
  clock: Clock;
  logger: Logger;
  health: HealthCheckOptions;
  /** How long `opencode serve` may take to print its port. */
  startTimeoutMs: number;
  /** Between SIGTERM and SIGKILL when stopping the server it replaces. */
  graceMs: number;
}

/** Starts (or restarts, with a reason) the executor's server: `started` or `restarted`, or a thrown error. */
export type StartServer = (host: Host, events: HostEvent[], reason: string | null) => Promise<ManagedServer>;

/**
 * Replaces whatever server the executor had with a new one: launched in tmux, its row stored, its port waited
 * for, reached through the tunnel and found healthy before anyone is told it runs.
 */
export function createStarter(deps: StartDeps): StartServer {
  const { store, clock } = deps;
  return async (host, events, reason) => {
    const executor = host.config.name;
    const previous = store.get(executor);
    if (previous) await stopServer(host, previous, { removeDir: false, graceMs: deps.graceMs, logger: deps.logger });
    const t0 = clock.now();
    const password = deps.passwords.forStart(executor);
    const serverId = `oc${randomBytes(6).toString('hex')}`;
    const launched = await launchServer(host, { password, serverId, previousDir: previous?.dir ?? null });
    const row: HostRow = {
      executor,
      serverId,
      dir: launched.dir,
      session: launched.session,
      remotePort: null,
      passwordSealed: deps.passwords.seal(password, { executor, serverId }),
      home: launched.home,
      opencodePath: launched.opencode,
      state: 'running',
      restarts: (previous?.restarts ?? 0) + (reason ? 1 : 0),
      lastError: null,
      startedAt: clock.now(),
      updatedAt: clock.now(),
    };
    store.put(row);
    deps.passwords.remember(executor, password);
    const waited = await waitForPort(host, launched.dir, deps.startTimeoutMs);
    if (!('port' in waited)) {
      await stopServer(host, row, { removeDir: false, graceMs: deps.graceMs, logger: deps.logger });
      store.update(executor, { state: 'failed', lastError: `${waited.why}: ${waited.output}`, updatedAt: clock.now() });
      throw new SwitchboardError('server_start_failed', `OpenCode did not start on ${host.where}: ${waited.why}. Its output: ${waited.output || '(none)'}`, {
        hint: 'Run `opencode serve` by hand on that host to see what it needs (a provider key in the executor’s env?).',
      });
    }
    const { port } = waited;
    const startMs = clock.now() - t0;
    store.update(executor, { remotePort: port, updatedAt: clock.now() });
    const { url, tunnelMs } = await deps.urls.reach(host, port);
    const verdict = await waitHealthy({ label: labelOf(executor), url, username: OPENCODE_USERNAME, password }, deps.health);
    if (verdict !== 'ok') {
      throw new SwitchboardError('server_start_failed', `OpenCode started on ${host.where} (port ${port}) but does not answer through the tunnel (${verdict === 'auth' ? 'the password was refused' : 'no healthy reply'})`, {
        hint: 'Check that sshd on that host allows TCP forwarding (AllowTcpForwarding).',
      });
    }
    const server = takeUpServer(deps.refs, host, row, { url, password, remotePort: port, startedAt: row.startedAt! });
    host.live.unreachable = false;
    deps.logger.info('opencode server started', { executor, port, url, startMs, tunnelMs, persistentPassword: deps.passwords.persistent });
    if (reason) deps.emit(events, { kind: 'restarted', executor, reason, url });
    else deps.emit(events, { kind: 'started', executor, url, remotePort: port, startMs, tunnelMs });
    return server;
  };
}
