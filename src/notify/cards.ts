import { createHash } from 'node:crypto';
import { DeliveryError, type Adapter, type EditBudget, type OutgoingMessage } from '../core/adapter.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { channelOf, type Origin } from '../core/origin.js';
import type { Reply } from '../core/reply.js';
import type { Db } from '../sessions/database.js';
import { retryDelayMs } from '../core/backoff.js';
import type { CardSink, CardUpdate } from './card-sink.js';
import { createEditWindow } from './edit-budget.js';
import { outboxLane, type Outbox } from './outbox.js';
import { createWake, type SetTimer } from './wake.js';

export interface CardsOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Posts the first state of each card, in order with the rest of its channel; adapters are looked up here. */
  outbox: Pick<Outbox, 'enqueue' | 'revise' | 'adapter' | 'waiting' | 'threadFor'>;
  /** At most one edit per card this often (`cards.minEditInterval`). */
  minEditIntervalMs: number;
  /** The outbox's scrubber: what is stored and shown is what may be posted. */
  sanitize?: (reply: Reply) => Reply;
  setTimer?: SetTimer;
  /** How long to look again when a card waits for its first post or for ordinary messages to go first. */
  pollMs?: number;
  /** Hears every state of a live card as it is drawn (its reply sanitized as stored); the fleet page listens. */
  onUpdate?: (card: CardUpdate) => void;
}

/** Counters for tests and the bench: what the card layer asked of the platforms and how they answered. */
export interface CardStats {
  posts: number;
  edits: number;
  rateLimited: number;
  replaced: number;
  failed: number;
}

interface CardRow {
  rowid: number;
  key: string;
  adapter: string;
  origin: string;
  thread_key: string | null;
  actor: string | null;
  message_id: string | null;
  shown: string;
  shown_hash: string;
  pending: string | null;
  pending_hash: string | null;
  final: number;
  next_at: number;
  attempts: number;
  replaced: number;
  posted_id: string | null;
  post_sent: number | null;
  post_failed: number | null;
}

/** Edits of cards on an adapter that states no budget: about Discord's five per five seconds per channel. */
const DEFAULT_BUDGET: EditBudget = { edits: 4, perMs: 5_000, scope: 'channel' };
/** A card deleted in chat is posted again once; deleted again, it is left alone (someone wants it gone). */
const MAX_REPLACEMENTS = 1;
/** Finished cards are kept a week (a late update of the key is still known to be over), then dropped at start. */
const KEEP_DONE_MS = 7 * 24 * 3_600_000;

export type Cards = CardSink & {
  /** Looks for due edits now (also after a restart: pending states in the database are written). */
  start(): void;
  stop(): Promise<void>;
  /** Resolves when no card has a state waiting to be written. */
  settled(): Promise<void>;
  stats(): CardStats;
};

/**
 * One run = one message: the first state of a card is an ordinary outbox message (so it lands after the prompt
 * echo), later states edit it in place. Only the newest state is kept; edits go at most once per card every
 * `minEditIntervalMs`, within the adapter's edit budget, never while an ordinary message to that channel waits,
 * and a 429 only delays the newest state, which is always written in the end.
 */
