import type { Migration } from './database.js';

/** The core's schema. Other parts (executors, outbox) contribute their own lists; main.ts joins them. */
export const coreMigrations: Migration[] = [
  {
    id: 'core-1-names',
    up(db) {
      db.exec(`
        CREATE TABLE names (
          name          TEXT PRIMARY KEY,
          kind          TEXT NOT NULL CHECK (kind IN ('opencode', 'task')),
          server        TEXT,
          server_url    TEXT,
          session_id    TEXT,
          directory     TEXT,
          agent         TEXT,
          model         TEXT,
          executor      TEXT,
          task_id       TEXT,
          owner         TEXT NOT NULL,
          origin        TEXT NOT NULL,
          current_task  TEXT,
          last_prompt_id INTEGER,
          created_at    INTEGER NOT NULL,
          updated_at    INTEGER NOT NULL
        );
        CREATE TABLE prompts (
          id       INTEGER PRIMARY KEY,
          name     TEXT NOT NULL,
          actor    TEXT NOT NULL,
          text     TEXT NOT NULL,
          digest   TEXT NOT NULL,
          agent    TEXT,
          sent_at  INTEGER NOT NULL
        );
        CREATE INDEX prompts_by_name ON prompts (name, id);
        CREATE TABLE audit (
          id         INTEGER PRIMARY KEY,
          at         INTEGER NOT NULL,
          actor      TEXT NOT NULL,
          origin     TEXT NOT NULL,
          verb       TEXT NOT NULL,
          target     TEXT,
          command    TEXT,
          prompt_id  INTEGER REFERENCES prompts (id),
          outcome    TEXT NOT NULL,
          detail     TEXT
        );
        CREATE INDEX audit_by_target ON audit (target, at);
        CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TABLE choices (
          id         TEXT PRIMARY KEY,
          actor      TEXT NOT NULL,
          origin_key TEXT NOT NULL,
          commands   TEXT NOT NULL,
          labels     TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX choices_by_origin ON choices (origin_key, actor, created_at);
      `);
    },
  },
  {
    id: 'core-2-choice-purpose',
    up(db) {
      // What picking does, for the refusal when someone other than the person asked presses a button.
      db.exec(`ALTER TABLE choices ADD COLUMN purpose TEXT NOT NULL DEFAULT 'answer this choice'`);
    },
  },
  {
    id: 'core-choice-chosen-by',
    up(db) {
      // A made choice is kept with who made it, so a second press is told "already chosen by …".
      db.exec(`ALTER TABLE choices ADD COLUMN chosen_by TEXT`);
    },
  },
  {
    id: 'core-audit-schedule',
    up(db) {
      // A command a schedule ran as its owner is marked with the schedule, so `audit` tells it from a typed one.
      db.exec(`ALTER TABLE audit ADD COLUMN schedule_id INTEGER`);
    },
  },
];
