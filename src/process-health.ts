import type { Clock } from './core/clock.js';
import type { Db, Migration } from './sessions/database.js';

/**
 * The running bot's pulse, for `switchboard health` (the Docker HEALTHCHECK): another process can only learn
 * whether the bot is alive and its adapters connected from something the bot writes. Writing it into the
 * database also proves the database is still writable, which is the other thing a health check must catch.
 */
export const healthMigrations: Migration[] = [
  {
    id: 'health-1-heartbeat',
    up(db) {
      db.exec(`
        CREATE TABLE heartbeat (
          id       INTEGER PRIMARY KEY CHECK (id = 1),
          pid      INTEGER NOT NULL,
          at       INTEGER NOT NULL,
          adapters TEXT NOT NULL
        );
      `);
    },
  },
];

export interface AdapterHealth {
  name: string;
  connected: boolean;
}

export interface HealthVerdict {
  healthy: boolean;
  /** One line for a person: what is wrong, or what was checked. */
  line: string;
}

export function writeHeartbeat(db: Db, at: number, pid: number, adapters: readonly AdapterHealth[]): void {
  db.prepare(
    'INSERT INTO heartbeat (id, pid, at, adapters) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, at = excluded.at, adapters = excluded.adapters',
  ).run(pid, at, JSON.stringify(adapters));
}

/** Judges the newest heartbeat: none, too old, or an adapter down is unhealthy. */
export function judgeHealth(db: Db, now: number, staleAfterMs: number): HealthVerdict {
  const row = db.prepare<[], { pid: number; at: number; adapters: string }>('SELECT pid, at, adapters FROM heartbeat WHERE id = 1').get();
  if (!row) return { healthy: false, line: 'unhealthy: the bot is not running on this database (no heartbeat)' };
  const age = Math.max(0, Math.round((now - row.at) / 1000));
  if (now - row.at > staleAfterMs) return { healthy: false, line: `unhealthy: the bot's last heartbeat was ${age} s ago (pid ${row.pid})` };
  const adapters = JSON.parse(row.adapters) as AdapterHealth[];
  const down = adapters.filter((adapter) => !adapter.connected).map((adapter) => adapter.name);
  if (down.length) return { healthy: false, line: `unhealthy: ${down.join(', ')} ${down.length > 1 ? 'are' : 'is'} not connected` };
  const names = adapters.map((adapter) => adapter.name).join(', ');
  return { healthy: true, line: `healthy: ${names ? `${names} connected` : 'console only'}; heartbeat ${age} s ago (pid ${row.pid})` };
}

export interface HeartbeatOptions {
  db: Db;
  clock: Clock;
  pid: number;
  everyMs: number;
  adapters: () => readonly AdapterHealth[];
  onError: (error: unknown) => void;
  setInterval?: (fn: () => void, ms: number) => { unref?: () => void };
  clearInterval?: (handle: unknown) => void;
}

/**
 * Writes a heartbeat now and every `everyMs`; returns how to stop, which also removes the heartbeat so a bot
 * that stopped cleanly is not reported healthy for the next minute. A failed write is reported, not thrown.
 */
export function startHeartbeat(options: HeartbeatOptions): () => void {
  const every = options.setInterval ?? ((fn: () => void, ms: number) => setInterval(fn, ms));
  const clear = options.clearInterval ?? ((handle: unknown) => clearInterval(handle as NodeJS.Timeout));
  const beat = () => {
    try {
      writeHeartbeat(options.db, options.clock.now(), options.pid, options.adapters());
    } catch (error) {
      options.onError(error);
    }
  };
  beat();
  const handle = every(beat, options.everyMs);
  handle.unref?.();
  return () => {
    clear(handle);
    try {
      options.db.prepare('DELETE FROM heartbeat WHERE id = 1 AND pid = ?').run(options.pid);
    } catch (error) {
      options.onError(error);
    }
  };
}
