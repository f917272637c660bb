import type { Clock } from '../core/clock.js';
import type { Db, Migration } from '../sessions/database.js';
import type { BudgetKind, BudgetLimits } from './limits.js';

export const budgetMigrations: Migration[] = [
  {
    id: 'budgets-1',
    up(db) {
      db.exec(`
        -- A name's own limits, over the defaults of its server or executor; off = no limits at all.
        CREATE TABLE budgets (
          name        TEXT PRIMARY KEY,
          off         INTEGER NOT NULL DEFAULT 0,
          tokens      INTEGER,
          cost_usd    REAL,
          time_ms     INTEGER,
          set_by      TEXT NOT NULL,
          updated_at  INTEGER NOT NULL
        );
        -- One row per run its budget stopped, by the run's card key: written before the run is stopped, so the
        -- final message says why even after a restart between the stop and the report, and a run stops once.
        CREATE TABLE budget_stops (
          card_key    TEXT PRIMARY KEY,
          name        TEXT NOT NULL,
          kind        TEXT NOT NULL,
          reason      TEXT NOT NULL,
          at          INTEGER NOT NULL
        );
      `);
    },
  },
];

/** A name's own setting: limits over the defaults, or off. */
export interface NameBudget {
  off: boolean;
  limits: BudgetLimits;
  setBy: string;
  updatedAt: number;
}

export interface StopRecord {
  key: string;
  name: string;
  kind: BudgetKind;
  reason: string;
  at: number;
}

interface BudgetRow {
  name: string;
  off: number;
  tokens: number | null;
  cost_usd: number | null;
  time_ms: number | null;
  set_by: string;
  updated_at: number;
}

export type BudgetStore = ReturnType<typeof createBudgetStore>;

export function createBudgetStore(db: Db, clock: Clock) {
  const select = db.prepare<[string], BudgetRow>('SELECT * FROM budgets WHERE name = ?');
  const upsert = db.prepare(
    `INSERT INTO budgets (name, off, tokens, cost_usd, time_ms, set_by, updated_at) VALUES (@name, @off, @tokens, @cost, @time, @by, @at)
     ON CONFLICT(name) DO UPDATE SET off = @off, tokens = @tokens, cost_usd = @cost, time_ms = @time, set_by = @by, updated_at = @at`,
  );
  const selectStop = db.prepare<[string], { card_key: string; name: string; kind: BudgetKind; reason: string; at: number }>(
    'SELECT * FROM budget_stops WHERE card_key = ?',
  );
  const remove = db.prepare('DELETE FROM budgets WHERE name = ?');
  const insertStop = db.prepare('INSERT OR IGNORE INTO budget_stops (card_key, name, kind, reason, at) VALUES (?, ?, ?, ?, ?)');

  function get(name: string): NameBudget | undefined {
    const row = select.get(name);
    if (!row) return undefined;
    return {
      off: row.off === 1,
      limits: {
        ...(row.tokens !== null ? { tokens: row.tokens } : {}),
        ...(row.cost_usd !== null ? { costUsd: row.cost_usd } : {}),
        ...(row.time_ms !== null ? { timeMs: row.time_ms } : {}),
      },
      setBy: row.set_by,
      updatedAt: row.updated_at,
    };
  }

  function write(name: string, off: boolean, limits: BudgetLimits, by: string): NameBudget {
    upsert.run({ name, off: off ? 1 : 0, tokens: limits.tokens ?? null, cost: limits.costUsd ?? null, time: limits.timeMs ?? null, by, at: clock.now() });
    return get(name)!;
  }

  return {
    get,
    /** Sets the given limits, keeping the name's others (a name that was off starts again from the defaults). */
    set(name: string, limits: BudgetLimits, by: string): NameBudget {
      const current = get(name);
      return write(name, false, { ...(current && !current.off ? current.limits : {}), ...limits }, by);
    },
    off(name: string, by: string): NameBudget {
      return write(name, true, {}, by);
    },
    /** The name is gone: a later name spelled the same starts from the defaults. */
    clear(name: string): void {
      remove.run(name);
    },
    stopOf(key: string): StopRecord | undefined {
      const row = selectStop.get(key);
      return row && { key: row.card_key, name: row.name, kind: row.kind, reason: row.reason, at: row.at };
    },
    /** Records a stop; false when this run was already stopped (the first reason stands). */
    recordStop(stop: StopRecord): boolean {
      return insertStop.run(stop.key, stop.name, stop.kind, stop.reason, stop.at).changes === 1;
    },
  };
}
