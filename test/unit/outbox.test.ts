import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allMigrations } from '../../src/app.js';
import { DeliveryError, type Adapter, type DeliveryResult, type OutgoingMessage } from '../../src/core/adapter.js';
import type { Logger } from '../../src/core/logger.js';
import type { Origin } from '../../src/core/origin.js';
import { reply, replyToPlainText, type Reply } from '../../src/core/reply.js';
import { retryDelayMs } from '../../src/core/backoff.js';
import { createOutbox, type Outbox, type OutboxOptions } from '../../src/notify/outbox.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { manualTime, settle, until, within } from './helpers/wait.js';

type Behaviour = (message: OutgoingMessage, attempt: number) => DeliveryResult | Promise<DeliveryResult>;

/** An adapter that records every attempt and success; `behaviour` decides what each attempt does. */
class RecordingAdapter implements Adapter {
  readonly attempts: Array<{ text: string; at: number; message: OutgoingMessage }> = [];
  readonly delivered: OutgoingMessage[] = [];
  private readonly tries = new Map<number, number>();
  inFlight = new Map<string, number>();
  maxInFlightPerLane = 0;

  constructor(
    readonly name: string,
    private readonly now: () => number,
    public behaviour: Behaviour = () => ({}),
    readonly minIntervalMs?: number,
  ) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async deliver(message: OutgoingMessage): Promise<DeliveryResult> {
    const attempt = (this.tries.get(message.id) ?? 0) + 1;
    this.tries.set(message.id, attempt);
    this.attempts.push({ text: replyToPlainText(message.reply), at: this.now(), message });
    const lane = message.origin.channel;
    this.inFlight.set(lane, (this.inFlight.get(lane) ?? 0) + 1);
    this.maxInFlightPerLane = Math.max(this.maxInFlightPerLane, this.inFlight.get(lane)!);
    try {
      const result = await this.behaviour(message, attempt);
      this.delivered.push(message);
      return result;
    } finally {
      this.inFlight.set(lane, this.inFlight.get(lane)! - 1);
    }
  }

  texts(channel?: string): string[] {
    return this.delivered.filter((m) => channel === undefined || m.origin.channel === channel).map((m) => replyToPlainText(m.reply));
  }
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

const C1: Origin = { adapter: 'chat', channel: 'C1' };
const C2: Origin = { adapter: 'chat', channel: 'C2' };

let dir: string;
let dbs: Db[];
let outboxes: Outbox[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sb-outbox-'));
  dbs = [];
  outboxes = [];
});

