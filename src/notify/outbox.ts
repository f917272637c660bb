import type { Adapter, OutgoingMessage } from '../core/adapter.js';
import { DeliveryError } from '../core/adapter.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Origin } from '../core/origin.js';
import type { Reply } from '../core/reply.js';
import type { Db } from '../sessions/database.js';
import { retryDelayMs } from '../core/backoff.js';
import { createWake } from './wake.js';

/**
 * What an adapter renders: the blocks and the tone. `data` (the `--json` form of an answer) is read only from a
 * reply returned to the one-shot CLI, never from the outbox, and repeats what the blocks say (a final output
 * would be stored twice, or three times with a task's record), so it is not stored.
 */
function withoutData(reply: Reply): Reply {
  const { data: _unread, ...rest } = reply;
  return rest;
}

/** What callers hand the outbox: a message without the id the outbox gives it. */
export type Enqueue = Omit<OutgoingMessage, 'id'>;

/**
 * The same for every attempt at one row, across restarts, and unlike any other row of any database (the row id
 * with its creation time): what a platform that drops a repeated create by key needs (Discord's nonce). 16
 * characters at most until the year 5188.
 */
export function deliveryKeyOf(row: Pick<Row, 'id' | 'created_at'>): string {
  return `${row.id.toString(36)}-${row.created_at.toString(36)}`;
}

interface Row {
  id: number;
  lane: string;
  adapter: string;
  origin: string;
  reply: string;
  actor: string | null;
  thread_key: string | null;
  opens_thread: number;
  private_to: string | null;
  attempts: number;
  next_at: number;
  created_at: number;
  attempt_started_at: number | null;
}

export interface OutboxOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Transforms every reply before it is written (the scrubber), so the table holds only what may be posted. */
  sanitize?: (reply: Reply) => Reply;
  /** Wakes delivery later; injected so tests can run it by hand. */
  setTimer?: (fn: () => void, ms: number) => { unref?: () => void; ref?: () => void } | unknown;
}

export type Outbox = ReturnType<typeof createOutbox>;

/** Messages to one channel of one adapter go out in order, one at a time: that is a lane. */
export function outboxLane(origin: Origin): string {
  return `${origin.adapter}:${origin.channel}`;
}

/**
 * The durable outbox. Every message is written to SQLite before any attempt to send it, delivered in order
 * per lane (adapter + channel), retried with backoff on failure (honouring Retry-After), and still there
 * after a restart. A permanent failure is recorded and skipped so one bad message never blocks a channel.
 */
