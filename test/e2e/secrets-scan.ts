import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';

/**
 * Where the secrets tests look for a leak: every row of every table of a database file the bot keeps writing,
 * and the file with its WAL and shared memory byte for byte (pages not yet checkpointed live in the WAL).
 */
export function everyRow(dbPath: string): { tables: string[]; text: string } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
    const text = tables.map((table) => `${table}: ${JSON.stringify(db.prepare(`SELECT * FROM "${table}"`).all())}`).join('\n');
    return { tables, text };
  } finally {
    db.close();
  }
}

export function fileBytes(dbPath: string): Buffer {
  return Buffer.concat([dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter((path) => existsSync(path)).map((path) => readFileSync(path)));
}

/** The secrets (by a short, safe label) found in a text or in bytes: what a test expects to be empty. */
export function leaks(where: string | Buffer, secrets: Readonly<Record<string, string>>): string[] {
  return Object.entries(secrets)
    .filter(([, secret]) => (typeof where === 'string' ? where.includes(secret) : where.includes(Buffer.from(secret, 'utf8'))))
    .map(([label]) => label);
}
