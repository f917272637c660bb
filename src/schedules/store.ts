import type { Clock } from '../core/clock.js';
import type { Actor, Origin } from '../core/origin.js';
import type { Db, Migration } from '../sessions/database.js';

/**
 * Schedules in SQLite: what to run (a command line, byte for byte: it may carry a prompt), as whom, where, and
 * when next. A fire is claimed by moving `next_at` on with a compare-and-set, so two processes on one database
 * (the bot and the CLI, or two bots) never fire the same slot twice.
 */
export const scheduleMigrations: Migration[] = [
  {
    id: 'schedules-1',
    up(db) {
      db.exec(`
        -- AUTOINCREMENT: an id is never given again, so an old \`unschedule 3\` cannot remove a newer schedule.
        CREATE TABLE schedules (
          id           INTEGER PRIMARY KEY AUTOINCREMENT,
          when_text    TEXT NOT NULL,
          zone         TEXT NOT NULL,
          -- The exact command line: a prompt in it must reach the agent byte for byte, so it is not scrubbed.
          line         TEXT NOT NULL,
          verb         TEXT NOT NULL,
          name         TEXT,
          owner        TEXT NOT NULL,
          owner_id     TEXT NOT NULL,
          origin       TEXT NOT NULL,
          queue        INTEGER NOT NULL DEFAULT 0,
          catch_up     TEXT NOT NULL DEFAULT 'once' CHECK (catch_up IN ('once', 'none')),
          created_at   INTEGER NOT NULL,
          next_at      INTEGER NOT NULL,
          pending_at   INTEGER,
          paused       TEXT CHECK (paused IN ('access', 'budget')),
          paused_note  TEXT,
          last_fire_at INTEGER,
          last_name    TEXT,
          last_result  TEXT
        );
        CREATE INDEX schedules_by_next ON schedules (next_at);
        -- Every fire and what came of it: the last three tell a schedule that keeps hitting its budget.
        CREATE TABLE schedule_fires (
          id           INTEGER PRIMARY KEY,
          schedule_id  INTEGER NOT NULL,
          at           INTEGER NOT NULL,
          name         TEXT,
          outcome      TEXT NOT NULL,
          budget_hit   INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX schedule_fires_by_schedule ON schedule_fires (schedule_id, id);
        CREATE INDEX schedule_fires_by_name ON schedule_fires (name, id);
      `);
    },
  },
];

export type Paused = 'access' | 'budget';

export interface Schedule {
  id: number;
  whenText: string;
  zone: string;
  line: string;
  verb: string;
  /** The name the command is about, when it names one (`send kumo …`, `run … --name nightly`). */
  name?: string;
  owner: Actor;
  origin: Origin;
  /** Queue a fire while the name is busy instead of skipping it. */
  queue: boolean;
  catchUp: 'once' | 'none';
  createdAt: number;
  nextAt: number;
  /** A fire that waits for its busy name (`--queue`). */
  pendingAt?: number;
  paused?: Paused;
  pausedNote?: string;
  lastFireAt?: number;
  /** The name the last fire ran under: the one to watch for overlap when the command names none. */
  lastName?: string;
  lastResult?: string;
}

interface ScheduleRow {
  id: number;
  when_text: string;
  zone: string;
  line: string;
  verb: string;
  name: string | null;
  owner: string;
  owner_id: string;
  origin: string;
  queue: number;
  catch_up: 'once' | 'none';
  created_at: number;
  next_at: number;
  pending_at: number | null;
  paused: Paused | null;
  paused_note: string | null;
  last_fire_at: number | null;
  last_name: string | null;
  last_result: string | null;
}

