import { toSwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Emit } from './events.js';
import type { Host } from './host-registry.js';
import type { StartServer } from './start.js';
import type { HostStore } from './store.js';
import type { HostEvent, ManagedServer } from './types.js';

export interface RestartBudgetDeps {
  store: HostStore;
  start: StartServer;
  emit: Emit;
  clock: Clock;
  logger: Logger;
  /** More restarts than this within windowMs and Switchboard gives up. */
  maxRestarts: number;
  windowMs: number;
}

export type RestartBudget = ReturnType<typeof createRestartBudget>;

/**
 * Restarts servers that died, at most maxRestarts times within windowMs each: a server that keeps dying is
 * marked failed and left alone until a user asks for it again.
 */
export function createRestartBudget(deps: RestartBudgetDeps) {
  const { store, clock, maxRestarts, windowMs } = deps;

  function allowed(host: Host): boolean {
    const now = clock.now();
    host.live.restartTimes = host.live.restartTimes.filter((t) => now - t < windowMs);
    if (host.live.restartTimes.length >= maxRestarts) return false;
    host.live.restartTimes.push(now);
    return true;
  }

  return {
    /** The restarted server, or null (with a `failed` event) when the budget is spent or the restart failed. */
    async restartDead(host: Host, why: string, events: HostEvent[]): Promise<ManagedServer | null> {
      const executor = host.config.name;
      deps.logger.warn('opencode server died; restarting', { executor, why });
      if (!allowed(host)) {
        const error = `it died ${maxRestarts} times within ${Math.round(windowMs / 60_000)} min (last: ${why}); Switchboard stopped restarting it`;
        store.update(executor, { state: 'failed', lastError: error, updatedAt: clock.now() });
        host.live.server = null;
        deps.emit(events, { kind: 'failed', executor, error });
        return null;
      }
      try {
        return await deps.start(host, events, why);
      } catch (error) {
        const e = toSwitchboardError(error);
        store.update(executor, { lastError: e.message, updatedAt: clock.now() });
        host.live.server = null;
        deps.emit(events, { kind: 'failed', executor, error: e.message });
        return null;
      }
    },
    /** A user asked for the server: the restarts before do not count against it. */
    reset(host: Host): void {
      host.live.restartTimes = [];
    },
  };
}