export function createOutbox(options: OutboxOptions) {
  const { db, clock, logger } = options;
  const sanitize = options.sanitize ?? ((reply: Reply) => reply);
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const adapters = new Map<string, Adapter>();
  const busyLanes = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  const lastSentAt = new Map<string, number>();
  const drainWaiters: Array<{ adapter?: string; resolve: () => void }> = [];
  let stopped = false;
  /** Lanes written to since the last pump: a burst of messages makes one pump over just those lanes. */
  const touched = new Set<string>();

  const insert = db.prepare(`
    INSERT INTO outbox (lane, adapter, origin, reply, actor, thread_key, opens_thread, private_to, created_at, next_at)
    VALUES (@lane, @adapter, @origin, @reply, @actor, @thread_key, @opens_thread, @private_to, @now, @now)`);
  const lanesDue = db.prepare<[], { lane: string; adapter: string; next_at: number }>(`
    SELECT lane, adapter, MIN(next_at) AS next_at FROM (
      SELECT o.lane, o.adapter, o.next_at FROM outbox o
      WHERE o.sent_at IS NULL AND o.failed_at IS NULL
        AND o.id = (SELECT MIN(id) FROM outbox p WHERE p.lane = o.lane AND p.sent_at IS NULL AND p.failed_at IS NULL)
    ) GROUP BY lane`);
  const headOfLane = db.prepare<[string], Row>(
    'SELECT * FROM outbox WHERE lane = ? AND sent_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT 1',
  );
  const markSent = db.prepare('UPDATE outbox SET sent_at = ?, attempts = attempts + 1, message_id = ? WHERE id = ?');
  // Written before an adapter is called: a row found with an attempt started and not sent was cut short by a crash.
  const markAttemptStarted = db.prepare('UPDATE outbox SET attempt_started_at = ? WHERE id = ?');
  const reviseUnsent = db.prepare(
    'UPDATE outbox SET reply = ? WHERE id = ? AND sent_at IS NULL AND failed_at IS NULL AND attempt_started_at IS NULL',
  );
  // An adapter that throws says nothing went out (a 429, a refused post): the retry is no repeat.
  const markRetry = db.prepare('UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ?, attempt_started_at = NULL WHERE id = ?');
  const markFailed = db.prepare('UPDATE outbox SET attempts = attempts + 1, failed_at = ?, last_error = ? WHERE id = ?');
  const pendingCount = db.prepare<[string], { n: number }>(
    'SELECT COUNT(*) AS n FROM outbox WHERE adapter = ? AND sent_at IS NULL AND failed_at IS NULL',
  );
  const pendingAll = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL');
  const findThread = db.prepare<[string, string, string], { thread_id: string }>(
    'SELECT thread_id FROM threads WHERE adapter = ? AND channel = ? AND key = ?',
  );
  const saveThread = db.prepare('INSERT OR IGNORE INTO threads (adapter, channel, key, thread_id) VALUES (?, ?, ?, ?)');
  const dueInLane = db.prepare<[string, number], { id: number }>(
    'SELECT id FROM outbox WHERE lane = ? AND sent_at IS NULL AND failed_at IS NULL AND next_at <= ? LIMIT 1',
  );

  const laneOf = outboxLane;

  const schedule = createWake(clock, setTimer, () => pump(), () => stopped);

  function settleWaiters(): void {
    for (let i = drainWaiters.length - 1; i >= 0; i--) {
      const waiter = drainWaiters[i]!;
      const left = waiter.adapter ? pendingCount.get(waiter.adapter)!.n : pendingAll.get()!.n;
      if (left === 0) {
        drainWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /**
   * Starts one delivery per lane that is due and not already sending: the given lanes only (after an
   * enqueue or a delivery, an indexed look at each lane's head), or every lane (timers, and the periodic
   * rescan that picks up messages another process wrote).
   */
  function pump(lanes?: ReadonlySet<string>): void {
    if (stopped) return;
    const now = clock.now();
    const candidates = lanes
      ? [...lanes].flatMap((lane) => {
          const head = headOfLane.get(lane);
          return head ? [{ lane, adapter: head.adapter, next_at: head.next_at }] : [];
        })
      : lanesDue.all();
    for (const due of candidates) {
      if (busyLanes.has(due.lane) || !adapters.has(due.adapter)) continue;
      const adapter = adapters.get(due.adapter)!;
      const spacing = adapter.minIntervalMs ?? 0;
      const earliest = Math.max(due.next_at, (lastSentAt.get(due.lane) ?? 0) + spacing);
      if (earliest > now) {
        schedule(earliest);
        continue;
      }
      busyLanes.add(due.lane);
      const delivery = deliverHead(due.lane, adapter).finally(() => {
        inFlight.delete(delivery);
        busyLanes.delete(due.lane);
        if (stopped) return;
        settleWaiters();
        pump(new Set([due.lane]));
      });
      inFlight.add(delivery);
    }
    settleWaiters();
  }

  async function deliverHead(lane: string, adapter: Adapter): Promise<void> {
    const row = headOfLane.get(lane);
    if (!row) return;
    let origin = JSON.parse(row.origin) as Origin;
    if (row.thread_key && origin.thread === undefined) {
      const known = findThread.get(origin.adapter, origin.channel, row.thread_key);
      if (known) origin = { ...origin, thread: known.thread_id };
    }
    const message: OutgoingMessage = {
      id: row.id,
      origin,
      reply: JSON.parse(row.reply) as Reply,
      ...(row.actor ? { actor: row.actor } : {}),
      ...(row.thread_key ? { threadKey: row.thread_key } : {}),
      ...(row.opens_thread ? { opensThread: true } : {}),
      ...(row.private_to ? { privateTo: row.private_to } : {}),
      ...(row.attempt_started_at !== null ? { repeat: true } : {}),
      deliveryKey: deliveryKeyOf(row),
    };
    try {
      markAttemptStarted.run(clock.now(), row.id);
      const result = await adapter.deliver(message);
      markSent.run(clock.now(), result.messageId ?? null, row.id);
      lastSentAt.set(lane, clock.now());
      if (row.thread_key && result.threadId && origin.thread === undefined) {
        saveThread.run(origin.adapter, origin.channel, row.thread_key, result.threadId);
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof DeliveryError && error.permanent) {
        markFailed.run(clock.now(), reason, row.id);
        logger.error('outbox: message rejected for good', { id: row.id, lane, reason });
        return;
      }
      const wait =
        error instanceof DeliveryError && error.retryAfterMs !== undefined
          ? error.retryAfterMs
          : retryDelayMs(row.attempts + 1);
      markRetry.run(clock.now() + wait, reason, row.id);
      logger.warn('outbox: delivery failed, will retry', { id: row.id, lane, inMs: wait, reason });
      schedule(clock.now() + wait);
    }
  }

  return {
    /** Writes the message, then starts delivery. Returns the row id. */
    enqueue(message: Enqueue): number {
      const origin = message.origin;
      const result = insert.run({
        lane: laneOf(origin),
        adapter: origin.adapter,
        origin: JSON.stringify(origin),
        reply: JSON.stringify(sanitize(withoutData(message.reply))),
        actor: message.actor ?? null,
        thread_key: message.threadKey ?? null,
        opens_thread: message.opensThread ? 1 : 0,
        private_to: message.privateTo ?? null,
        now: clock.now(),
      });
      // One pump for a burst of messages (a tick may enqueue hundreds), not one per message.
      if (touched.size === 0) {
        setImmediate(() => {
          const lanes = new Set(touched);
          touched.clear();
          pump(lanes);
        });
      }
      touched.add(laneOf(origin));
      return Number(result.lastInsertRowid);
    },
    /**
     * Replaces the reply of a message no delivery has started on yet; false once one has (or it is gone). A live
     * card whose first post still waits behind its echo goes out with its newest state instead of an edit later.
     */
    revise(id: number, reply: Reply): boolean {
      return reviseUnsent.run(JSON.stringify(sanitize(withoutData(reply))), id).changes === 1;
    },
    register(adapter: Adapter): void {
      adapters.set(adapter.name, adapter);
      pump();
    },
    unregister(name: string): void {
      adapters.delete(name);
    },
    /** Resolves when nothing is left to send (for one adapter, or at all). */
    drained(adapter?: string): Promise<void> {
      return new Promise((resolve) => {
        drainWaiters.push(adapter === undefined ? { resolve } : { adapter, resolve });
        settleWaiters();
      });
    },
    pending(adapter?: string): number {
      return adapter ? pendingCount.get(adapter)!.n : pendingAll.get()!.n;
    },
    threadFor(origin: Origin, key: string): string | undefined {
      return findThread.get(origin.adapter, origin.channel, key)?.thread_id;
    },
    /** The registered adapter of that name: live cards are edited through the same adapters. */
    adapter(name: string): Adapter | undefined {
      return adapters.get(name);
    },
    /** An ordinary message to this channel is due and not sent yet: card edits there wait for it (priority). */
    waiting(origin: Origin): boolean {
      return dueInLane.get(laneOf(origin), clock.now()) !== undefined;
    },
    /** Looks at every lane (the monitor calls it each second, for messages other processes queued). */
    pump: () => pump(),
    /** Starts nothing new and resolves when the deliveries under way have been recorded. */
    async stop(): Promise<void> {
      stopped = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}