afterEach(() => {
  for (const outbox of outboxes) outbox.stop();
  for (const db of dbs) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): Db {
  const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
  dbs.push(db);
  return db;
}

function outboxOn(db: Db, options: Partial<OutboxOptions> & Pick<OutboxOptions, 'clock'>): Outbox {
  const outbox = createOutbox({ db, logger: recordingLogger().logger, ...options });
  outboxes.push(outbox);
  return outbox;
}

const say = (text: string): Reply => reply(text);

interface RowView {
  id: number;
  attempts: number;
  sent_at: number | null;
  failed_at: number | null;
  next_at: number;
  last_error: string | null;
  message_id: string | null;
}
const rows = (db: Db) => db.prepare('SELECT id, attempts, sent_at, failed_at, next_at, last_error, message_id FROM outbox ORDER BY id').all() as RowView[];

describe('outbox: durability and order', () => {
  it('writes every message before it is sent', async () => {
    const db = open();
    const time = manualTime();
    const seenInDb: Array<RowView | undefined> = [];
    const adapter = new RecordingAdapter('chat', time.clock.now, (message) => {
      seenInDb.push(db.prepare('SELECT id, attempts, sent_at, failed_at, next_at, last_error, message_id FROM outbox WHERE id = ?').get(message.id) as RowView);
      return { messageId: `m${message.id}` };
    });
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.register(adapter);
    const id = outbox.enqueue({ origin: C1, reply: say('hello') });
    // Written synchronously, before any delivery attempt.
    expect(rows(db)).toEqual([{ id, attempts: 0, sent_at: null, failed_at: null, next_at: time.now, last_error: null, message_id: null }]);
    expect(adapter.attempts).toHaveLength(0);
    await within(outbox.drained(), 5_000, 'drain');
    expect(seenInDb).toEqual([{ id, attempts: 0, sent_at: null, failed_at: null, next_at: time.now, last_error: null, message_id: null }]);
    expect(rows(db)).toEqual([{ id, attempts: 1, sent_at: time.now, failed_at: null, next_at: time.now, last_error: null, message_id: `m${id}` }]);
  });

  it('delivers in order per lane, one at a time', async () => {
    const db = open();
    const time = manualTime();
    const releases: Array<() => void> = [];
    const adapter = new RecordingAdapter('chat', time.clock.now, () => new Promise<DeliveryResult>((resolve) => releases.push(() => resolve({}))));
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.register(adapter);
    for (let i = 1; i <= 6; i++) outbox.enqueue({ origin: C1, reply: say(`message ${i}`) });
    for (let i = 0; i < 6; i++) {
      await until(() => releases.length === i + 1, `attempt ${i + 1}`);
      await settle();
      expect(adapter.attempts).toHaveLength(i + 1);
      releases[i]!();
    }
    await within(outbox.drained(), 5_000, 'drain');
    expect(adapter.texts()).toEqual([1, 2, 3, 4, 5, 6].map((i) => `message ${i}`));
    expect(adapter.maxInFlightPerLane).toBe(1);
  });

  it('keeps messages until their adapter is registered', async () => {
    const db = open();
    const time = manualTime();
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.enqueue({ origin: C1, reply: say('early') });
    await settle();
    expect(outbox.pending()).toBe(1);
    expect(outbox.pending('chat')).toBe(1);
    expect(outbox.pending('other')).toBe(0);
    const adapter = new RecordingAdapter('chat', time.clock.now);
    outbox.register(adapter);
    await within(outbox.drained(), 5_000, 'drain');
    expect(adapter.texts()).toEqual(['early']);
    expect(outbox.pending()).toBe(0);
  });

  it('messages survive closing and reopening the database; a new outbox delivers what the old one had not', async () => {
    const time = manualTime();
    const first = open();
    const before = outboxOn(first, { clock: time.clock, setTimer: time.setTimer });
    const oldAdapter = new RecordingAdapter('chat', time.clock.now);
    before.register(oldAdapter);
    before.enqueue({ origin: C1, reply: say('sent before the restart') });
    await within(before.drained(), 5_000, 'first drain');
    before.unregister('chat');
    before.enqueue({ origin: C1, reply: say('pending 1'), actor: 'slack:U1', privateTo: 'slack:U1' });
    before.enqueue({ origin: C2, reply: say('pending 2') });
    before.enqueue({ origin: C1, reply: say('pending 3') });
    await settle();
    before.stop();
    first.close();

    const second = open();
    const after = outboxOn(second, { clock: time.clock, setTimer: time.setTimer });
    expect(after.pending()).toBe(3);
    const newAdapter = new RecordingAdapter('chat', time.clock.now);
    after.register(newAdapter);
    await within(after.drained(), 5_000, 'second drain');
    expect(oldAdapter.texts()).toEqual(['sent before the restart']);
    expect(newAdapter.texts('C1')).toEqual(['pending 1', 'pending 3']);
    expect(newAdapter.texts('C2')).toEqual(['pending 2']);
    const restored = newAdapter.delivered.find((m) => replyToPlainText(m.reply) === 'pending 1')!;
    expect(restored.actor).toBe('slack:U1');
    expect(restored.privateTo).toBe('slack:U1');
    expect(restored.origin).toEqual(C1);
  });
});

describe('outbox: lanes', () => {
  it('a slow lane does not block another lane', async () => {
    const db = open();
    const time = manualTime();
    let releaseSlow: (() => void) | undefined;
    const adapter = new RecordingAdapter('chat', time.clock.now, (message) =>
      message.origin.channel === 'C1' ? new Promise<DeliveryResult>((resolve) => (releaseSlow = () => resolve({}))) : {},
    );
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.register(adapter);
    outbox.enqueue({ origin: C1, reply: say('slow 1') });
    outbox.enqueue({ origin: C1, reply: say('slow 2') });
    outbox.enqueue({ origin: C2, reply: say('fast 1') });
    outbox.enqueue({ origin: C2, reply: say('fast 2') });
    await until(() => adapter.texts('C2').length === 2, 'the fast lane');
    expect(adapter.texts('C1')).toEqual([]);
    releaseSlow!();
    await until(() => adapter.attempts.length === 4, 'the attempt of slow 2');
    releaseSlow!();
    await within(outbox.drained(), 5_000, 'drain');
    expect(adapter.texts('C1')).toEqual(['slow 1', 'slow 2']);
  });

  it('a failing lane waiting for its retry does not block another lane', async () => {
    const db = open();
    const time = manualTime();
    const adapter = new RecordingAdapter('chat', time.clock.now, (message) => {
      if (message.origin.channel === 'C1') throw new DeliveryError('rate limited', { retryAfterMs: 60_000 });
      return {};
    });
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.register(adapter);
    outbox.enqueue({ origin: C1, reply: say('stuck') });
    outbox.enqueue({ origin: C2, reply: say('free') });
    await until(() => adapter.texts('C2').length === 1 && rows(db)[0]!.attempts === 1, 'the free lane');
    expect(adapter.texts('C2')).toEqual(['free']);
    expect(adapter.texts('C1')).toEqual([]);
    expect(outbox.pending()).toBe(1);
    expect(outbox.pending('chat')).toBe(1);
  });

  it('drained(adapter) waits only for that adapter', async () => {
    const db = open();
    const time = manualTime();
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.register(new RecordingAdapter('console', time.clock.now));
    outbox.enqueue({ origin: { adapter: 'console', channel: 'tty' }, reply: say('for the console') });
    outbox.enqueue({ origin: { adapter: 'slack', channel: 'C9' }, reply: say('for slack, not registered') });
    await within(outbox.drained('console'), 5_000, 'console drain');
    expect(outbox.pending('console')).toBe(0);
    let all = false;
    void outbox.drained().then(() => (all = true));
    await settle();
    expect(all).toBe(false);
    outbox.register(new RecordingAdapter('slack', time.clock.now));
    await until(() => all, 'full drain');
  });

  it('drained() resolves at once when nothing is pending', async () => {
    const outbox = outboxOn(open(), { clock: manualTime().clock });
    await within(outbox.drained(), 5_000, 'empty drain');
  });
});

describe('outbox: retries and failures', () => {
  it('retries after the DeliveryError retryAfterMs, keeping the order of the lane', async () => {
    const db = open();
    const time = manualTime();
    const t0 = time.now;
    const adapter = new RecordingAdapter('chat', time.clock.now, (message, attempt) => {
      if (replyToPlainText(message.reply) === 'one' && attempt === 1) throw new DeliveryError('429 Too Many Requests', { retryAfterMs: 5_000 });
      return {};
    });
    const { logger, lines } = recordingLogger();
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer, logger });
    outbox.register(adapter);
    outbox.enqueue({ origin: C1, reply: say('one') });
    outbox.enqueue({ origin: C1, reply: say('two') });
    await until(() => time.pending().includes(t0 + 5_000) && rows(db)[0]!.attempts === 1, 'the retry to be scheduled');
    await settle();
    expect(adapter.attempts.map((a) => a.text)).toEqual(['one']);
    expect(rows(db)[0]).toMatchObject({ attempts: 1, sent_at: null, next_at: t0 + 5_000, last_error: '429 Too Many Requests' });
    expect(lines.some((l) => l.level === 'warn' && l.fields?.inMs === 5_000)).toBe(true);

    time.advance(4_999);
    await settle();
    expect(adapter.attempts.map((a) => a.text)).toEqual(['one']);

    time.advance(1);
    await within(outbox.drained(), 5_000, 'drain');
    expect(adapter.attempts.map((a) => [a.text, a.at])).toEqual([
      ['one', t0],
      ['one', t0 + 5_000],
      ['two', t0 + 5_000],
    ]);
    expect(adapter.texts()).toEqual(['one', 'two']);
    expect(rows(db).map((r) => r.attempts)).toEqual([2, 1]);
  });

  it('retries other failures with exponential backoff', async () => {
    const db = open();
    const time = manualTime();
    const t0 = time.now;
    const adapter = new RecordingAdapter('chat', time.clock.now, (_message, attempt) => {
      if (attempt <= 2) throw new Error('socket hang up');
      return {};
    });
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.register(adapter);
    outbox.enqueue({ origin: C1, reply: say('flaky') });
    await until(() => time.pending().includes(t0 + retryDelayMs(1)), 'first retry');
    time.advance(retryDelayMs(1));
    await until(() => time.pending().includes(t0 + retryDelayMs(1) + retryDelayMs(2)), 'second retry');
    time.advance(retryDelayMs(2));
    await within(outbox.drained(), 5_000, 'drain');
    expect(adapter.attempts.map((a) => a.at - t0)).toEqual([0, 1_000, 3_000]);
    expect(rows(db)[0]).toMatchObject({ attempts: 3, last_error: 'socket hang up' });
    expect(rows(db)[0]!.sent_at).toBe(t0 + 3_000);
  });

  it('a permanent DeliveryError marks the message failed and the lane moves on', async () => {
    const db = open();
    const time = manualTime();
    const adapter = new RecordingAdapter('chat', time.clock.now, (message) => {
      if (replyToPlainText(message.reply) === 'bad') throw new DeliveryError('channel_not_found', { permanent: true });
      return {};
    });
    const { logger, lines } = recordingLogger();
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer, logger });
    outbox.register(adapter);
    outbox.enqueue({ origin: C1, reply: say('bad') });
    outbox.enqueue({ origin: C1, reply: say('good') });
    await within(outbox.drained(), 5_000, 'drain');
    expect(adapter.attempts.map((a) => a.text)).toEqual(['bad', 'good']);
    expect(adapter.texts()).toEqual(['good']);
    const [bad, good] = rows(db);
    expect(bad).toMatchObject({ attempts: 1, sent_at: null, failed_at: time.now, last_error: 'channel_not_found' });
    expect(good).toMatchObject({ attempts: 1, sent_at: time.now, failed_at: null });
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(time.pending()).toEqual([]);
  });

  it('respects minIntervalMs between two messages of one lane, not across lanes', async () => {
    const db = open();
    const time = manualTime();
    const t0 = time.now;
    const adapter = new RecordingAdapter('chat', time.clock.now, () => ({}), 1_000);
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.register(adapter);
    for (const text of ['a', 'b', 'c']) outbox.enqueue({ origin: C1, reply: say(text) });
    outbox.enqueue({ origin: C2, reply: say('other lane') });
    await until(() => adapter.delivered.length === 2 && time.pending().includes(t0 + 1_000), 'first of each lane');
    expect(adapter.texts('C2')).toEqual(['other lane']);
    time.advance(999);
    await settle();
    expect(adapter.texts('C1')).toEqual(['a']);
    time.advance(1);
    await until(() => adapter.texts('C1').length === 2 && time.pending().includes(t0 + 2_000), 'b');
    time.advance(1_000);
    await within(outbox.drained(), 5_000, 'drain');
    expect(adapter.attempts.filter((a) => a.message.origin.channel === 'C1').map((a) => [a.text, a.at - t0])).toEqual([
      ['a', 0],
      ['b', 1_000],
      ['c', 2_000],
    ]);
  });

  it('sanitizes every reply before it is written, so the database never holds what may not be posted', async () => {
    const db = open();
    const time = manualTime();
    const adapter = new RecordingAdapter('chat', time.clock.now);
    const outbox = outboxOn(db, {
      clock: time.clock,
      setTimer: time.setTimer,
      sanitize: (r) => ({ ...r, blocks: r.blocks.map((b) => (b.type === 'text' ? { ...b, text: b.text.replaceAll('hunter2', '[redacted]') } : b)) }),
    });
    outbox.register(adapter);
    outbox.enqueue({ origin: C1, reply: say('the password is hunter2') });
    const stored = db.prepare('SELECT reply FROM outbox').all() as Array<{ reply: string }>;
    expect(stored.map((row) => row.reply).join('')).not.toContain('hunter2');
    await within(outbox.drained(), 5_000, 'drain');
    expect(adapter.texts()).toEqual(['the password is [redacted]']);
  });

  it('stops delivering after stop()', async () => {
    const db = open();
    const time = manualTime();
    const adapter = new RecordingAdapter('chat', time.clock.now);
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.register(adapter);
    outbox.stop();
    outbox.enqueue({ origin: C1, reply: say('after stop') });
    await settle();
    expect(adapter.attempts).toHaveLength(0);
    expect(outbox.pending()).toBe(1);
  });
});

