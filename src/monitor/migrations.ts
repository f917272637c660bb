import type { Migration } from '../sessions/database.js';

export const monitorMigrations: Migration[] = [
  {
    id: 'monitor-1',
    up(db) {
      db.exec(`
        CREATE TABLE watches (
          name              TEXT PRIMARY KEY,
          interval          TEXT NOT NULL,
          prompt_id         INTEGER,
          sender            TEXT,
          since             INTEGER,
          last_report       TEXT,
          last_report_at    INTEGER,
          last_activity_at  INTEGER NOT NULL,
          activity_hash     TEXT,
          stall_noticed     INTEGER NOT NULL DEFAULT 0,
          asked             TEXT NOT NULL DEFAULT '[]',
          next_tick_at      INTEGER NOT NULL,
          created_at        INTEGER NOT NULL
        );
        -- One row per finished turn that was reported: the guarantee behind "never the same final output twice".
        CREATE TABLE finals (
          session_key      TEXT NOT NULL,
          user_message_id  TEXT NOT NULL,
          name             TEXT NOT NULL,
          posted_at        INTEGER NOT NULL,
          PRIMARY KEY (session_key, user_message_id)
        );
        CREATE TABLE server_health (
          server_key   TEXT PRIMARY KEY,
          failures     INTEGER NOT NULL DEFAULT 0,
          down_noticed INTEGER NOT NULL DEFAULT 0
        );
      `);
    },
  },
];
