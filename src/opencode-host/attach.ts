import { SwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Emit } from './events.js';
import { waitHealthy, type HealthCheckOptions } from './health-check.js';
import type { Host } from './host-registry.js';
import type { Passwords } from './passwords.js';
import { labelOf, OPENCODE_USERNAME, takeUpServer, type PublishedRefs } from './published-refs.js';
import type { RestartBudget } from './restart-budget.js';
import { probeServer } from './server-on-host.js';
import type { ServerUrls } from './server-url.js';
import type { StartServer } from './start.js';
import type { HostRow, HostStore } from './store.js';
import type { HostEvent, ManagedServer } from './types.js';

export interface AttachDeps {
  store: HostStore;
  passwords: Passwords;
  refs: PublishedRefs;
  urls: ServerUrls;
  start: StartServer;
  budget: RestartBudget;
  emit: Emit;
  clock: Clock;
  logger: Logger;
  health: HealthCheckOptions;
}

export type Attacher = ReturnType<typeof createAttacher>;

/** Takes up a server this bot started before (in an earlier process, or before its host became unreachable). */
export function createAttacher(deps: AttachDeps) {
  const { store, passwords, refs, clock } = deps;

  function failedError(host: Host): never {
    const row = store.get(host.config.name);
    throw new SwitchboardError('server_start_failed', `the OpenCode server on ${host.where} is down: ${row?.lastError ?? 'it could not be restarted'}`, {
      hint: `servers shows its state; new <name> @${host.config.name} tries to start it again.`,
    });
  }

  return {
    /** Uses the server if it is alive and the password is known; else restarts it. */
    async attach(host: Host, row: HostRow, events: HostEvent[]): Promise<ManagedServer> {
      const executor = host.config.name;
      const password = passwords.of(row);
      if (!password) {
        deps.logger.warn('opencode server password unknown; restarting the server', { executor });
        deps.emit(events, { kind: 'password_reset', executor, reason: passwords.whyLost(row) });
        return deps.start(host, events, null);
      }
      passwords.remember(executor, password);
      const state = await probeServer(host, row);
      if (!state.alive) return (await deps.budget.restartDead(host, `${state.why} (while Switchboard was down)`, events)) ?? failedError(host);
      store.update(executor, { remotePort: state.port, updatedAt: clock.now() });
      const { url } = await deps.urls.reach(host, state.port);
      const verdict = await waitHealthy({ label: labelOf(executor), url, username: OPENCODE_USERNAME, password }, deps.health);
      if (verdict === 'auth') {
        passwords.forget(executor);
        deps.emit(events, { kind: 'password_reset', executor, reason: 'the server refused the stored password; it was restarted with a new one' });
        return deps.start(host, events, null);
      }
      if (verdict === 'down') {
        throw new SwitchboardError('unreachable', `the OpenCode server on ${host.where} (port ${state.port}) runs but does not answer through the tunnel`);
      }
      const server = takeUpServer(refs, host, row, { url, password, remotePort: state.port, startedAt: row.startedAt ?? clock.now() });
      deps.logger.info('opencode server re-attached', { executor, port: state.port, url });
      deps.emit(events, { kind: 'attached', executor, url, remotePort: state.port });
      return server;
    },
    /**
     * Before attaching: publishes the server's URL (the tunnel's local end, no SSH yet), so it has one for the
     * whole process even while its host is unreachable, and the core can index names on it from the start.
     */
    async listen(host: Host, row: HostRow): Promise<void> {
      const url = await deps.urls.localEnd(host, row.remotePort ?? 0);
      refs.publish(host.config.name, url, passwords.of(row) ?? undefined);
    },
  };
}