export function createCards(options: CardsOptions): Cards {
  const { db, clock, logger, outbox } = options;
  const sanitize = options.sanitize ?? ((reply: Reply) => reply);
  const setTimer: SetTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const pollMs = options.pollMs ?? 250;
  const window = createEditWindow();
  const inFlight = new Map<string, Promise<void>>();
  const counters: CardStats = { posts: 0, edits: 0, rateLimited: 0, replaced: 0, failed: 0 };
  const settledWaiters: Array<() => void> = [];
  let stopped = false;

  const find = db.prepare<[string], { final: number; shown_hash: string; pending_hash: string | null; post_id: number | null; message_id: string | null }>(
    'SELECT final, shown_hash, pending_hash, post_id, message_id FROM cards WHERE key = ?',
  );
  const foldIntoPost = db.prepare(`
    UPDATE cards SET shown = @shown, shown_hash = @hash, pending = NULL, pending_hash = NULL, final = @final,
      done_at = CASE WHEN @final = 1 THEN @now END, updated_at = @now
    WHERE key = @key`);
  const insert = db.prepare(`
    INSERT INTO cards (key, adapter, lane, origin, thread_key, actor, post_id, shown, shown_hash, final, done_at, next_at, created_at, updated_at)
    VALUES (@key, @adapter, @lane, @origin, @thread_key, @actor, @post_id, @shown, @hash, @final, @done_at, @next_at, @now, @now)`);
  const setPending = db.prepare(
    'UPDATE cards SET pending = ?, pending_hash = ?, final = ?, updated_at = ? WHERE key = ?',
  );
  const finishUnchanged = db.prepare('UPDATE cards SET final = 1, pending = NULL, pending_hash = NULL, done_at = ?, updated_at = ? WHERE key = ?');
  const live = db.prepare<[], CardRow>(`
    SELECT c.rowid, c.key, c.adapter, c.origin, c.thread_key, c.actor, c.message_id, c.shown, c.shown_hash, c.pending,
           c.pending_hash, c.final, c.next_at, c.attempts, c.replaced,
           o.message_id AS posted_id, o.sent_at AS post_sent, o.failed_at AS post_failed
    FROM cards c LEFT JOIN outbox o ON o.id = c.post_id
    WHERE c.pending IS NOT NULL AND c.done_at IS NULL
    ORDER BY c.final DESC, c.next_at, c.rowid`);
  const learnPost = db.prepare('UPDATE cards SET message_id = ?, origin = ? WHERE key = ?');
  const written = db.prepare(`
    UPDATE cards SET shown = pending, shown_hash = pending_hash, pending = NULL, pending_hash = NULL, attempts = 0,
      edits = edits + 1, next_at = @next_at, done_at = CASE WHEN final = 1 THEN @now END, last_error = NULL, updated_at = @now
    WHERE key = @key AND pending_hash = @hash`);
  const wroteOlder = db.prepare('UPDATE cards SET shown = ?, shown_hash = ?, attempts = 0, edits = edits + 1, next_at = ?, updated_at = ? WHERE key = ?');
  const retryLater = db.prepare('UPDATE cards SET attempts = attempts + 1, next_at = ?, last_error = ?, updated_at = ? WHERE key = ?');
  const giveUp = db.prepare('UPDATE cards SET pending = NULL, pending_hash = NULL, done_at = CASE WHEN final = 1 THEN ? END, last_error = ?, updated_at = ? WHERE key = ?');
  const abandon = db.prepare('UPDATE cards SET pending = NULL, pending_hash = NULL, done_at = ?, last_error = ?, updated_at = ? WHERE key = ?');
  const repost = db.prepare(`
    UPDATE cards SET post_id = @post_id, message_id = NULL, shown = pending, shown_hash = pending_hash, pending = NULL,
      pending_hash = NULL, replaced = replaced + 1, attempts = 0, next_at = @next_at,
      done_at = CASE WHEN final = 1 THEN @now END, updated_at = @now
    WHERE key = @key`);
  const prune = db.prepare('DELETE FROM cards WHERE done_at IS NOT NULL AND done_at < ?');
  const anyPending = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM cards WHERE pending IS NOT NULL AND done_at IS NULL');

  const schedule = createWake(clock, setTimer, () => flush(), () => stopped);

  function settleWaiters(): void {
    if (settledWaiters.length === 0 || inFlight.size > 0 || anyPending.get()!.n > 0) return;
    for (const resolve of settledWaiters.splice(0)) resolve();
  }

  function post(card: { origin: Origin; reply: Reply; actor?: string | null; threadKey?: string | null }): number {
    counters.posts++;
    return outbox.enqueue({
      origin: card.origin,
      reply: card.reply,
      ...(card.actor ? { actor: card.actor } : {}),
      ...(card.threadKey ? { threadKey: card.threadKey } : {}),
    });
  }

  function update(card: CardUpdate): void {
    if (stopped) return;
    const reply = sanitize(card.reply);
    const json = JSON.stringify(reply);
    const hash = createHash('sha256').update(json).digest('base64url');
    const now = clock.now();
    const known = find.get(card.key);
    if (known?.final) return;
    try {
      options.onUpdate?.({ ...card, reply });
    } catch (error) {
      // A listener's trouble is its own: the card goes on as if nobody listened.
      logger.warn('cards: a listener failed', { key: card.key, error: error instanceof Error ? error.message : String(error) });
    }
    if (!known) {
      // A reply handle answers one command (a slash command's "thinking…"): a card is its own channel message.
      const origin = channelOf(card.origin);
      // Together or not at all: a post without its card row would become a second card at the next update.
      db.transaction(() => {
        const postId = post({ origin, reply, actor: card.actor ?? null, threadKey: card.threadKey ?? null });
        insert.run({
          key: card.key,
          adapter: origin.adapter,
          lane: outboxLane(origin),
          origin: JSON.stringify(origin),
          thread_key: card.threadKey ?? null,
          actor: card.actor ?? null,
          post_id: postId,
          shown: json,
          hash,
          final: card.final ? 1 : 0,
          done_at: card.final ? now : null,
          next_at: now + options.minEditIntervalMs,
          now,
        });
      })();
      return;
    }
    // With an edit on its way the channel will show that one instead, so this state must still be written.
    if (hash === known.shown_hash && !inFlight.has(card.key)) {
      // The channel already shows this; a newer state that was waiting is superseded by it.
      if (card.final) finishUnchanged.run(now, now, card.key);
      else if (known.pending_hash !== null) setPending.run(null, null, 0, now, card.key);
      settleWaiters();
      return;
    }
    // The first post still waits in the outbox (behind the echo, or the channel's spacing): it takes this state,
    // so the channel never shows a stale first state followed an edit interval later by the real one.
    const folded =
      known.message_id === null &&
      known.post_id !== null &&
      !inFlight.has(card.key) &&
      db.transaction(() => {
        if (!outbox.revise(known.post_id!, reply)) return false;
        foldIntoPost.run({ shown: json, hash, final: card.final ? 1 : 0, now, key: card.key });
        return true;
      })();
    if (folded) {
      settleWaiters();
      return;
    }
    setPending.run(json, hash, card.final ? 1 : 0, now, card.key);
    flushSoon();
  }

  let flushQueued = false;
  /** Many updates in one turn (a monitor tick) make one flush. */
  function flushSoon(): void {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      flush();
    });
  }

  function flush(): void {
    if (stopped) return;
    const now = clock.now();
    let wake = Number.POSITIVE_INFINITY;
    for (const row of live.all()) {
      if (inFlight.has(row.key)) continue;
      const adapter = outbox.adapter(row.adapter);
      if (!adapter) {
        // Not started yet, or not configured any more: the outbox holds its messages too; look again now and then.
        wake = Math.min(wake, now + pollMs * 20);
        continue;
      }
      let origin = JSON.parse(row.origin) as Origin;
      let messageId = row.message_id;
      if (messageId === null) {
        if (row.post_failed !== null || (row.post_sent !== null && row.posted_id === null)) {
          // Refused for good, or posted where it cannot be edited (a private fallback without a message id).
          abandon.run(now, 'the card could not be posted as a message to edit', now, row.key);
          continue;
        }
        if (row.post_sent === null) {
          wake = Math.min(wake, now + pollMs);
          continue;
        }
        // Where the first state landed: the name's thread, if it had one by then. Edits go to the same place.
        const thread = row.thread_key && origin.thread === undefined ? outbox.threadFor(origin, row.thread_key) : undefined;
        if (thread) origin = { ...origin, thread };
        messageId = row.posted_id!;
        learnPost.run(messageId, JSON.stringify(origin), row.key);
      }
      if (!adapter.edit) {
        // A platform that cannot edit keeps the first state; the final output is its own message anyway.
        giveUp.run(now, null, now, row.key);
        continue;
      }
      if (row.next_at > now) {
        wake = Math.min(wake, row.next_at);
        continue;
      }
      if (outbox.waiting(origin)) {
        wake = Math.min(wake, now + pollMs);
        continue;
      }
      const budget = adapter.editBudget ?? DEFAULT_BUDGET;
      const budgetKey = budget.scope === 'adapter' ? adapter.name : outboxLane(origin);
      const wait = window.waitMs(budgetKey, budget, now);
      if (wait > 0) {
        wake = Math.min(wake, now + wait);
        continue;
      }
      window.take(budgetKey, now);
      const editing = edit(adapter, row, origin, messageId, budgetKey).finally(() => {
        inFlight.delete(row.key);
        if (stopped) return;
        flushSoon();
        settleWaiters();
      });
      inFlight.set(row.key, editing);
    }
    if (wake < Number.POSITIVE_INFINITY) schedule(wake);
    settleWaiters();
  }

  async function edit(adapter: Adapter, row: CardRow, origin: Origin, messageId: string, budgetKey: string): Promise<void> {
    const reply = JSON.parse(row.pending!) as Reply;
    const message: OutgoingMessage = {
      id: row.rowid,
      origin,
      reply,
      ...(row.actor ? { actor: row.actor } : {}),
      ...(row.thread_key ? { threadKey: row.thread_key } : {}),
      ...(row.final ? { final: true } : {}),
    };
    try {
      await adapter.edit!(message, messageId);
      counters.edits++;
      const now = clock.now();
      const next = now + options.minEditIntervalMs;
      // A newer state may have arrived while this one was on its way: it stays pending, and goes next.
      if (written.run({ key: row.key, hash: row.pending_hash, next_at: next, now }).changes === 0) {
        wroteOlder.run(row.pending, row.pending_hash, next, now, row.key);
      }
    } catch (error) {
      const now = clock.now();
      const reason = error instanceof Error ? error.message : String(error);
      const failure = error instanceof DeliveryError ? error : undefined;
      if (failure?.code === 'message_gone') return replace(row, origin, reason);
      if (failure?.code === 'rate_limited') {
        counters.rateLimited++;
        const until = now + (failure.retryAfterMs ?? 1_000);
        // The platform counts edits over the whole key: the other cards there wait as long.
        window.pause(budgetKey, until);
        retryLater.run(until, reason, now, row.key);
        logger.warn('cards: edit rate limited, the newest state waits', { key: row.key, inMs: until - now });
        return;
      }
      if (failure?.permanent) {
        counters.failed++;
        giveUp.run(now, reason, now, row.key);
        logger.error('cards: the platform refused this card state; the card keeps its previous one', { key: row.key, reason });
        return;
      }
      counters.failed++;
      const wait = retryDelayMs(row.attempts + 1);
      retryLater.run(now + wait, reason, now, row.key);
      logger.warn('cards: edit failed, will retry', { key: row.key, inMs: wait, reason });
    }
  }

  /** The card was deleted in chat: the newest state becomes a fresh card, once. */
  function replace(row: CardRow, origin: Origin, reason: string): void {
    const now = clock.now();
    if (row.replaced >= MAX_REPLACEMENTS) {
      abandon.run(now, reason, now, row.key);
      logger.info('cards: card deleted again; no more edits for it', { key: row.key });
      return;
    }
    counters.replaced++;
    const postId = post({ origin, reply: JSON.parse(row.pending!) as Reply, actor: row.actor, threadKey: row.thread_key });
    repost.run({ key: row.key, post_id: postId, next_at: now + options.minEditIntervalMs, now });
    logger.info('cards: card was deleted in chat; posted a fresh one', { key: row.key, channel: origin.channel });
  }

  return {
    update,
    start(): void {
      prune.run(clock.now() - KEEP_DONE_MS);
      flush();
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.allSettled([...inFlight.values()]);
    },
    settled(): Promise<void> {
      return new Promise((resolve) => {
        settledWaiters.push(resolve);
        settleWaiters();
      });
    },
    stats: () => ({ ...counters }),
  };
}
