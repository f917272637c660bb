import { fork } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchChromium } from '../test/helpers/browser.js';
import { compiled, SHIPPED_NODE_FLAGS } from './build.js';
import { round } from './machine.js';

export interface WebFigure {
  names: number;
  /** The page with every name: first byte, DOM ready, and every row drawn (from the snapshot on the live stream). */
  firstByteMs: number;
  domReadyMs: number;
  rowsShownMs: number;
  /** Live clients: node SSE clients plus one real browser. */
  clients: number;
  changes: number;
  /** From a card change in the bot to the last client showing it (goal p95 < 1 s). */
  fanoutP50Ms: number;
  fanoutP95Ms: number;
  fanoutMaxMs: number;
  /** The same for the 50 node clients alone (no browser rendering in it). */
  nodeP95Ms: number;
  /** The bot's RSS with 1 000 names, before any client and with all of them connected (compiled, shipped flags). */
  rssIdleMiB: number;
  rssMiB: number;
}

const NAMES = 1_000;
const NODE_CLIENTS = 50;
const CHANGES = 20;
const LOADS = 5;

/** The page's document as the predicates Playwright runs in the browser use it (this file's types are Node's). */
interface QueryRoot {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { textContent: string | null } | null;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

type ToBot = { type: 'link'; user: string } | { type: 'change'; i: number } | { type: 'rss' } | { type: 'stop' };
type FromBot = { type: 'ready'; base: string } | { type: 'link'; link: string } | { type: 'changed'; at: number } | { type: 'rss'; rss: number };

/**
 * The fleet page under load. The bot (compiled, with the Docker image's Node flags, in its own process) has
 * 1 000 names, each with a live card; the page loads in chromium five times; then 50 node SSE clients and the
 * browser watch while one name's card changes 20 times, 300 ms apart.
 */
export async function benchWeb(): Promise<WebFigure> {
  const script = compiled('bench/web.ts');
  // tsc copies no static files: the compiled page finds its HTML, CSS and script beside its code, as in the image.
  cpSync(resolve(import.meta.dirname, '../src/web/static'), resolve(import.meta.dirname, '../dist/src/web/static'), { recursive: true });
  const child = fork(script, ['--bot'], { execArgv: SHIPPED_NODE_FLAGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: Array<(m: FromBot) => void> = [];
  child.on('message', (m: FromBot) => waiting.shift()?.(m));
  const ask = (m: ToBot | undefined) =>
    new Promise<FromBot>((done) => {
      waiting.push(done);
      if (m) child.send(m);
    });
  const { base } = (await ask(undefined)) as { base: string };
  const browser = await launchChromium();
  const controllers: AbortController[] = [];
  try {
    const link = async (user: string) => ((await ask({ type: 'link', user })) as { link: string }).link;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(await link('browser'));
    const loads: Array<{ firstByte: number; domReady: number; rows: number }> = [];
    for (let i = 0; i < LOADS; i++) {
      await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' });
      // Functions, not strings: the page's CSP (no 'unsafe-eval') refuses string predicates, as it should.
      const rows = await page.waitForFunction((n) => (globalThis as unknown as { document: QueryRoot }).document.querySelectorAll('#names tbody tr').length >= n && performance.now(), NAMES, { timeout: 30_000 });
      const timing = await page.evaluate<{ responseStart: number; domContentLoadedEventEnd: number }>(
        "(() => { const n = performance.getEntriesByType('navigation')[0]; return { responseStart: n.responseStart, domContentLoadedEventEnd: n.domContentLoadedEventEnd }; })()",
      );
      loads.push({ firstByte: timing.responseStart, domReady: timing.domContentLoadedEventEnd, rows: (await rows.jsonValue()) as number });
    }
    const rssIdle = ((await ask({ type: 'rss' })) as { rss: number }).rss;

    // 50 node clients, each its own person (the per-person cap is 10), each reading the stream as a browser would.
    const seen: Array<Map<number, number>> = [];
    for (let c = 0; c < NODE_CLIENTS; c++) {
      const cookie = (await fetch(await link(`reader${c}`), { redirect: 'manual' })).headers.get('set-cookie')!.split(';')[0]!;
      const controller = new AbortController();
      controllers.push(controller);
      const response = await fetch(`${base}/api/events`, { headers: { cookie }, signal: controller.signal });
      const got = new Map<number, number>();
      seen.push(got);
      void (async () => {
        const decoder = new TextDecoder();
        let buffer = '';
        try {
          for await (const chunk of response.body!) {
            buffer += decoder.decode(chunk as Uint8Array, { stream: true });
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const step = /^event: card\ndata: .*"active":"bench step (\d+)"/s.exec(event);
              if (step) got.set(Number(step[1]), Date.now());
            }
          }
        } catch {
          // Aborted at the end.
        }
      })();
    }
    const rss = ((await ask({ type: 'rss' })) as { rss: number }).rss;
    const latencies: number[] = [];
    const nodeLatencies: number[] = [];
    for (let i = 1; i <= CHANGES; i++) {
      const shown = page.waitForFunction((text) => (globalThis as unknown as { document: QueryRoot }).document.querySelector('tr[data-name="n0000"] .active')?.textContent === text, `bench step ${i}`, { polling: 'raf', timeout: 10_000 });
      const { at } = (await ask({ type: 'change', i })) as { at: number };
      await shown;
      const browserAt = Date.now();
      const deadline = Date.now() + 5_000;
      while (seen.some((s) => !s.has(i)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const last = Math.max(browserAt, ...seen.map((s) => s.get(i) ?? Number.POSITIVE_INFINITY));
      latencies.push(last - at);
      nodeLatencies.push(Math.max(...seen.map((s) => s.get(i) ?? Number.POSITIVE_INFINITY)) - at);
      await new Promise((r) => setTimeout(r, 300));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      names: NAMES,
      firstByteMs: round(median(loads.map((l) => l.firstByte))),
      domReadyMs: round(median(loads.map((l) => l.domReady))),
      rowsShownMs: round(median(loads.map((l) => l.rows))),
      clients: NODE_CLIENTS + 1,
      changes: CHANGES,
      fanoutP50Ms: round(percentile(sorted, 50)),
      fanoutP95Ms: round(percentile(sorted, 95)),
      fanoutMaxMs: round(sorted.at(-1)!),
      nodeP95Ms: round(percentile([...nodeLatencies].sort((a, b) => a - b), 95)),
      rssIdleMiB: round(rssIdle / 2 ** 20, 0),
      rssMiB: round(rss / 2 ** 20, 0),
    };
  } finally {
    for (const controller of controllers) controller.abort();
    await browser.close();
    child.send({ type: 'stop' } satisfies ToBot);
    await new Promise((r) => child.once('exit', r));
  }
}

/** The bot's side: a whole core with the page on, 1 000 names with live cards, driven over IPC. */
async function runBot(): Promise<void> {
  const { allMigrations, createApp } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config/load.js');
  const { systemClock } = await import('../src/core/clock.js');
  const { silentLogger } = await import('../src/core/logger.js');
  const { renderCard } = await import('../src/monitor/card.js');
  const { openDatabase } = await import('../src/sessions/database.js');
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-web-'));
  const env = { SWITCHBOARD_DB: join(dir, 'bench.db'), SWITCHBOARD_CONFIG: join(dir, 'switchboard.yaml'), WEB_PORT: '0', WEB_MAX_CLIENTS: '200', WEB_MAX_CLIENTS_PER_USER: '10' };
  // Names on a server that does not answer (port 9): the page probes it at most every 15 s.
  writeFileSync(env.SWITCHBOARD_CONFIG, 'servers:\n  - name: lab\n    url: http://127.0.0.1:9\n');
  const config = loadConfig(dir, env);
  const db = openDatabase(config.databasePath, allMigrations);
  const app = createApp({ config, env, db, clock: systemClock, logger: silentLogger, schedule: false, monitor: { streams: false }, requestTimeoutMs: 1_000 });
  const origin = { adapter: 'console', channel: 'terminal' };
  const registry = app.switchboard.services.registry;
  const todos = (active: string) => [
    { content: 'Read the failing test', status: 'completed' },
    { content: 'Find the bug', status: 'completed' },
    { content: active, status: 'in_progress' },
    { content: 'Update the changelog', status: 'pending' },
  ];
  const startedAt = Date.now() - 60_000;
  const draw = (name: string, active: string) => {
    const state = { name, phase: 'working' as const, startedAt, todos: todos(active), usage: { input: 12_000, output: 3_000, cached: 0, costUsd: 0.12 } };
    app.cards.update({ key: `${name}#bench`, origin, threadKey: name, actor: 'console:bench', reply: renderCard(state, Date.now()), state });
  };
  for (let i = 0; i < NAMES; i++) {
    const name = `n${String(i).padStart(4, '0')}`;
    registry.insert({ name, target: { kind: 'opencode', server: 'lab', serverUrl: 'http://127.0.0.1:9', sessionId: `ses_${i}`, directory: '/work' }, owner: 'console:bench', origin });
    draw(name, `Fix item ${i}`);
  }
  await app.web!.start();
  const { port } = app.web!.address()!;
  process.on('message', (m: ToBot) => {
    const reply = (r: FromBot) => process.send!(r);
    if (m.type === 'link') reply({ type: 'link', link: app.web!.link({ id: `console:${m.user}` }) });
    else if (m.type === 'rss') {
      global.gc?.();
      reply({ type: 'rss', rss: process.memoryUsage().rss });
    } else if (m.type === 'change') {
      const at = Date.now();
      draw('n0000', `bench step ${m.i}`);
      reply({ type: 'changed', at });
    } else {
      void app.stop().then(() => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  process.send!({ type: 'ready', base: `http://127.0.0.1:${port}` } satisfies FromBot);
}

if (process.argv[2] === '--bot' && process.send) await runBot();
