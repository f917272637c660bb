import { SwitchboardError } from '../errors.js';
import { createAttacher } from './attach.js';
import { createEmitter } from './events.js';
import { createHostRegistry, exclusive } from './host-registry.js';
import { createPasswords } from './passwords.js';
import { createPublishedRefs } from './published-refs.js';
import { createRestartBudget } from './restart-budget.js';
import { createSecretBox } from './secret-box.js';
import { stopServer } from './server-on-host.js';
import { createServerUrls } from './server-url.js';
import { createStarter } from './start.js';
import { serverStatuses } from './status.js';
import { createHostStore } from './store.js';
import { createSupervisor } from './supervisor.js';
import type { HostEvent, ManagedServer, OpencodeHosts, OpencodeHostsDeps } from './types.js';

/**
 * OpenCode servers that Switchboard starts on executors and keeps up: `opencode serve --hostname 127.0.0.1` in a
 * tmux session on the host, a random password (sealed in the database with SWITCHBOARD_SECRET, else in memory),
 * reached through an SSH tunnel from a port on this machine's loopback. This wires the parts together and
 * runs every verb on an executor in order (exclusive).
 */
export function createOpencodeHosts(deps: OpencodeHostsDeps): OpencodeHosts {
  const { clock, logger } = deps;
  const store = createHostStore(deps.db);
  const passwords = createPasswords(createSecretBox(deps.secret));
  const refs = createPublishedRefs();
  const emit = createEmitter(deps.onEvent, logger);
  const registry = createHostRegistry(deps);
  const urls = createServerUrls(deps);
  const health = { timeoutMs: deps.healthTimeoutMs ?? 10_000, guard: deps.connectionGuard };
  const graceMs = deps.killGraceMs ?? 5_000;
  const start = createStarter({ store, passwords, refs, urls, emit, clock, logger, health, startTimeoutMs: deps.startTimeoutMs ?? 120_000, graceMs });
  const budget = createRestartBudget({ store, start, emit, clock, logger, maxRestarts: deps.maxRestarts ?? 5, windowMs: deps.restartWindowMs ?? 10 * 60_000 });
  const attacher = createAttacher({ store, passwords, refs, urls, start, budget, emit, clock, logger, health });
  const supervisor = createSupervisor({ store, registry, attacher, budget, urls, refs, emit, clock, logger });

  async function ensure(executor: string): Promise<ManagedServer> {
    const host = registry.get(executor);
    return exclusive(host, async () => {
      if (host.live.server) return host.live.server;
      const events: HostEvent[] = [];
      const row = store.get(executor);
      if (row && row.state === 'running') return attacher.attach(host, row, events);
      // Never started, stopped, or given up on: a user asked for it, so start afresh.
      budget.reset(host);
      return start(host, events, null);
    });
  }

  return {
    ensure,
    async ref(executor) {
      const server = await ensure(executor);
      return refs.get(executor) ?? { label: server.label, url: server.url, username: server.username, password: server.password };
    },
    async attached(executor) {
      if (registry.known(executor)?.live.server) return refs.get(executor)!;
      const host = registry.get(executor);
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
          await attacher.listen(host, row);
          await attacher.attach(host, row, []);
        }
        return refs.get(executor)!;
      });
    },
    canHost: registry.canHost,
    current(executor) {
      return refs.get(executor) ?? null;
    },
    running(executor) {
      return registry.known(executor)?.live.server != null;
    },
    home(executor) {
      return registry.known(executor)?.live.server?.home || store.get(executor)?.home || null;
    },
    secrets: passwords.all,
    list() {
      return serverStatuses(store.list(), registry);
    },
    async restart(executor, reason = 'restarted on request') {
      const host = registry.get(executor);
      return exclusive(host, async () => {
        host.live.server = null;
        budget.reset(host);
        return start(host, [], reason);
      });
    },
    async stop(executor) {
      const host = registry.get(executor);
      await exclusive(host, async () => {
        const row = store.get(executor);
        if (row) await stopServer(host, row, { removeDir: true, graceMs, logger });
        store.delete(executor);
        passwords.forget(executor);
        refs.forget(executor);
        host.live.server = null;
        await host.live.tunnel?.close();
        host.live.tunnel = null;
      });
    },
    reattach: supervisor.reattach,
    tick: supervisor.tick,
    supervise: supervisor.supervise,
    async close() {
      await supervisor.stop();
      await Promise.all(
        registry.all().map(async (host) => {
          await host.live.tunnel?.close().catch(() => undefined);
          await host.transport.close().catch(() => undefined);
        }),
      );
      registry.clear();
    },
  };
}
