import type { Clock } from './clock.js';
import { reply, type Reply } from './reply.js';
import type { Db, Migration } from '../sessions/database.js';

/**
 * Exactly once, inbound. Platforms deliver at least once: Slack retries an event it saw no 200 for within 3 s
 * (three times, the last after about five minutes), Socket Mode redelivers an envelope that was not acked before
 * a reconnect, a Discord RESUME can replay a dispatch. Each adapter names the unit it received with the
 * platform's own identities (`slack:event:Ev…`, `discord:message:…`), and the core runs each identity at most
 * once.
 *
 * Why two records, one in memory and one on disk:
 * - The durable row is written in the same transaction as the command's audit row and its reply in the outbox,
 *   never before. A claim written up front would turn a crash (or a lost first delivery) into a swallowed
 *   command: the retry would be taken for a duplicate of something that never ran.
 * - Writing it only at the end leaves a gap while the command runs (an agent server can take longer than
 *   Slack's 3 s, and the retry arrives meanwhile). The in-memory set closes that gap within this process:
 *   Node runs the check-and-add below without interruption, so of two deliveries racing, one claims and the
 *   other sees the claim. Only one bot process serves a platform's events (one SQLite file), so memory is
 *   the right scope.
 * - A crash after the command reached the agent but before the commit can still let a later retry run it
 *   again: the agent's effect and our record cannot share a transaction. The window is the command's own
 *   run time, not the hour of retention.
 */
export const INBOUND_RETENTION_MS = 2 * 60 * 60_000;

/** Prune at most this often: a sweep per command would be waste, and an hour's rows are few. */
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * What the core answers a repeated delivery with. Nothing is posted: the platform got its ack from the adapter,
 * and the person saw the first delivery's answer. Adapters check `isRepeat` before touching the message again.
 */
export const DUPLICATE: Reply = Object.freeze(reply('already handled', { data: { repeated: true } }));

export function isRepeat(answer: Reply): boolean {
  return answer === DUPLICATE;
}

export interface InboundClaim {
  readonly keys: readonly string[];
}

export type InboundLedger = ReturnType<typeof createInboundLedger>;

export function createInboundLedger(db: Db, clock: Clock, retentionMs = INBOUND_RETENTION_MS) {
  const seen = db.prepare<[string], { key: string }>('SELECT key FROM inbound_seen WHERE key = ?');
  const insert = db.prepare('INSERT OR IGNORE INTO inbound_seen (key, seen_at) VALUES (?, ?)');
  const prune = db.prepare('DELETE FROM inbound_seen WHERE seen_at < ?');
  const running = new Set<string>();
  let prunedAt = 0;

  return {
    /**
     * Claims a delivery by all its identities (an envelope id and the event id inside it, say), or returns
     * undefined when any of them already ran or is running now. No identities (the console, the CLI, a
     * schedule): always a fresh claim, as a typed line is a new command.
     */
    claim(keys: readonly string[] = []): InboundClaim | undefined {
      if (keys.some((key) => running.has(key) || seen.get(key) !== undefined)) return undefined;
      for (const key of keys) running.add(key);
      return { keys: [...keys] };
    },
    /**
     * Runs `write` (the audit row, the reply into the outbox) and records the claim's identities in one
     * transaction: either the command counts as done, with its answer on its way, or it does not count at all.
     */
    commit(claim: InboundClaim, write: () => void): void {
      const now = clock.now();
      db.transaction(() => {
        write();
        for (const key of claim.keys) insert.run(key, now);
      })();
      if (now - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = now;
        prune.run(now - retentionMs);
      }
    },
    /** After commit, or after a failure that wrote nothing, so a later delivery is judged by the durable record. */
    release(claim: InboundClaim): void {
      for (const key of claim.keys) running.delete(key);
    },
  };
}

/** The ledger's table; `seen_at` drives the pruning after the retention. */
export const inboundMigrations: Migration[] = [
  {
    id: 'inbound-1-seen',
    up(db) {
      db.exec(`
        CREATE TABLE inbound_seen (
          key      TEXT PRIMARY KEY,
          seen_at  INTEGER NOT NULL
        );
        CREATE INDEX inbound_seen_by_age ON inbound_seen (seen_at);
      `);
    },
  },
];
