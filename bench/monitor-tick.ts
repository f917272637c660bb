import { benchApp } from './app-fixture.js';
import { startFakeFleet } from './fake-opencode.js';
import { round } from './machine.js';

export interface TickFigure {
  sessions: number;
  servers: number;
  wallMs: number;
  maxInFlight: number;
  requests: number;
  rssMiB: number;
  heapMiB: number;
}

/**
 * One monitor tick over N watched sessions spread across 20 servers: every session busy, so each check
 * reads status, permissions and questions (once per server) plus todos and messages (per session), and
 * decides whether to post. Targets: 1 000 sessions in < 2 s, at most 32 requests in flight, RSS < 150 MB.
 */
export async function benchMonitorTick(sizes: readonly number[] = [100, 1_000, 5_000], servers = 20): Promise<TickFigure[]> {
  const fleet = await startFakeFleet(servers, Math.ceil(Math.max(...sizes) / servers));
  const figures: TickFigure[] = [];
  try {
    for (const sessions of sizes) {
      const fixture = benchApp(undefined, { schedule: false, streams: false });
      const { registry } = fixture.app.switchboard.services;
      const perServer = Math.ceil(sessions / servers);
      fixture.db.transaction(() => {
        let made = 0;
        for (let s = 0; s < servers && made < sessions; s++) {
          for (const sessionId of fleet.sessionIds(s, perServer)) {
            if (made++ >= sessions) break;
            const name = `n${s}-${made}`;
            registry.insert({
              name,
              target: { kind: 'opencode', server: fleet.urls[s]!, serverUrl: fleet.urls[s]!, sessionId, directory: '/work' },
              owner: 'console:bench',
              origin: { adapter: 'bench', channel: 'c' },
            });
          }
        }
      })();
      for (const record of registry.list()) fixture.app.monitor.watch({ name: record.name, sender: 'console:bench' });
      // Start-up reconciles every watch once (connections warm up, first reports go out); then a steady tick.
      await fixture.app.monitor.start();
      fleet.resetCounters();
      global.gc?.();
      const started = performance.now();
      await fixture.app.monitor.checkNow(undefined, 'tick');
      const wallMs = performance.now() - started;
      const memory = process.memoryUsage();
      figures.push({
        sessions,
        servers,
        wallMs: round(wallMs, 0),
        maxInFlight: fleet.inFlight.max,
        requests: fleet.inFlight.total,
        rssMiB: round(memory.rss / 2 ** 20, 0),
        heapMiB: round(memory.heapUsed / 2 ** 20, 0),
      });
      await fixture.dispose();
    }
  } finally {
    await fleet.close();
  }
  return figures;
}
