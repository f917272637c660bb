import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allMigrations } from '../../src/app.js';
import { fileConfigSchema } from '../../src/config/schema.js';
import { DeliveryError, type Adapter, type DeliveryResult, type EditBudget, type OutgoingMessage } from '../../src/core/adapter.js';
import type { Logger } from '../../src/core/logger.js';
import type { Origin } from '../../src/core/origin.js';
import { reply, replyToPlainText } from '../../src/core/reply.js';
import { createCards, type Cards } from '../../src/notify/cards.js';
import { createEditWindow } from '../../src/notify/edit-budget.js';
import { createOutbox, type Outbox } from '../../src/notify/outbox.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { manualTime, settle, until } from './helpers/wait.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const C1: Origin = { adapter: 'chat', channel: 'C1' };

type EditBehaviour = (message: OutgoingMessage, messageId: string) => void;

/** A chat that keeps what each message currently says, and every post and edit with its time. */
class ChatAdapter implements Adapter {
  readonly name = 'chat';
  readonly shown = new Map<string, string>();
  readonly posts: Array<{ id: string; text: string; at: number; thread?: string }> = [];
  readonly edits: Array<{ id: string; text: string; at: number; channel: string; thread?: string }> = [];
  editBehaviour: EditBehaviour = () => undefined;
  /** While set, edits wait for it: an edit "on its way". */
  gate: Promise<void> | undefined;
  private next = 0;

  constructor(
    private readonly now: () => number,
    readonly editBudget?: EditBudget,
  ) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async deliver(message: OutgoingMessage): Promise<DeliveryResult> {
    const id = `m${++this.next}`;
    const text = replyToPlainText(message.reply);
    this.shown.set(id, text);
    this.posts.push({ id, text, at: this.now(), ...(message.origin.thread ? { thread: message.origin.thread } : {}) });
    return { messageId: id, ...(message.opensThread ? { threadId: `thread-of-${id}` } : {}) };
  }

  async edit(message: OutgoingMessage, messageId: string): Promise<DeliveryResult> {
    this.editBehaviour(message, messageId);
    await this.gate;
    if (!this.shown.has(messageId)) throw new DeliveryError('gone', { messageGone: true });
    const text = replyToPlainText(message.reply);
    this.shown.set(messageId, text);
    this.edits.push({ id: messageId, text, at: this.now(), channel: message.origin.channel, ...(message.origin.thread ? { thread: message.origin.thread } : {}) });
    return { messageId };
  }
}

let dir: string;
let dbs: Db[];
let stoppers: Array<() => Promise<void>>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sb-cards-'));
  dbs = [];
  stoppers = [];
});

