import type { Db, Migration } from '../sessions/database.js';
import type { RsyncStats } from './rsync.js';

/** Register with openDatabase next to the task migrations. */
export const offloadMigrations: readonly Migration[] = [
  {
    id: 'offload-001-offloads',
    up(db) {
      db.exec(`
        CREATE TABLE offloads (
          name TEXT PRIMARY KEY,
          executor TEXT NOT NULL,
          local_path TEXT NOT NULL,
          remote_path TEXT NOT NULL,
          session_id TEXT,
          include_env INTEGER NOT NULL DEFAULT 0,
          excludes TEXT NOT NULL DEFAULT '[]',
          state TEXT NOT NULL,
          error TEXT,
          actor TEXT NOT NULL,
          channel TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          synced_at INTEGER,
          back_at INTEGER,
          last_sync TEXT
        );
        CREATE INDEX offloads_target ON offloads (executor, remote_path);
      `);
    },
  },
];

/**
 * syncing: the workspace is on its way (a failed or interrupted sync leaves this or `failed`; running offload
 * again continues it). started: the task runs there. back: the changes came home.
 */
export type OffloadState = 'syncing' | 'failed' | 'started' | 'back';

export interface OffloadRecord {
  name: string;
  executor: string;
  localPath: string;
  remotePath: string;
  sessionId: string | null;
  includeEnv: boolean;
  excludes: string[];
  state: OffloadState;
  error: string | null;
  actor: string;
  channel: string;
  createdAt: number;
  syncedAt: number | null;
  backAt: number | null;
  lastSync: RsyncStats | null;
}

interface Row {
  name: string;
  executor: string;
  local_path: string;
  remote_path: string;
  session_id: string | null;
  include_env: number;
  excludes: string;
  state: OffloadState;
  error: string | null;
  actor: string;
  channel: string;
  created_at: number;
  synced_at: number | null;
  back_at: number | null;
  last_sync: string | null;
}

function fromRow(row: Row): OffloadRecord {
  return {
    name: row.name,
    executor: row.executor,
    localPath: row.local_path,
    remotePath: row.remote_path,
    sessionId: row.session_id,
    includeEnv: row.include_env === 1,
    excludes: JSON.parse(row.excludes) as string[],
    state: row.state,
    error: row.error,
    actor: row.actor,
    channel: row.channel,
    createdAt: row.created_at,
    syncedAt: row.synced_at,
    backAt: row.back_at,
    lastSync: row.last_sync ? (JSON.parse(row.last_sync) as RsyncStats) : null,
  };
}

export type OffloadStore = ReturnType<typeof createOffloadStore>;

export function createOffloadStore(db: Db) {
  return {
    get(name: string): OffloadRecord | null {
      const row = db.prepare('SELECT * FROM offloads WHERE name = ?').get(name) as Row | undefined;
      return row ? fromRow(row) : null;
    },
    /** Every offload whose remote copy lives at this path on this executor. */
    atTarget(executor: string, remotePath: string): OffloadRecord[] {
      return (db.prepare('SELECT * FROM offloads WHERE executor = ? AND remote_path = ?').all(executor, remotePath) as Row[]).map(fromRow);
    },
    list(): OffloadRecord[] {
      return (db.prepare('SELECT * FROM offloads ORDER BY created_at').all() as Row[]).map(fromRow);
    },
    /** Inserts, or replaces a record that never got a task (a failed earlier attempt under the same name). */
    put(record: Omit<OffloadRecord, 'error' | 'syncedAt' | 'backAt' | 'lastSync'>): void {
      db.prepare(
        `INSERT OR REPLACE INTO offloads (name, executor, local_path, remote_path, session_id, include_env, excludes, state, error, actor, channel, created_at, synced_at, back_at, last_sync)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, NULL, NULL)`,
      ).run(
        record.name,
        record.executor,
        record.localPath,
        record.remotePath,
        record.sessionId,
        record.includeEnv ? 1 : 0,
        JSON.stringify(record.excludes),
        record.state,
        record.actor,
        record.channel,
        record.createdAt,
      );
    },
    update(name: string, patch: Partial<Pick<OffloadRecord, 'state' | 'error' | 'syncedAt' | 'backAt' | 'lastSync' | 'sessionId'>>): void {
      const columns: Record<string, unknown> = {};
      if (patch.state !== undefined) columns['state'] = patch.state;
      if (patch.error !== undefined) columns['error'] = patch.error;
      if (patch.syncedAt !== undefined) columns['synced_at'] = patch.syncedAt;
      if (patch.backAt !== undefined) columns['back_at'] = patch.backAt;
      if (patch.lastSync !== undefined) columns['last_sync'] = patch.lastSync ? JSON.stringify(patch.lastSync) : null;
      if (patch.sessionId !== undefined) columns['session_id'] = patch.sessionId;
      const keys = Object.keys(columns);
      if (keys.length === 0) return;
      db.prepare(`UPDATE offloads SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE name = ?`).run(...keys.map((k) => columns[k]), name);
    },
    delete(name: string): void {
      db.prepare('DELETE FROM offloads WHERE name = ?').run(name);
    },
  };
}