describe('outbox: threads', () => {
  it('a message that opens a thread makes later messages with the same key go into it', async () => {
    const db = open();
    const time = manualTime();
    const adapter = new RecordingAdapter('chat', time.clock.now, (message) => (message.opensThread ? { messageId: 'echo', threadId: 'T-kumo' } : {}));
    const outbox = outboxOn(db, { clock: time.clock, setTimer: time.setTimer });
    outbox.register(adapter);
    // Enqueued together: the thread id is looked up when each message is delivered.
    outbox.enqueue({ origin: C1, reply: say('echo of the prompt'), threadKey: 'kumo', opensThread: true });
    outbox.enqueue({ origin: C1, reply: say('progress'), threadKey: 'kumo' });
    outbox.enqueue({ origin: C1, reply: say('about another name'), threadKey: 'hetc' });
    outbox.enqueue({ origin: C1, reply: say('no key') });
    outbox.enqueue({ origin: { ...C1, thread: 'T-explicit' }, reply: say('explicit thread'), threadKey: 'kumo' });
    await within(outbox.drained(), 5_000, 'drain');
    const byText = new Map(adapter.delivered.map((m) => [replyToPlainText(m.reply), m]));
    expect(byText.get('echo of the prompt')).toMatchObject({ origin: C1, threadKey: 'kumo', opensThread: true });
    expect(byText.get('progress')!.origin).toEqual({ ...C1, thread: 'T-kumo' });
    expect(byText.get('progress')!.opensThread).toBeUndefined();
    expect(byText.get('about another name')!.origin).toEqual(C1);
    expect(byText.get('no key')!.origin).toEqual(C1);
    expect(byText.get('explicit thread')!.origin).toEqual({ ...C1, thread: 'T-explicit' });
    expect(outbox.threadFor(C1, 'kumo')).toBe('T-kumo');
    expect(outbox.threadFor(C2, 'kumo')).toBeUndefined();
    expect(outbox.threadFor(C1, 'hetc')).toBeUndefined();
  });

  it('remembers threads across a restart', async () => {
    const time = manualTime();
    const first = open();
    const before = outboxOn(first, { clock: time.clock, setTimer: time.setTimer });
    before.register(new RecordingAdapter('chat', time.clock.now, () => ({ threadId: 'T1' })));
    before.enqueue({ origin: C1, reply: say('echo'), threadKey: 'kumo', opensThread: true });
    await within(before.drained(), 5_000, 'drain');
    before.stop();
    first.close();
    const after = outboxOn(open(), { clock: time.clock, setTimer: time.setTimer });
    const adapter = new RecordingAdapter('chat', time.clock.now);
    after.register(adapter);
    after.enqueue({ origin: C1, reply: say('final'), threadKey: 'kumo' });
    await within(after.drained(), 5_000, 'drain');
    expect(adapter.delivered[0]!.origin).toEqual({ ...C1, thread: 'T1' });
  });
});

describe('retryDelayMs', () => {
  it('doubles from 1 s and caps at 5 min', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(retryDelayMs(9)).toBe(256_000);
    expect(retryDelayMs(10)).toBe(300_000);
    expect(retryDelayMs(1_000_000)).toBe(300_000);
  });

  it('treats attempt 0 and below as the first', () => {
    expect(retryDelayMs(0)).toBe(1_000);
    expect(retryDelayMs(-3)).toBe(1_000);
  });

  it('takes a base and a cap', () => {
    expect(retryDelayMs(3, 100, 250)).toBe(250);
    expect(retryDelayMs(2, 100, 250)).toBe(200);
  });

  it('never decreases and never exceeds the cap', () => {
    let previous = 0;
    for (let n = 1; n <= 100; n++) {
      const delay = retryDelayMs(n);
      expect(delay).toBeGreaterThanOrEqual(previous);
      expect(delay).toBeLessThanOrEqual(300_000);
      previous = delay;
    }
  });
});