function fromRow(row: ScheduleRow): Schedule {
  return {
    id: row.id,
    whenText: row.when_text,
    zone: row.zone,
    line: row.line,
    verb: row.verb,
    ...(row.name !== null ? { name: row.name } : {}),
    owner: JSON.parse(row.owner) as Actor,
    origin: JSON.parse(row.origin) as Origin,
    queue: row.queue === 1,
    catchUp: row.catch_up,
    createdAt: row.created_at,
    nextAt: row.next_at,
    ...(row.pending_at !== null ? { pendingAt: row.pending_at } : {}),
    ...(row.paused !== null ? { paused: row.paused } : {}),
    ...(row.paused_note !== null ? { pausedNote: row.paused_note } : {}),
    ...(row.last_fire_at !== null ? { lastFireAt: row.last_fire_at } : {}),
    ...(row.last_name !== null ? { lastName: row.last_name } : {}),
    ...(row.last_result !== null ? { lastResult: row.last_result } : {}),
  };
}

/** What making a schedule gives; the rest (id, times, results, pauses) the store keeps. */
export type NewSchedule = Pick<Schedule, 'whenText' | 'zone' | 'line' | 'verb' | 'name' | 'owner' | 'origin' | 'queue' | 'catchUp' | 'nextAt'>;

export interface Fire {
  id: number;
  scheduleId: number;
  at: number;
  name?: string;
  outcome: string;
  budgetHit: boolean;
}

export type ScheduleStore = ReturnType<typeof createScheduleStore>;

/** Fires kept in each schedule's history. */
export const FIRES_KEPT = 200;

