import type { Services } from '../commands/context.js';
import type { Config } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Outbox } from '../notify/outbox.js';
import type { ServerDirectory } from '../opencode/server-directory.js';
import type { Db } from '../sessions/database.js';
import type { Registry } from '../sessions/registry.js';
import type { MonitorControl, WatchInfo, WatchRequest } from './control.js';
import { parseInterval } from './interval.js';
import { createWatchStore } from './watch-store.js';

export interface MonitorDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Config;
  registry: Registry;
  servers: ServerDirectory;
  outbox: Outbox;
}

export type Monitor = MonitorControl & {
  attachServices(services: Services): void;
  start(): Promise<void>;
  stop(): Promise<void>;
};

export function createMonitor(deps: MonitorDeps): Monitor {
  const store = createWatchStore(deps.db, deps.clock);
  const info = (name: string): WatchInfo | undefined => {
    const watch = store.get(name);
    if (!watch) return undefined;
    return {
      name,
      interval: watch.interval,
      ...(watch.promptId !== undefined ? { promptId: watch.promptId } : {}),
      ...(watch.sender !== undefined ? { sender: watch.sender } : {}),
    };
  };
  return {
    watch(request: WatchRequest) {
      const interval = parseInterval(request.interval ?? deps.config.monitor.interval);
      store.put({
        name: request.name,
        interval: interval.text,
        ...(request.promptId !== undefined ? { promptId: request.promptId } : {}),
        ...(request.sender !== undefined ? { sender: request.sender } : {}),
        ...(request.since !== undefined ? { since: request.since } : {}),
        firstTickAt: deps.clock.now() + (interval.kind === 'every' ? interval.ms : 60_000),
      });
      return info(request.name)!;
    },
    unwatch: (name) => store.remove(name),
    watching: info,
    attachServices() {},
    async start() {},
    async stop() {},
  };
}
