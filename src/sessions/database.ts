import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { SwitchboardError } from '../errors.js';

export type Db = Database.Database;

/** A schema step. Ids are applied once each, in the order given, inside one transaction per step. */
export interface Migration {
  id: string;
  up(db: Db): void;
}

/**
 * Opens (creating if needed) the SQLite file in WAL mode and applies every migration not yet applied.
 * `:memory:` works for unit tests.
 */
export function openDatabase(path: string, migrations: readonly Migration[]): Db {
  let db: Db;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma('journal_mode = WAL');
  } catch (error) {
    throw storageError(path, error);
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Deleted rows (a sent queued prompt, a pruned outbox row) are zeroed on disk, not left in free pages.
  db.pragma('secure_delete = ON');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set(
    db.prepare('SELECT id FROM schema_migrations').all().map((row) => (row as { id: string }).id),
  );
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    db.transaction(() => {
      migration.up(db);
      record.run(migration.id, Date.now());
    })();
  }
  return db;
}

/**
 * Why the database cannot be opened, in words an operator can act on. SQLite only says "unable to open
 * database file"; the usual cause is a bind-mounted directory owned by another uid than the bot's.
 */
function storageError(path: string, cause: unknown): SwitchboardError {
  const uid = process.getuid?.();
  const who = uid === undefined ? 'this user' : `uid ${uid}`;
  const fix = `make it writable by ${who} (the Docker image runs as uid 10001: \`chown -R 10001\` the host directory), or set SWITCHBOARD_DB to a writable path`;
  const fail = (what: string, hint = fix) =>
    new SwitchboardError('storage_unusable', `cannot open the database ${path}: ${what}`, { cause, hint });
  if (existsSync(path) && statSync(path).isDirectory()) return fail('it is a directory', 'set SWITCHBOARD_DB to a file path');
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  if (!writable(dir)) return fail(`the directory ${dir} is not writable by ${who}`);
  if (existsSync(path) && !writable(path)) return fail(`the file is not writable by ${who}`);
  const detail = cause instanceof Error ? cause.message : String(cause);
  return fail(detail);
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK | constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
