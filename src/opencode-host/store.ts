import type { Db, Migration } from '../sessions/database.js';

export const opencodeHostMigrations: readonly Migration[] = [
  {
    id: 'opencode-host-001-servers',
    up(db) {
      db.exec(`
        CREATE TABLE opencode_hosts (
          executor TEXT PRIMARY KEY,
          server_id TEXT NOT NULL,
          dir TEXT,
          session TEXT NOT NULL,
          remote_port INTEGER,
          password_sealed TEXT,
          home TEXT,
          opencode_path TEXT,
          state TEXT NOT NULL,
          restarts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          started_at INTEGER,
          updated_at INTEGER NOT NULL
        );
      `);
    },
  },
];

/**
 * running: Switchboard owns a server there and keeps it up. failed: it gave up restarting (a user action starts it
 * again). stopped rows are deleted.
 */
export type HostState = 'running' | 'failed';

export interface HostRow {
  executor: string;
  serverId: string;
  dir: string | null;
  session: string;
  remotePort: number | null;
  /** AES-256-GCM under SWITCHBOARD_SECRET; null when there is no secret (the password is then in memory only). */
  passwordSealed: string | null;
  home: string | null;
  opencodePath: string | null;
  state: HostState;
  restarts: number;
  lastError: string | null;
  startedAt: number | null;
  updatedAt: number;
}

interface Raw {
  executor: string;
  server_id: string;
  dir: string | null;
  session: string;
  remote_port: number | null;
  password_sealed: string | null;
  home: string | null;
  opencode_path: string | null;
  state: HostState;
  restarts: number;
  last_error: string | null;
  started_at: number | null;
  updated_at: number;
}

const COLUMNS: Record<keyof HostRow, string> = {
  executor: 'executor',
  serverId: 'server_id',
  dir: 'dir',
  session: 'session',
  remotePort: 'remote_port',
  passwordSealed: 'password_sealed',
  home: 'home',
  opencodePath: 'opencode_path',
  state: 'state',
  restarts: 'restarts',
  lastError: 'last_error',
  startedAt: 'started_at',
  updatedAt: 'updated_at',
};

function fromRaw(raw: Raw): HostRow {
  return {
    executor: raw.executor,
    serverId: raw.server_id,
    dir: raw.dir,
    session: raw.session,
    remotePort: raw.remote_port,
    passwordSealed: raw.password_sealed,
    home: raw.home,
    opencodePath: raw.opencode_path,
    state: raw.state,
    restarts: raw.restarts,
    lastError: raw.last_error,
    startedAt: raw.started_at,
    updatedAt: raw.updated_at,
  };
}

export type HostStore = ReturnType<typeof createHostStore>;

export function createHostStore(db: Db) {
  return {
    get(executor: string): HostRow | null {
      const raw = db.prepare('SELECT * FROM opencode_hosts WHERE executor = ?').get(executor) as Raw | undefined;
      return raw ? fromRaw(raw) : null;
    },
    list(): HostRow[] {
      return (db.prepare('SELECT * FROM opencode_hosts ORDER BY executor').all() as Raw[]).map(fromRaw);
    },
    put(row: HostRow): void {
      const keys = Object.keys(COLUMNS) as Array<keyof HostRow>;
      db.prepare(`INSERT OR REPLACE INTO opencode_hosts (${keys.map((k) => COLUMNS[k]).join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`).run(
        ...keys.map((k) => row[k]),
      );
    },
    update(executor: string, patch: Partial<Omit<HostRow, 'executor'>>): void {
      const keys = Object.keys(patch) as Array<Exclude<keyof HostRow, 'executor'>>;
      if (keys.length === 0) return;
      db.prepare(`UPDATE opencode_hosts SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE executor = ?`).run(...keys.map((k) => patch[k] ?? null), executor);
    },
    delete(executor: string): void {
      db.prepare('DELETE FROM opencode_hosts WHERE executor = ?').run(executor);
    },
  };
}
