import { fork } from 'node:child_process';
import { benchApp } from './app-fixture.js';
import { compiled, SHIPPED_NODE_FLAGS } from './build.js';
import { startRemoteFleet, type RemoteFleet } from './fake-fleet-process.js';
import { round } from './machine.js';

export interface TickFigure {
  sessions: number;
  servers: number;
  wallMs: number;
  maxInFlight: number;
  requests: number;
  /** RSS of the measuring process after the tick, and what it was before the names were made. */
  rssMiB: number;
  rssBeforeMiB: number;
  heapMiB: number;
}

const SERVERS = 20;

/** One measurement, in a fresh process so the sizes do not share a heap. */
async function measure(sessions: number, fleet: RemoteFleet): Promise<TickFigure> {
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const fixture = benchApp(undefined, { streams: false }, false);
  const { registry } = fixture.app.switchboard.services;
  const perServer = Math.ceil(sessions / SERVERS);
  fixture.db.transaction(() => {
    let made = 0;
    for (let s = 0; s < SERVERS && made < sessions; s++) {
      for (const sessionId of fleet.sessionIds(s, perServer)) {
        if (made++ >= sessions) break;
        registry.insert({
          name: `n${s}-${made}`,
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
  await fleet.reset();
  global.gc?.();
  const started = performance.now();
  await fixture.app.monitor.checkNow(undefined, 'tick');
  const wallMs = performance.now() - started;
  const memory = process.memoryUsage();
  const requests = await fleet.stats();
  await fixture.dispose();
  return {
    sessions,
    servers: SERVERS,
    wallMs: round(wallMs, 0),
    maxInFlight: requests.max,
    requests: requests.total,
    rssMiB: round(memory.rss / 2 ** 20, 0),
    rssBeforeMiB: round(rssBefore / 2 ** 20, 0),
    heapMiB: round(memory.heapUsed / 2 ** 20, 0),
  };
}

/**
 * One monitor tick over N watched sessions spread across 20 servers: every session busy, so each check
 * reads status, permissions and questions (once per server) plus todos and messages (per session), and
 * decides whether to post. Targets: 1 000 sessions in < 2 s, at most 32 requests in flight, RSS < 150 MB.
 * The fake servers run in another process, and each size in a fresh one, so figures are the monitor's own;
 * that process runs the compiled code with the Docker image's Node flags, so its RSS is the shipped bot's.
 */
export async function benchMonitorTick(sizes: readonly number[] = [100, 1_000, 5_000]): Promise<TickFigure[]> {
  const fleet = await startRemoteFleet(SERVERS, Math.ceil(Math.max(...sizes) / SERVERS));
  const figures: TickFigure[] = [];
  try {
    for (const sessions of sizes) {
      const args = ['--measure', String(sessions), JSON.stringify(fleet.urls), String(Math.ceil(Math.max(...sizes) / SERVERS))];
      const child = fork(compiled('bench/monitor-tick.ts'), args, {
        execArgv: ['--expose-gc', ...SHIPPED_NODE_FLAGS],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      figures.push(
        await new Promise<TickFigure>((done, fail) => {
          // The child asks for the fleet's counters through us, and finally sends its figure.
          child.on('message', (message: { type?: string } & Partial<TickFigure>) => {
            if (message.type === 'stats') void fleet.stats().then((stats) => child.send({ type: 'stats', ...stats }));
            else if (message.type === 'reset') void fleet.reset().then(() => child.send({ type: 'reset', max: 0, total: 0 }));
            else done(message as TickFigure);
          });
          child.once('exit', (code) => code !== 0 && fail(new Error(`measurement for ${sessions} exited with ${code}`)));
        }),
      );
    }
  } finally {
    await fleet.close();
  }
  return figures;
}

if (process.argv[2] === '--measure' && process.send) {
  const sessions = Number(process.argv[3]);
  const urls = JSON.parse(process.argv[4] ?? '[]') as string[];
  const perServer = Number(process.argv[5]);
  // The stats and reset calls go through the parent, which owns the fake fleet's process.
  const remote: RemoteFleet = {
    urls,
    sessionIds: (serverIndex, count) =>
      Array.from({ length: Math.min(count, perServer) }, (_, k) => `ses_bench${String(serverIndex).padStart(2, '0')}x${String(k).padStart(6, '0')}`),
    stats: () => ask('stats'),
    reset: () => ask('reset').then(() => undefined),
    close: async () => undefined,
  };
  function ask(type: 'stats' | 'reset'): Promise<{ max: number; total: number }> {
    return new Promise((done) => {
      const onMessage = (message: { type: string; max: number; total: number }) => {
        if (message.type !== type) return;
        process.off('message', onMessage);
        done(message);
      };
      process.on('message', onMessage);
      process.send?.({ type });
    });
  }
  const figure = await measure(sessions, remote);
  process.send(figure, () => process.exit(0));
}
