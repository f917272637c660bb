import type { Migration } from '../sessions/database.js';

/** The fleet page's tables: one-time link tokens, and the history of runs drawn from their cards. */
export const webMigrations: Migration[] = [
  {
    id: 'web-1',
    up(db) {
      db.exec(`
        CREATE TABLE web_tokens (
          nonce       TEXT PRIMARY KEY,
          actor       TEXT NOT NULL,
          issued_at   INTEGER NOT NULL,
          expires_at  INTEGER NOT NULL,
          used_at     INTEGER
        );
        CREATE TABLE web_runs (
          key         TEXT PRIMARY KEY,
          name        TEXT NOT NULL,
          started_at  INTEGER NOT NULL,
          ended_at    INTEGER,
          phase       TEXT NOT NULL,
          tokens      INTEGER NOT NULL DEFAULT 0,
          cost_usd    REAL NOT NULL DEFAULT 0,
          updated_at  INTEGER NOT NULL
        );
        CREATE INDEX web_runs_name ON web_runs (name, started_at);
        CREATE INDEX web_runs_started ON web_runs (started_at);
      `);
    },
  },
];
