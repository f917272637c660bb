import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsoleAdapter } from '../../adapters/console/index.js';
import { allMigrations } from '../../src/app.js';
import type { Adapter } from '../../src/core/adapter.js';
import type { Logger } from '../../src/core/logger.js';
import { reply } from '../../src/core/reply.js';
import { createCards, type Cards } from '../../src/notify/cards.js';
import { createOutbox, type Outbox } from '../../src/notify/outbox.js';
import { openDatabase } from '../../src/sessions/database.js';
import { until } from './helpers/wait.js';

/**
 * Live cards on the console: the real console adapter behind the real outbox and card sink, writing to a stream.
 * A pipe gets one line per change of state; a terminal gets one status line redrawn in place above the prompt.
 */
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const origin = { adapter: 'console', channel: 'terminal' };

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function setUp(interactive: boolean) {
  const input = new PassThrough();
  const output = new PassThrough();
  let written = '';
  output.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
  const adapter: Adapter = createConsoleAdapter(
    { execute: async () => reply('ok'), idle: async () => undefined },
    { input, output, user: 'tester', interactive },
  );
  const db = openDatabase(':memory:', allMigrations);
  const outbox: Outbox = createOutbox({ db, clock: { now: () => Date.now() }, logger: quiet });
  outbox.register(adapter);
  // No spacing between edits of one card: the console itself must keep the clock's ticks out of a pipe.
  const cards: Cards = createCards({ db, clock: { now: () => Date.now() }, logger: quiet, outbox, minEditIntervalMs: 0, pollMs: 5 });
  cards.start();
  cleanup.push(async () => {
    await cards.stop();
    await outbox.stop();
    input.end();
    await adapter.stop();
    db.close();
  });
  return { adapter, outbox, cards, output: () => written, start: () => adapter.start() };
}

const card = (text: string, final = false) => ({ key: 'kumo#1', origin, threadKey: 'kumo', reply: reply(text), ...(final ? { final } : {}) });

describe('console: live cards', () => {
  it('on a pipe, prints a line when the state changes and stays quiet while only the clock moves', async () => {
    const bot = setUp(false);
    await bot.start();
    bot.cards.update(card('⚙️ kumo · working · 1s · todo 0/2'));
    await until(() => bot.output().includes('todo 0/2'), 'the card');
    for (const elapsed of ['2s', '3s', '4s', '1m 5s']) {
      bot.cards.update(card(`⚙️ kumo · working · ${elapsed} · todo 0/2`));
      await bot.cards.settled();
    }
    bot.cards.update(card('⚙️ kumo · working · 1m 6s · todo 1/2'));
    await bot.cards.settled();
    bot.cards.update(card('✅ kumo · finished · 1m 9s · todo 2/2', true));
    await bot.cards.settled();
    expect(bot.output().split('\n').filter(Boolean)).toEqual([
      '⚙️ kumo · working · 1s · todo 0/2',
      '⚙️ kumo · working · 1m 6s · todo 1/2',
      '✅ kumo · finished · 1m 9s · todo 2/2',
    ]);
    expect(bot.cards.stats().edits).toBe(6);
  });

  it('on a terminal, redraws one status line in place above the prompt, prints other output above it, and leaves the final state in the scrollback', async () => {
    const bot = setUp(true);
    await bot.start();
    await until(() => bot.output().includes('sb> '), 'the prompt');
    bot.cards.update(card('⚙️ kumo · working · 1s'));
    await until(() => bot.output().includes('working · 1s'), 'the card');
    const afterPost = bot.output().length;
    bot.cards.update(card('⚙️ kumo · working · 2s'));
    await bot.cards.settled();
    const redraw = bot.output().slice(afterPost);
    // Prompt line cleared, the status line written, the prompt drawn again: no new line per tick in the scrollback.
    expect(redraw).toContain('⚙️ kumo · working · 2s\n');
    bot.cards.update(card('⚙️ kumo · working · 3s'));
    await bot.cards.settled();
    const third = bot.output().slice(afterPost + redraw.length);
    // The line drawn before is wiped first (cursor up one line, clear it) and drawn again with the new state.
    expect(third.startsWith('\r\x1b[K\x1b[1A\r\x1b[K')).toBe(true);
    expect(third).toContain('⚙️ kumo · working · 3s\n');

    bot.outbox.enqueue({ origin, reply: reply('📨 kumo ← bob: the next prompt') });
    await until(() => bot.output().includes('the next prompt'), 'the echo');
    const echoed = bot.output().slice(bot.output().lastIndexOf('\x1b[1A'));
    // The echo goes above the status line, which comes back below it.
    expect(echoed.indexOf('the next prompt')).toBeLessThan(echoed.lastIndexOf('working · 3s'));

    bot.cards.update(card('✅ kumo · finished · 4s', true));
    await bot.cards.settled();
    const end = bot.output().slice(bot.output().lastIndexOf('\x1b[1A'));
    expect(end).toContain('✅ kumo · finished · 4s\n');
    expect(end.slice(end.indexOf('finished'))).not.toContain('working');
  });
});
