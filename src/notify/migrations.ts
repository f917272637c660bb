import type { Migration } from '../sessions/database.js';

export const outboxMigrations: Migration[] = [
  {
    id: 'outbox-1',
    up(db) {
      db.exec(`
        CREATE TABLE outbox (
          id            INTEGER PRIMARY KEY,
          lane          TEXT NOT NULL,
          adapter       TEXT NOT NULL,
          origin        TEXT NOT NULL,
          reply         TEXT NOT NULL,
          actor         TEXT,
          thread_key    TEXT,
          opens_thread  INTEGER NOT NULL DEFAULT 0,
          private_to    TEXT,
          created_at    INTEGER NOT NULL,
          attempts      INTEGER NOT NULL DEFAULT 0,
          next_at       INTEGER NOT NULL,
          sent_at       INTEGER,
          failed_at     INTEGER,
          last_error    TEXT,
          message_id    TEXT
        );
        CREATE INDEX outbox_pending ON outbox (lane, id) WHERE sent_at IS NULL AND failed_at IS NULL;
        CREATE TABLE threads (
          adapter    TEXT NOT NULL,
          channel    TEXT NOT NULL,
          key        TEXT NOT NULL,
          thread_id  TEXT NOT NULL,
          PRIMARY KEY (adapter, channel, key)
        );
      `);
    },
  },
  {
    id: 'outbox-2-attempt-started',
    up(db) {
      // Set before each delivery: after a crash it tells a message that may have gone out in part (delivered
      // again, marked as a repeat) from one never tried.
      db.exec('ALTER TABLE outbox ADD COLUMN attempt_started_at INTEGER');
    },
  },
];

/**
 * Live run cards: one row per card key with where it was posted, the newest state not yet written (only the
 * newest is kept) and when the next edit may go, so a restart keeps editing the same message.
 */
export const cardMigrations: Migration[] = [
  {
    id: 'cards-1',
    up(db) {
      db.exec(`
        CREATE TABLE cards (
          key           TEXT PRIMARY KEY,
          adapter       TEXT NOT NULL,
          lane          TEXT NOT NULL,
          origin        TEXT NOT NULL,
          thread_key    TEXT,
          actor         TEXT,
          post_id       INTEGER,
          message_id    TEXT,
          shown         TEXT NOT NULL,
          shown_hash    TEXT NOT NULL,
          pending       TEXT,
          pending_hash  TEXT,
          final         INTEGER NOT NULL DEFAULT 0,
          done_at       INTEGER,
          next_at       INTEGER NOT NULL,
          attempts      INTEGER NOT NULL DEFAULT 0,
          edits         INTEGER NOT NULL DEFAULT 0,
          replaced      INTEGER NOT NULL DEFAULT 0,
          last_error    TEXT,
          created_at    INTEGER NOT NULL,
          updated_at    INTEGER NOT NULL
        );
        CREATE INDEX cards_live ON cards (next_at) WHERE pending IS NOT NULL AND done_at IS NULL;
      `);
    },
  },
];
