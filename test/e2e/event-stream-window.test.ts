import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createConsoleAdapter } from '../../adapters/console/index.js';
import { allMigrations, createApp, type App, type AppDeps } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { Clock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { openDatabase } from '../../src/sessions/database.js';
import { startOpencodeProxy, type OpencodeProxy } from '../helpers/hostile-proxy.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';

/**
 * The monitor's event stream to a real `opencode` server, through a loopback proxy that journals every request
 * and every event frame in order (and can swallow frames). The bot is the real core with the real console
 * adapter in this process, so a test can set how long a stream lingers and drive the monitor's beat by hand.
 * With no beat at all, nothing but the stream (and the looks it triggers) can report a run.
 */
const world = useOpencodeWorld();

interface ConsoleApp {
  app: App;
  /** Every line the bot logged, debug included (`monitor: checked {"name":…}` says a look at a name is over). */
  log: string[];
  /** Types a command and resolves with the transcript from it up to the first match of `expect`. */
  exec(line: string, expect: RegExp): Promise<string>;
  /** Waits for the transcript (after what was already consumed) to match, and consumes through it. */
  waitFor(expect: RegExp, timeoutMs?: number): Promise<string>;
  transcript(): string;
  stop(): Promise<void>;
}

/** The bot with a console on a pipe, its monitor pointed at `serverUrl`, and no scheduled beat. */
async function startConsoleApp(serverUrl: string, clock: Clock, monitor: AppDeps['monitor']): Promise<ConsoleApp> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-stream-'));
  writeFileSync(join(dir, 'switchboard.yaml'), `servers:\n  - name: lab\n    url: ${serverUrl}\nmonitor:\n  interval: 5m\n`);
  const env = {};
  const log: string[] = [];
  const at = (message: string, fields?: Record<string, unknown>) => void log.push(`${message} ${JSON.stringify(fields ?? {})}`);
  const logger: Logger = { debug: at, info: at, warn: at, error: at };
  const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
  const app = createApp({ config: loadConfig(dir, env), env, db, clock, logger, schedule: false, monitor, requestTimeoutMs: 15_000 });
  const input = new PassThrough();
  const output = new PassThrough();
  let written = '';
  let cursor = 0;
  const wakers = new Set<() => void>();
  output.setEncoding('utf8').on('data', (chunk: string) => {
    written += chunk;
    for (const wake of wakers) wake();
  });
  const adapter = createConsoleAdapter(app.switchboard, { input, output, user: 'tester', interactive: false });
  app.switchboard.register(adapter);
  await adapter.start();
  await app.start();

  function waitFor(expect: RegExp, timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const look = () => {
        const match = expect.exec(written.slice(cursor));
        if (!match) return false;
        const upTo = cursor + match.index + match[0].length;
        const seen = written.slice(cursor, upTo);
        cursor = upTo;
        cleanup();
        resolve(seen);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${expect}; transcript after the cursor:\n${written.slice(cursor)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        wakers.delete(wake);
      };
      const wake = () => void look();
      wakers.add(wake);
      look();
    });
  }

  return {
    app,
    log,
    exec(line, expect) {
      input.write(`${line}\n`);
      return waitFor(expect);
    },
    waitFor,
    transcript: () => written,
    async stop() {
      input.end();
      await adapter.stop();
      await app.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

/** Waits for a state that arrives in its own time (looked at every 20 ms), failing after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function newName(bot: ConsoleApp, name: string): Promise<string> {
  const made = await bot.exec(`new ${name} lab --agent build`, /Send it work/);
  return new RegExp(`\\*\\*${name}\\*\\* → OpenCode session \`(ses_\\w+)\``).exec(made)![1]!;
}

/** Asks the server itself (not through the proxy) until the session is idle with its last reply completed. */
async function serverIdle(sessionId: string): Promise<void> {
  for (;;) {
    const statuses = (await (await fetch(`${world.server.url}/session/status`)).json()) as Record<string, unknown>;
    const messages = (await (await fetch(`${world.server.url}/session/${sessionId}/message?limit=1`)).json()) as Array<{ info: { role: string; time: { completed?: number } } }>;
    const last = messages[messages.length - 1];
    if (!statuses[sessionId] && last?.info.role === 'assistant' && last.info.time.completed) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the event stream closes when the last watch ends, and a new send loses none of its run', () => {
  let proxy: OpencodeProxy;
  let bot: ConsoleApp;

  beforeAll(async () => {
    proxy = await startOpencodeProxy(world.server.url);
    // No lingering: the stream closes as soon as no name is watched, so every send meets the reopening window.
    bot = await startConsoleApp(proxy.url, { now: () => Date.now() }, { streamLingerMs: 0 });
  });
  afterAll(async () => {
    await bot?.stop();
    await proxy?.close();
  });

  it('opens the stream and waits until it relays before the prompt goes, so the run is reported from its events', async () => {
    onTestFinished(() => world.llm.release('w2'));
    const sessionId = await newName(bot, 'kumo');
    await bot.exec('send kumo first, to open and then close the stream', /^first, to open and then close the stream$/m);
    // A fresh project's first run is slow to start on a loaded machine.
    await bot.waitFor(/📋 \*\*kumo\*\* finished.*\n.*/, 90_000);
    // The window: the run ended, no name is watched, and the stream is gone.
    await bot.exec('status kumo', /\*\*kumo\*\* · OpenCode.*/);
    await until(() => proxy.openStreams() === 0, 'the stream to close');
    const streamsSoFar = proxy.journal.filter((line) => / open$/.test(line)).length;
    expect(proxy.journal).toContain(`stream ${streamsSoFar} closed`);

    const from = proxy.journal.length;
    await bot.exec('send kumo TODO HOLDAFTER:w2 second, through the reopened stream', /^TODO HOLDAFTER:w2 second, through the reopened stream$/m);
    // The card follows the run while it is held: no beat runs here, so the stream and the looks it triggers do.
    await bot.waitFor(/^⚙️ \*\*kumo\*\* · working · \d+s · todo 2\/4$/m);
    world.llm.release('w2');
    const final = await bot.waitFor(/📋 \*\*kumo\*\* finished.*\n.*/);
    expect(final).toContain('Done: TODO HOLDAFTER:w2 second, through the reopened stream');

    const run = proxy.journal.slice(from);
    const stream = streamsSoFar + 1;
    const opened = run.indexOf(`stream ${stream} open`);
    const relaying = run.indexOf(`stream ${stream} relayed server.connected`);
    const prompted = run.indexOf(`POST /session/${sessionId}/prompt_async`);
    // Before the fix the prompt went first and the stream opened after it: the run's first events were lost.
    expect(opened, run.join('\n')).toBeGreaterThanOrEqual(0);
    expect(relaying, run.join('\n')).toBeGreaterThan(opened);
    expect(prompted, run.join('\n')).toBeGreaterThan(relaying);
    // Everything the run said reached the bot on that one stream: it began busy and ended idle there.
    const afterPrompt = run.slice(prompted);
    expect(afterPrompt).toContain(`stream ${stream} relayed session.status ${sessionId}`);
    expect(afterPrompt).toContain(`stream ${stream} relayed todo.updated ${sessionId}`);
    expect(afterPrompt).toContain(`stream ${stream} relayed session.idle ${sessionId}`);
    expect(run.filter((line) => line.startsWith(`stream ${stream} swallowed`))).toEqual([]);
    expect(count(bot.transcript(), '📋 **kumo**')).toBe(2);
  });
});

describe('a stream that silently stops delivering, while the server stays up, is caught by the next tick', () => {
  let proxy: OpencodeProxy;
  let bot: ConsoleApp;
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset };

  beforeAll(async () => {
    proxy = await startOpencodeProxy(world.server.url);
    // No repeated looks after a watch starts or an event comes: once the stream goes quiet, only a tick can look.
    bot = await startConsoleApp(proxy.url, clock, { settleChecksMs: [] });
  });
  afterAll(async () => {
    await bot?.stop();
    await proxy?.close();
  });

  it('posts the final output exactly once, at the first tick one interval later', async () => {
    onTestFinished(() => world.llm.release('s1'));
    const sessionId = await newName(bot, 'sora');
    await bot.exec('send sora first, over a stream that still relays', /^first, over a stream that still relays$/m);
    await bot.waitFor(/📋 \*\*sora\*\* finished.*\n.*/, 90_000);
    expect(proxy.openStreams()).toBe(1);

    // The connection stays up and heartbeats still pass, so the stream looks healthy; events no longer come.
    proxy.swallowEvents(true);
    const from = proxy.journal.length;
    const stream = proxy.journal.filter((line) => / open$/.test(line)).length;
    const checksBefore = bot.log.filter((line) => line.startsWith('monitor: checked {"name":"sora"')).length;
    await bot.exec('send sora HOLD:s1 finish while the stream says nothing', /^HOLD:s1 finish while the stream says nothing$/m);
    await bot.waitFor(/^⚙️ \*\*sora\*\* · working · \d+s$/m);
    // The watch looks once at once; the run ends only after that look is over, and then nothing looks until a tick.
    await world.llm.waitForRequest('HOLD:s1');
    await until(() => bot.log.filter((line) => line.startsWith('monitor: checked {"name":"sora"')).length > checksBefore, 'the look the watch takes');
    world.llm.release('s1');
    await serverIdle(sessionId);
    await bot.exec('status sora', /\*\*sora\*\* · OpenCode.*/);
    // The run is over on the server, yet the channel has only the first run's final.
    expect(count(bot.transcript(), '📋 **sora**')).toBe(1);
    const run = proxy.journal.slice(from);
    expect(run, run.join('\n')).toContain(`stream ${stream} swallowed session.idle ${sessionId}`);
    expect(run.filter((line) => line.includes(' relayed ') && line.includes(sessionId))).toEqual([]);

    // One interval passes: the first tick after it looks, and finds the run over.
    offset += 5 * 60_000;
    await bot.app.beat();
    const final = await bot.waitFor(/📋 \*\*sora\*\* finished.*\n.*/);
    expect(final).toContain('Done: HOLD:s1 finish while the stream says nothing');
    // More ticks find nothing new to say: exactly one final for the run, on the stream that never reconnected.
    for (let i = 0; i < 3; i++) {
      offset += 5 * 60_000;
      await bot.app.beat();
    }
    await bot.exec('status sora', /\*\*sora\*\* · OpenCode.*/);
    expect(count(bot.transcript(), '📋 **sora**')).toBe(2);
    expect(count(bot.transcript(), '\nDone: HOLD:s1 finish while the stream says nothing')).toBe(1);
    expect(proxy.journal.slice(from).filter((line) => / (open|closed)$/.test(line))).toEqual([]);
  });
});
