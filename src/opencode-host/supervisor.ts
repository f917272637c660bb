import { toSwitchboardError, type SwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { singleFlight } from '../core/single-flight.js';
import type { Attacher } from './attach.js';
import type { Emit } from './events.js';
import { exclusive, type Host, type HostRegistry } from './host-registry.js';
import type { PublishedRefs } from './published-refs.js';
import type { RestartBudget } from './restart-budget.js';
import { probeServer } from './server-on-host.js';
import type { ServerUrls } from './server-url.js';
import type { HostRow, HostStore } from './store.js';
import type { HostEvent } from './types.js';

export interface SupervisorDeps {
  store: HostStore;
  registry: HostRegistry;
  attacher: Attacher;
  budget: RestartBudget;
  urls: ServerUrls;
  refs: PublishedRefs;
  emit: Emit;
  clock: Clock;
  logger: Logger;
}

/**
 * Keeps the servers Switchboard owns up: re-attaches them at bot start, then probes each on every tick and
 * restarts the dead (within the restart budget), following a server that moved and telling when a host
 * becomes unreachable and comes back.
 */
export function createSupervisor(deps: SupervisorDeps) {
  const { store, registry, attacher, clock } = deps;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function noteUnreachable(host: Host, error: SwitchboardError, events: HostEvent[]): void {
    if (host.live.unreachable) return;
    host.live.unreachable = true;
    deps.logger.warn('opencode host unreachable', { executor: host.config.name, error: error.message });
    deps.emit(events, { kind: 'unreachable', executor: host.config.name, error: error.message });
  }

  async function tickHost(host: Host, row: HostRow, events: HostEvent[]): Promise<void> {
    const executor = host.config.name;
    if (!host.live.server) {
      // Owned, but not attached in this process (reattach failed): try again.
      try {
        await attacher.attach(host, row, events);
      } catch (error) {
        noteUnreachable(host, toSwitchboardError(error), events);
      }
      return;
    }
    let state;
    try {
      state = await probeServer(host, row);
    } catch (error) {
      noteUnreachable(host, toSwitchboardError(error), events);
      return;
    }
    if (host.live.unreachable) {
      host.live.unreachable = false;
      deps.emit(events, { kind: 'back', executor });
    }
    if (!state.alive) {
      await deps.budget.restartDead(host, state.why, events);
      return;
    }
    if (state.port !== host.live.server.remotePort) {
      // Not ours to change (the same process cannot move), but follow it.
      const { url } = await deps.urls.reach(host, state.port);
      host.live.server = { ...host.live.server, remotePort: state.port, url };
      deps.refs.publish(executor, url, undefined);
      store.update(executor, { remotePort: state.port, updatedAt: clock.now() });
    }
  }

  // A tick that runs long is joined by the next, not stacked on it.
  const ticking = singleFlight(async (): Promise<HostEvent[]> => {
    const events: HostEvent[] = [];
    const rows = store.list().filter((row) => row.state === 'running' && registry.canHost(row.executor));
    await Promise.all(
      rows.map((row) => {
        const host = registry.get(row.executor);
        return exclusive(host, async () => {
          const fresh = store.get(row.executor);
          if (fresh && fresh.state === 'running') await tickHost(host, fresh, events);
        });
      }),
    );
    return events;
  });
  const tick = ticking.run;

  return {
    /** At bot start: attach to (or restart) every server Switchboard owns. */
    async reattach(): Promise<HostEvent[]> {
      const events: HostEvent[] = [];
      const rows = store.list().filter((row) => row.state === 'running');
      await Promise.all(
        rows.map(async (row) => {
          let host: Host;
          try {
            host = registry.get(row.executor);
          } catch (error) {
            deps.logger.warn('an OpenCode server Switchboard owned is on an executor no longer configured', { executor: row.executor, error: String(error) });
            return;
          }
          await exclusive(host, async () => {
            try {
              await attacher.listen(host, row);
              await attacher.attach(host, row, events);
            } catch (error) {
              noteUnreachable(host, toSwitchboardError(error), events);
            }
          });
        }),
      );
      return events;
    },
    /** Probe every owned server once; restart the ones that died. */
    tick,
    /** Runs tick() every intervalMs until stop(). */
    supervise(intervalMs: number): void {
      if (timer || closed) return;
      timer = setInterval(() => {
        tick().catch((error: unknown) => deps.logger.error('opencode host supervision failed', { error: String(error) }));
      }, intervalMs);
      timer.unref();
    },
    /** No more ticks; resolves once a tick under way has ended. */
    async stop(): Promise<void> {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await ticking.settled();
    },
  };
}