export function createScheduleStore(db: Db, clock: Clock) {
  const byId = db.prepare<[number], ScheduleRow>('SELECT * FROM schedules WHERE id = ?');
  // Asked on every beat (due), for every row of the fleet page and every card drawn: prepared once.
  const dueAt = db.prepare<[number], ScheduleRow>(
    `SELECT * FROM schedules WHERE (next_at <= ? OR pending_at IS NOT NULL) AND (paused IS NULL OR paused = 'access') ORDER BY next_at, id`,
  );
  const nextByName = db.prepare<[string, string], { next_at: number; line: string }>(
    `SELECT next_at, line FROM schedules WHERE (name = ? OR (name IS NULL AND last_name = ?)) AND paused IS NULL ORDER BY next_at LIMIT 1`,
  );
  const latestByName = db.prepare<[string], { schedule_id: number; at: number }>(
    `SELECT schedule_id, at FROM schedule_fires WHERE name = ? AND outcome = 'started' ORDER BY id DESC LIMIT 1`,
  );
  return {
    add(schedule: NewSchedule): Schedule {
      const { lastInsertRowid } = db
        .prepare(
          `INSERT INTO schedules (when_text, zone, line, verb, name, owner, owner_id, origin, queue, catch_up, created_at, next_at)
           VALUES (@when_text, @zone, @line, @verb, @name, @owner, @owner_id, @origin, @queue, @catch_up, @created_at, @next_at)`,
        )
        .run({
          when_text: schedule.whenText,
          zone: schedule.zone,
          line: schedule.line,
          verb: schedule.verb,
          name: schedule.name ?? null,
          // Only what access decisions use: the id and the groups (roles), and a display name.
          owner: JSON.stringify({ id: schedule.owner.id, ...(schedule.owner.name ? { name: schedule.owner.name } : {}), ...(schedule.owner.groups ? { groups: schedule.owner.groups } : {}) }),
          owner_id: schedule.owner.id,
          // No reply handle: a Discord interaction token is dead long before the first fire.
          origin: JSON.stringify({ adapter: schedule.origin.adapter, channel: schedule.origin.channel, ...(schedule.origin.thread ? { thread: schedule.origin.thread } : {}) }),
          queue: schedule.queue ? 1 : 0,
          catch_up: schedule.catchUp,
          created_at: clock.now(),
          next_at: schedule.nextAt,
        });
      return fromRow(byId.get(Number(lastInsertRowid))!);
    },
    get(id: number): Schedule | undefined {
      const row = byId.get(id);
      return row ? fromRow(row) : undefined;
    },
    list(): Schedule[] {
      return db.prepare<[], ScheduleRow>('SELECT * FROM schedules ORDER BY id').all().map(fromRow);
    },
    /** Schedules whose next fire is due, or with a queued fire waiting; budget-paused ones wait for a person. */
    due(now: number): Schedule[] {
      return dueAt.all(now).map(fromRow);
    },
    remove(id: number): boolean {
      return db.prepare('DELETE FROM schedules WHERE id = ?').run(id).changes === 1;
    },
    /** Takes the slot `expected` for this process: true for exactly one claimer. */
    claim(id: number, expected: number, next: number): boolean {
      return db.prepare('UPDATE schedules SET next_at = ? WHERE id = ? AND next_at = ?').run(next, id, expected).changes === 1;
    },
    /** Takes a queued fire for this process: true for exactly one claimer. */
    claimPending(id: number, expected: number): boolean {
      return db.prepare('UPDATE schedules SET pending_at = NULL WHERE id = ? AND pending_at = ?').run(id, expected).changes === 1;
    },
    setPending(id: number, at: number): void {
      db.prepare('UPDATE schedules SET pending_at = COALESCE(pending_at, ?) WHERE id = ?').run(at, id);
    },
    pause(id: number, why: Paused, note: string): boolean {
      return db.prepare('UPDATE schedules SET paused = ?, paused_note = ?, pending_at = NULL WHERE id = ? AND paused IS NULL').run(why, note, id).changes === 1;
    },
    resume(id: number): boolean {
      return db.prepare('UPDATE schedules SET paused = NULL, paused_note = NULL WHERE id = ? AND paused IS NOT NULL').run(id).changes === 1;
    },
    /**
     * Writes what a fire came to, on the schedule (for `schedules`) and, unless it is a quiet look of a paused
     * schedule, in its history, of which the newest FIRES_KEPT rows stay (a 1-minute schedule fires 525 600 times a year).
     */
    fired(id: number, fire: { at: number; name?: string; outcome: string; result: string }, history = true): void {
      db.transaction(() => {
        db.prepare('UPDATE schedules SET last_fire_at = ?, last_result = ?, last_name = COALESCE(?, last_name) WHERE id = ?').run(fire.at, fire.result, fire.name ?? null, id);
        if (!history) return;
        db.prepare('INSERT INTO schedule_fires (schedule_id, at, name, outcome) VALUES (?, ?, ?, ?)').run(id, fire.at, fire.name ?? null, fire.outcome);
        db.prepare(
          'DELETE FROM schedule_fires WHERE schedule_id = ? AND id <= (SELECT id FROM schedule_fires WHERE schedule_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
        ).run(id, id, FIRES_KEPT);
      })();
    },
    /** The newest run a schedule started under this name, marked as stopped by its budget; its schedule id. */
    markBudgetHit(name: string, at: number): number | undefined {
      const row = db
        .prepare<[string, number], { id: number; schedule_id: number }>(`SELECT id, schedule_id FROM schedule_fires WHERE name = ? AND outcome = 'started' AND at <= ? ORDER BY id DESC LIMIT 1`)
        .get(name, at);
      if (!row) return undefined;
      db.prepare('UPDATE schedule_fires SET budget_hit = 1 WHERE id = ?').run(row.id);
      return row.schedule_id;
    },
    /** The newest runs a schedule started, newest first. */
    recentRuns(id: number, count: number): Fire[] {
      return db
        .prepare<[number, number], { id: number; schedule_id: number; at: number; name: string | null; outcome: string; budget_hit: number }>(
          `SELECT * FROM schedule_fires WHERE schedule_id = ? AND outcome = 'started' ORDER BY id DESC LIMIT ?`,
        )
        .all(id, count)
        .map((row) => ({ id: row.id, scheduleId: row.schedule_id, at: row.at, ...(row.name !== null ? { name: row.name } : {}), outcome: row.outcome, budgetHit: row.budget_hit === 1 }));
    },
    /** The next fire of a running schedule about this name (the fleet page's column). */
    nextFor(name: string): { at: number; line: string } | undefined {
      const row = nextByName.get(name, name);
      return row ? { at: row.next_at, line: row.line } : undefined;
    },
    /** The schedule whose newest fire ran under this name (for the run's card). */
    latestFor(name: string): { schedule: Schedule; at: number } | undefined {
      const row = latestByName.get(name);
      const schedule = row ? byId.get(row.schedule_id) : undefined;
      return row && schedule ? { schedule: fromRow(schedule), at: row.at } : undefined;
    },
  };
}