afterEach(async () => {
  for (const stop of stoppers) await stop();
  for (const db of dbs) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function setUp(options: { budget?: EditBudget; intervalMs?: number; time?: ReturnType<typeof manualTime>; db?: Db } = {}) {
  const time = options.time ?? manualTime();
  const db = options.db ?? openDatabase(join(dir, 'switchboard.db'), allMigrations);
  dbs.push(db);
  const adapter = new ChatAdapter(time.clock.now, options.budget);
  const outbox: Outbox = createOutbox({ db, clock: time.clock, logger: quiet, setTimer: time.setTimer });
  outbox.register(adapter);
  const cards: Cards = createCards({ db, clock: time.clock, logger: quiet, outbox, minEditIntervalMs: options.intervalMs ?? 2_000, setTimer: time.setTimer, pollMs: 100 });
  cards.start();
  stoppers.push(() => cards.stop(), () => outbox.stop());
  return { time, db, adapter, outbox, cards };
}

/** Moves time forward in steps, letting deliveries and edits run between them, until `done` holds. */
async function runUntil(time: ReturnType<typeof manualTime>, done: () => boolean, stepMs = 100, maxSteps = 5_000): Promise<void> {
  for (let i = 0; i < maxSteps && !done(); i++) {
    await settle(3);
    time.advance(stepMs);
  }
  await settle(3);
  expect(done()).toBe(true);
}

const card = (key: string, text: string, final = false) => ({ key, origin: C1, threadKey: key.split('#')[0]!, reply: reply(text), ...(final ? { final } : {}) });

describe('cards: one message per run', () => {
  it('posts a card once and edits it in place until it shows the newest state', async () => {
    const { time, adapter, outbox, cards } = setUp();
    cards.update(card('kumo#1', 'working 0s'));
    await until(() => adapter.posts.length === 1, 'the first post');
    for (let i = 1; i <= 5; i++) {
      time.advance(2_000);
      cards.update(card('kumo#1', `working ${i * 2}s`));
      await until(() => adapter.edits.length === i, `edit ${i}`);
    }
    expect(adapter.posts).toHaveLength(1);
    expect(adapter.edits.map((e) => e.id)).toEqual(['m1', 'm1', 'm1', 'm1', 'm1']);
    expect(adapter.shown.get('m1')).toBe('working 10s');
    expect(outbox.pending()).toBe(0);
  });

  it('keeps only the newest state: a burst of updates becomes few edits, and the last one is written', async () => {
    const { time, adapter, cards } = setUp();
    cards.update(card('kumo#1', 'state 0'));
    await until(() => adapter.posts.length === 1, 'the first post');
    for (let i = 1; i <= 200; i++) {
      cards.update(card('kumo#1', `state ${i}`));
      if (i % 20 === 0) {
        await settle(2);
        time.advance(100);
      }
    }
    await runUntil(time, () => adapter.shown.get('m1') === 'state 200');
    // 200 updates over 2 s of clock at one edit per 2 s: one or two edits, never 200.
    expect(adapter.edits.length).toBeGreaterThanOrEqual(1);
    expect(adapter.edits.length).toBeLessThanOrEqual(2);
    for (let i = 1; i < adapter.edits.length; i++) expect(adapter.edits[i]!.at - adapter.edits[i - 1]!.at).toBeGreaterThanOrEqual(2_000);
  });

  it('a card whose first post has not gone out yet goes out with its newest state, with no edit after it', async () => {
    const { time, adapter, outbox, cards } = setUp();
    // The channel is not reachable yet (as behind an echo waiting for Slack's spacing): the post waits.
    outbox.unregister(adapter.name);
    cards.update(card('kumo#1', 'working 0s'));
    time.advance(1_000);
    cards.update(card('kumo#1', 'working 1s · todo 0/3'));
    time.advance(1_000);
    cards.update(card('kumo#1', 'working 2s · todo 1/3'));
    outbox.register(adapter);
    await until(() => adapter.posts.length === 1, 'the first post');
    await runUntil(time, () => time.clock.now() > 10_000);
    expect(adapter.posts.map((p) => p.text)).toEqual(['working 2s · todo 1/3']);
    expect(adapter.edits).toEqual([]);
    // Once posted, a new state is an edit again.
    cards.update(card('kumo#1', 'finished', true));
    await runUntil(time, () => adapter.edits.length === 1);
    expect(adapter.shown.get('m1')).toBe('finished');
  });

  it('lands in the name\'s thread after the echo that opened it, and is edited there', async () => {
    const { time, adapter, outbox, cards } = setUp();
    outbox.enqueue({ origin: C1, reply: reply('📨 kumo ← alice: fix the tests'), threadKey: 'kumo', opensThread: true });
    cards.update(card('kumo#1', 'working'));
    await until(() => adapter.posts.length === 2, 'the echo and the card');
    expect(adapter.posts.map((p) => [p.text, p.thread])).toEqual([
      ['📨 kumo ← alice: fix the tests', undefined],
      ['working', 'thread-of-m1'],
    ]);
    time.advance(2_000);
    cards.update(card('kumo#1', 'finished', true));
    await runUntil(time, () => adapter.edits.length === 1);
    expect(adapter.edits[0]).toMatchObject({ id: 'm2', thread: 'thread-of-m1', text: 'finished' });
  });

  it('a state that comes back while another is on its way is still written (the channel must not keep the one between)', async () => {
    const { time, adapter, cards } = setUp();
    cards.update(card('kumo#1', 'A'));
    await until(() => adapter.posts.length === 1, 'the first post');
    let release!: () => void;
    adapter.gate = new Promise((resolve) => (release = resolve));
    time.advance(2_000);
    cards.update(card('kumo#1', 'B'));
    await settle(5);
    cards.update(card('kumo#1', 'A'));
    release();
    adapter.gate = undefined;
    await runUntil(time, () => adapter.edits.length === 2);
    expect(adapter.edits.map((e) => e.text)).toEqual(['B', 'A']);
    expect(adapter.shown.get('m1')).toBe('A');
  });

  it('ignores updates after the final state, and writes the final state even when it comes at once', async () => {
    const { time, adapter, cards } = setUp();
    cards.update(card('kumo#1', 'working'));
    cards.update(card('kumo#1', 'finished ✅', true));
    cards.update(card('kumo#1', 'working again?'));
    await runUntil(time, () => adapter.shown.get('m1') === 'finished ✅');
    await settle(5);
    time.advance(10_000);
    await settle(5);
    expect(adapter.posts).toHaveLength(1);
    expect(adapter.shown.get('m1')).toBe('finished ✅');
    await cards.settled();
  });
});

describe('cards: the platforms\' limits', () => {
  it('50 live cards in one channel: the channel budget holds in every window and every final state is written', async () => {
    const budget: EditBudget = { edits: 4, perMs: 5_000, scope: 'channel' };
    const { time, adapter, cards } = setUp({ budget });
    const keys = Array.from({ length: 50 }, (_, i) => `n${i}#1`);
    for (const key of keys) cards.update(card(key, `${key} start`));
    for (let tick = 1; tick <= 20; tick++) {
      for (const key of keys) cards.update(card(key, `${key} tick ${tick}`));
      await settle(3);
      time.advance(1_000);
    }
    for (const key of keys) cards.update(card(key, `${key} done`, true));
    await runUntil(time, () => keys.every((key, i) => adapter.shown.get(`m${i + 1}`) === `${key} done`), 500);
    expect(adapter.posts).toHaveLength(50);
    expect(adapter.edits.length).toBeGreaterThanOrEqual(50);
    const times = adapter.edits.map((e) => e.at).sort((a, b) => a - b);
    for (let i = budget.edits; i < times.length; i++) expect(times[i]! - times[i - budget.edits]!).toBeGreaterThanOrEqual(budget.perMs);
    expect(cards.stats().rateLimited).toBe(0);
  });

  it('a 429 delays the newest state by Retry-After, for every card under that budget, and never drops it', async () => {
    const { time, adapter, cards } = setUp({ budget: { edits: 100, perMs: 1_000, scope: 'adapter' } });
    cards.update(card('a#1', 'a 0'));
    cards.update(card('b#1', 'b 0'));
    await until(() => adapter.posts.length === 2, 'both posts');
    let limited = 0;
    adapter.editBehaviour = () => {
      if (limited++ === 0) throw new DeliveryError('slow down', { retryAfterMs: 30_000 });
    };
    time.advance(2_000);
    cards.update(card('a#1', 'a 1'));
    await until(() => limited === 1, 'the 429');
    const limitedAt = time.now;
    cards.update(card('b#1', 'b 1'));
    await runUntil(time, () => adapter.shown.get('m1') === 'a 1' && adapter.shown.get('m2') === 'b 1', 1_000);
    for (const edit of adapter.edits) expect(edit.at).toBeGreaterThanOrEqual(limitedAt + 30_000);
    expect(cards.stats().rateLimited).toBe(1);
  });

  it('ordinary messages go before edits: an echo queued while edits wait is delivered first', async () => {
    const { time, adapter, outbox, cards } = setUp({ intervalMs: 2_000 });
    cards.update(card('kumo#1', 'working 0'));
    await until(() => adapter.posts.length === 1, 'the first post');
    time.advance(2_000);
    cards.update(card('kumo#1', 'working 1'));
    outbox.enqueue({ origin: C1, reply: reply('📨 echo of the next prompt') });
    await runUntil(time, () => adapter.edits.length === 1);
    const echo = adapter.posts.find((p) => p.text.startsWith('📨'))!;
    expect(echo).toBeDefined();
    expect(adapter.posts.indexOf(echo)).toBe(1);
    expect(echo.at).toBeLessThanOrEqual(adapter.edits[0]!.at);
  });
});

describe('cards: restarts and deleted cards', () => {
  it('after a restart the bot keeps editing the same message, and writes a state that was waiting', async () => {
    const time = manualTime();
    const first = setUp({ time });
    first.cards.update(card('kumo#1', 'working 1'));
    await until(() => first.adapter.posts.length === 1, 'the first post');
    first.cards.update(card('kumo#1', 'working 2'));
    await first.cards.stop();
    await first.outbox.stop();
    first.db.close();

    const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
    const second = setUp({ time, db });
    // The new process's chat knows the message posted before the restart.
    second.adapter.shown.set('m1', 'working 1');
    await runUntil(time, () => second.adapter.shown.get('m1') === 'working 2');
    second.cards.update(card('kumo#1', 'finished', true));
    await runUntil(time, () => second.adapter.shown.get('m1') === 'finished');
    expect(second.adapter.posts).toHaveLength(0);
    expect(second.adapter.edits.map((e) => e.id)).toEqual(['m1', 'm1']);
  });

  it('a card deleted in chat is posted again once, and later states edit the new one', async () => {
    const { time, adapter, cards } = setUp();
    cards.update(card('kumo#1', 'working 1'));
    await until(() => adapter.posts.length === 1, 'the first post');
    adapter.shown.delete('m1');
    time.advance(2_000);
    cards.update(card('kumo#1', 'working 2'));
    await runUntil(time, () => adapter.posts.length === 2);
    expect(adapter.posts[1]!.text).toBe('working 2');
    time.advance(2_000);
    cards.update(card('kumo#1', 'working 3'));
    await runUntil(time, () => adapter.shown.get('m2') === 'working 3');
    // Deleted again: left alone, no third card.
    adapter.shown.delete('m2');
    time.advance(2_000);
    cards.update(card('kumo#1', 'working 4'));
    await runUntil(time, () => cards.stats().replaced === 1 && adapter.edits.length === 1);
    time.advance(10_000);
    await settle(10);
    expect(adapter.posts).toHaveLength(2);
    expect(cards.stats().replaced).toBe(1);
  });
});

describe('cards: pieces', () => {
  it('the edit window spreads edits evenly, waits for the oldest edit to leave it, and for a pause', () => {
    const window = createEditWindow();
    const budget: EditBudget = { edits: 2, perMs: 1_000, scope: 'channel' };
    expect(window.waitMs('c', budget, 0)).toBe(0);
    window.take('c', 0);
    // One edit per 500 ms at most: no burst of the whole window.
    expect(window.waitMs('c', budget, 100)).toBe(400);
    window.take('c', 600);
    // Two in the window: the next waits for the one at 0 to leave it (at 1 000), and for the spacing (1 100).
    expect(window.waitMs('c', budget, 700)).toBe(400);
    expect(window.waitMs('c', budget, 1_050)).toBe(50);
    expect(window.waitMs('c', budget, 1_100)).toBe(0);
    window.pause('c', 3_000);
    expect(window.waitMs('c', budget, 2_000)).toBe(1_000);
    expect(window.waitMs('other', budget, 2_000)).toBe(0);
  });

  it('cards.minEditInterval defaults to 2s and refuses less', () => {
    expect(fileConfigSchema.parse({}).cards).toEqual({ minEditInterval: '2s' });
    expect(fileConfigSchema.safeParse({ cards: { minEditInterval: '1s' } }).success).toBe(false);
    expect(fileConfigSchema.parse({ cards: { minEditInterval: '5s' } }).cards.minEditInterval).toBe('5s');
  });
});
