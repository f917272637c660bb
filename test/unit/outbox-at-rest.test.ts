import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allMigrations } from '../../src/app.js';
import { planMessage as planDiscord } from '../../adapters/discord/outbound.js';
import { planMessage as planSlack } from '../../adapters/slack/outbound.js';
import { DeliveryError, REPEAT_NOTICE, replyToShow, type Adapter, type DeliveryResult, type OutgoingMessage } from '../../src/core/adapter.js';
import { reply, output } from '../../src/core/reply.js';
import { createScrubber, scrubReply } from '../../src/core/scrub.js';
import { createOutbox, type Outbox } from '../../src/notify/outbox.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { manualTime, until, within } from './helpers/wait.js';

/**
 * What the outbox keeps at rest and what it tells an adapter after a crash: no secret and no second copy of a
 * final in a row, and a message whose attempt began before the process died comes back marked as a repeat.
 */

const C1 = { adapter: 'chat', channel: 'C1' };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Records each attempt; `behaviour` decides how it ends (a promise that never settles is a crash mid-send). */
function adapterWith(behaviour: (message: OutgoingMessage) => Promise<DeliveryResult> | DeliveryResult = () => ({})) {
  const attempts: OutgoingMessage[] = [];
  const adapter: Adapter = {
    name: 'chat',
    async start() {},
    async stop() {},
    async deliver(message) {
      attempts.push(message);
      return behaviour(message);
    },
  };
  return { adapter, attempts };
}

let dir: string;
const opened: Array<{ db: Db; outbox: Outbox }> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sb-outbox-rest-'));
});
afterEach(() => {
  for (const { db, outbox } of opened.splice(0)) {
    void outbox.stop();
    if (db.open) db.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** One process's view: its own connection to the shared file and its own outbox. */
function processOn(time = manualTime()) {
  const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
  const scrub = createScrubber([]);
  const outbox = createOutbox({ db, clock: time.clock, logger: silent, setTimer: time.setTimer, sanitize: (r) => scrubReply(r, scrub) });
  opened.push({ db, outbox });
  return { db, outbox, time };
}

describe('outbox rows at rest', () => {
  it('store the final output once and no secret from data, blocks or titles', () => {
    const { db, outbox } = processOn();
    const token = ['gh', 'p_', 'A1b2C3d4E5'.repeat(4)].join('');
    const big = `${'all green '.repeat(100_000)}${token}`;
    outbox.enqueue({
      origin: C1,
      reply: reply([output(big, `Output of ${token}`)], { data: { name: 'kumo', output: big, record: { result: big, url: 'http://u:hunter2secret@h' } } }),
    });
    const { stored } = db.prepare('SELECT reply AS stored FROM outbox').get() as { stored: string };
    expect(stored).not.toContain(token);
    expect(stored).not.toContain('hunter2secret');
    // One copy of the ~1 MB output, not two or three.
    expect(stored.length).toBeGreaterThan(big.length - 100);
    expect(stored.length).toBeLessThan(big.length * 1.1);
  });
});

describe('outbox: an attempt cut short by a crash', () => {
  it('is delivered again after a restart, marked as a repeat; a message sent whole is not', async () => {
    const first = processOn();
    const crashed = adapterWith((message) => (message.reply.blocks[0]?.type === 'text' && message.reply.blocks[0].text === 'cut' ? new Promise(() => {}) : {}));
    first.outbox.register(crashed.adapter);
    first.outbox.enqueue({ origin: C1, reply: reply('whole') });
    first.outbox.enqueue({ origin: C1, reply: reply('cut') });
    await until(() => crashed.attempts.length === 2, 'the second attempt');
    expect(crashed.attempts.map((m) => m.repeat)).toEqual([undefined, undefined]);
    // The process dies here: its outbox never hears back from the adapter.
    first.db.close();

    const second = processOn();
    const after = adapterWith();
    second.outbox.register(after.adapter);
    await within(second.outbox.drained(), 5_000, 'drain after restart');
    expect(after.attempts.map((m) => [m.reply.blocks[0], m.repeat])).toEqual([[{ type: 'text', text: 'cut' }, true]]);
  });

  it('is no repeat when the adapter said it failed (a 429 is retried as an ordinary first send)', async () => {
    const { outbox, time } = processOn();
    let refuse = true;
    const { adapter, attempts } = adapterWith(() => {
      if (!refuse) return {};
      refuse = false;
      throw new DeliveryError('rate limited', { retryAfterMs: 1_000 });
    });
    outbox.register(adapter);
    outbox.enqueue({ origin: C1, reply: reply('hello') });
    await until(() => attempts.length === 1, 'the refused attempt');
    await until(() => time.pending().length > 0, 'the retry timer');
    time.advance(1_000);
    await within(outbox.drained(), 5_000, 'drain');
    expect(attempts.map((m) => m.repeat)).toEqual([undefined, undefined]);
  });
});

describe('a repeat, as each platform shows it', () => {
  const message: OutgoingMessage = { id: 7, origin: C1, reply: reply([output('the final')], { tone: 'success' }) };

  it('leads with the notice on Slack and Discord, and only when it is a repeat', () => {
    expect(replyToShow(message)).toBe(message.reply);
    const repeated = { ...message, repeat: true };
    expect(replyToShow(repeated).blocks[0]).toEqual({ type: 'text', text: REPEAT_NOTICE });
    expect(replyToShow(repeated).tone).toBe('success');
    const slack = JSON.stringify(planSlack(repeated, false).messages[0]!.blocks);
    expect(slack.indexOf(REPEAT_NOTICE)).toBeGreaterThanOrEqual(0);
    expect(slack.indexOf(REPEAT_NOTICE)).toBeLessThan(slack.indexOf('the final'));
    expect(JSON.stringify(planSlack(message, false).messages)).not.toContain(REPEAT_NOTICE);
    expect(planDiscord(repeated, false)[0]!.content).toMatch(/^\(repeated: the bot stopped while writing this\)\n[^]*the final/);
    expect(planDiscord(message, false)[0]!.content).not.toContain(REPEAT_NOTICE);
  });
});
