import type { Clock } from '../core/clock.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../sessions/database.js';

export interface Watch {
  name: string;
  interval: string;
  promptId?: number;
  sender?: string;
  since?: number;
  lastReport?: string;
  lastReportAt?: number;
  lastActivityAt: number;
  activityHash?: string;
  stallNoticed: boolean;
  /** Permission and question request ids already posted, so each is asked once. */
  asked: string[];
  nextTickAt: number;
  createdAt: number;
}

interface Row {
  name: string;
  interval: string;
  prompt_id: number | null;
  sender: string | null;
  since: number | null;
  last_report: string | null;
  last_report_at: number | null;
  last_activity_at: number;
  activity_hash: string | null;
  stall_noticed: number;
  asked: string;
  next_tick_at: number;
  created_at: number;
}

function fromRow(row: Row): Watch {
  return {
    name: row.name,
    interval: row.interval,
    ...(row.prompt_id !== null ? { promptId: row.prompt_id } : {}),
    ...(row.sender !== null ? { sender: row.sender } : {}),
    ...(row.since !== null ? { since: row.since } : {}),
    ...(row.last_report !== null ? { lastReport: row.last_report } : {}),
    ...(row.last_report_at !== null ? { lastReportAt: row.last_report_at } : {}),
    lastActivityAt: row.last_activity_at,
    ...(row.activity_hash !== null ? { activityHash: row.activity_hash } : {}),
    stallNoticed: row.stall_noticed === 1,
    asked: JSON.parse(row.asked) as string[],
    nextTickAt: row.next_tick_at,
    createdAt: row.created_at,
  };
}

export type WatchStore = ReturnType<typeof createWatchStore>;

/** Watch state in SQLite, so a restart resumes every watch where it was. */
export function createWatchStore(db: Db, clock: Clock) {
  const upsert = db.prepare(`
    INSERT INTO watches (name, interval, prompt_id, sender, since, last_activity_at, next_tick_at, created_at, stall_noticed, asked)
    VALUES (@name, @interval, @prompt_id, @sender, @since, @now, @next, @now, 0, '[]')
    ON CONFLICT (name) DO UPDATE SET
      interval = excluded.interval,
      prompt_id = COALESCE(excluded.prompt_id, watches.prompt_id),
      sender = COALESCE(excluded.sender, watches.sender),
      since = COALESCE(excluded.since, watches.since),
      last_activity_at = excluded.last_activity_at,
      next_tick_at = excluded.next_tick_at,
      stall_noticed = 0`);
  const selectOne = db.prepare<[string], Row>('SELECT * FROM watches WHERE name = ?');
  const selectAll = db.prepare<[], Row>('SELECT * FROM watches ORDER BY name');
  const remove = db.prepare('DELETE FROM watches WHERE name = ?');
  const insertFinal = db.prepare('INSERT OR IGNORE INTO finals (session_key, user_message_id, name, posted_at) VALUES (?, ?, ?, ?)');
  const selectFinal = db.prepare<[string, string], { name: string }>('SELECT name FROM finals WHERE session_key = ? AND user_message_id = ?');

  // One prepared statement per set of columns: a tick updates thousands of watches the same way.
  const updates = new Map<string, Statement>();
  const updateFor = (keys: string[]): Statement => {
    const key = keys.join(',');
    let statement = updates.get(key);
    if (!statement) {
      statement = db.prepare(`UPDATE watches SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE name = @name`);
      updates.set(key, statement);
    }
    return statement;
  };

  return {
    put(watch: { name: string; interval: string; promptId?: number; sender?: string; since?: number; firstTickAt: number }): Watch {
      upsert.run({
        name: watch.name,
        interval: watch.interval,
        prompt_id: watch.promptId ?? null,
        sender: watch.sender ?? null,
        since: watch.since ?? null,
        now: clock.now(),
        next: watch.firstTickAt,
      });
      return fromRow(selectOne.get(watch.name)!);
    },
    get(name: string): Watch | undefined {
      const row = selectOne.get(name);
      return row ? fromRow(row) : undefined;
    },
    all(): Watch[] {
      return selectAll.all().map(fromRow);
    },
    remove(name: string): boolean {
      return remove.run(name).changes > 0;
    },
    update(name: string, patch: Partial<Omit<Watch, 'name' | 'createdAt'>>): void {
      const columns: Record<string, unknown> = {};
      if (patch.lastReport !== undefined) columns.last_report = patch.lastReport;
      if (patch.lastReportAt !== undefined) columns.last_report_at = patch.lastReportAt;
      if (patch.lastActivityAt !== undefined) columns.last_activity_at = patch.lastActivityAt;
      if (patch.activityHash !== undefined) columns.activity_hash = patch.activityHash;
      if (patch.stallNoticed !== undefined) columns.stall_noticed = patch.stallNoticed ? 1 : 0;
      if (patch.asked !== undefined) columns.asked = JSON.stringify(patch.asked.slice(-50));
      if (patch.nextTickAt !== undefined) columns.next_tick_at = patch.nextTickAt;
      if (patch.interval !== undefined) columns.interval = patch.interval;
      const keys = Object.keys(columns);
      if (keys.length === 0) return;
      updateFor(keys).run({ ...columns, name });
    },
    /** Claims the right to post the final output of one turn. False when it was already posted. */
    claimFinal(sessionKey: string, userMessageId: string, name: string): boolean {
      return insertFinal.run(sessionKey, userMessageId, name, clock.now()).changes > 0;
    },
    finalPosted(sessionKey: string, userMessageId: string): boolean {
      return selectFinal.get(sessionKey, userMessageId) !== undefined;
    },
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
  };
}
