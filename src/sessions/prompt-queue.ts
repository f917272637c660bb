import type { Clock } from '../core/clock.js';
import type { Origin } from '../core/origin.js';
import { SwitchboardError } from '../errors.js';
import type { Db, Migration } from './database.js';

/**
 * Prompts waiting for a busy name, in SQLite so a restart neither loses nor repeats one. A row is `queued`
 * until the dispatcher starts its run; then it is `sending` (with the prompt id the run is watched under)
 * until the server has accepted it, and then it is deleted.
 */
export const promptQueueMigrations: Migration[] = [
  {
    id: 'prompt-queue-1',
    up(db) {
      db.exec(`
        CREATE TABLE prompt_queue (
          id          INTEGER PRIMARY KEY,
          name        TEXT NOT NULL,
          ord         INTEGER NOT NULL,
          actor       TEXT NOT NULL,
          actor_name  TEXT,
          -- The exact prompt: it must go out byte for byte, so it cannot be scrubbed like the prompts table.
          -- The row is deleted as soon as the server has the prompt.
          text        TEXT NOT NULL,
          agent       TEXT,
          origin      TEXT NOT NULL,
          queued_at   INTEGER NOT NULL,
          interrupt   INTEGER NOT NULL DEFAULT 0,
          state       TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending')),
          prompt_id   INTEGER
        );
        CREATE INDEX prompt_queue_by_name ON prompt_queue (name, ord);
        -- Who interrupted a run (send --now), for the run's final state.
        CREATE TABLE run_interrupts (
          prompt_id   INTEGER PRIMARY KEY,
          actor       TEXT NOT NULL,
          actor_name  TEXT,
          at          INTEGER NOT NULL
        );
      `);
    },
  },
];

export interface QueuedPrompt {
  id: number;
  name: string;
  actor: string;
  actorName?: string;
  text: string;
  agent?: string;
  origin: Origin;
  queuedAt: number;
  /** Put ahead of the others by `send --now`. */
  interrupt: boolean;
  state: 'queued' | 'sending';
  /** Set with `sending`: the prompt id its run is watched under. */
  promptId?: number;
}

export type NewQueuedPrompt = Pick<QueuedPrompt, 'name' | 'actor' | 'actorName' | 'text' | 'agent' | 'origin'> & {
  /** `send --now`: ahead of everything already queued. */
  interrupt?: boolean;
};

interface Row {
  id: number;
  name: string;
  actor: string;
  actor_name: string | null;
  text: string;
  agent: string | null;
  origin: string;
  queued_at: number;
  interrupt: number;
  state: 'queued' | 'sending';
  prompt_id: number | null;
}

function fromRow(row: Row): QueuedPrompt {
  return {
    id: row.id,
    name: row.name,
    actor: row.actor,
    ...(row.actor_name !== null ? { actorName: row.actor_name } : {}),
    text: row.text,
    ...(row.agent !== null ? { agent: row.agent } : {}),
    origin: JSON.parse(row.origin) as Origin,
    queuedAt: row.queued_at,
    interrupt: row.interrupt === 1,
    state: row.state,
    ...(row.prompt_id !== null ? { promptId: row.prompt_id } : {}),
  };
}

/** A bound on one name's queue: past it a follow-up is refused rather than piling up unseen work. */
export const MAX_QUEUED_PER_NAME = 20;

export type PromptQueue = ReturnType<typeof createPromptQueue>;

export function createPromptQueue(db: Db, clock: Clock, maxPerName = MAX_QUEUED_PER_NAME) {
  const selectName = db.prepare<[string], Row>('SELECT * FROM prompt_queue WHERE name = ? ORDER BY ord, id');
  const selectSending = db.prepare<[], Row>("SELECT * FROM prompt_queue WHERE state = 'sending' ORDER BY id");
  const selectNames = db.prepare<[], { name: string }>("SELECT DISTINCT name FROM prompt_queue WHERE state = 'queued' ORDER BY name");
  const bounds = db.prepare<[string], { lo: number | null; hi: number | null; n: number }>(
    "SELECT MIN(ord) AS lo, MAX(ord) AS hi, COUNT(*) AS n FROM prompt_queue WHERE name = ? AND state = 'queued'",
  );
  const insert = db.prepare(
    'INSERT INTO prompt_queue (name, ord, actor, actor_name, text, agent, origin, queued_at, interrupt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const markSending = db.prepare("UPDATE prompt_queue SET state = 'sending', prompt_id = ? WHERE id = ? AND state = 'queued'");
  const markQueued = db.prepare("UPDATE prompt_queue SET state = 'queued', prompt_id = NULL WHERE id = ?");
  const deleteOne = db.prepare('DELETE FROM prompt_queue WHERE id = ?');
  const deleteQueued = db.prepare("DELETE FROM prompt_queue WHERE name = ? AND state = 'queued'");
  const insertInterrupt = db.prepare('INSERT OR REPLACE INTO run_interrupts (prompt_id, actor, actor_name, at) VALUES (?, ?, ?, ?)');
  const deleteInterrupt = db.prepare('DELETE FROM run_interrupts WHERE prompt_id = ?');
  const selectInterrupt = db.prepare<[number], { actor: string; actor_name: string | null; at: number }>(
    'SELECT actor, actor_name, at FROM run_interrupts WHERE prompt_id = ?',
  );

  const queued = (name: string) => selectName.all(name).map(fromRow).filter((entry) => entry.state === 'queued');

  return {
    /** Adds a prompt behind the others (or ahead of them with `interrupt`); returns it and its 1-based position. */
    add(entry: NewQueuedPrompt): { entry: QueuedPrompt; position: number } {
      return db.transaction(() => {
        const b = bounds.get(entry.name)!;
        if (b.n >= maxPerName) {
          throw new SwitchboardError('limit_reached', `${entry.name} already has ${b.n} prompts queued; the limit is ${maxPerName}`, {
            hint: `wait for some to run, or \`abort ${entry.name}\` to drop them`,
          });
        }
        const ord = entry.interrupt ? (b.lo ?? 0) - 1 : (b.hi ?? 0) + 1;
        const result = insert.run(
          entry.name,
          ord,
          entry.actor,
          entry.actorName ?? null,
          entry.text,
          entry.agent ?? null,
          JSON.stringify(entry.origin),
          clock.now(),
          entry.interrupt ? 1 : 0,
        );
        const id = Number(result.lastInsertRowid);
        const list = queued(entry.name);
        return { entry: list.find((e) => e.id === id)!, position: list.findIndex((e) => e.id === id) + 1 };
      })();
    },
    /** Prompts still waiting for `name`, next first. */
    queued,
    /** The whole queue of `name`, a row being sent included. */
    all: (name: string) => selectName.all(name).map(fromRow),
    /** Names with at least one prompt waiting. */
    names: () => selectNames.all().map((r) => r.name),
    /** Rows whose send may or may not have reached the server (a crash in between): settled at start. */
    sending: () => selectSending.all().map(fromRow),
    /** False when the row is gone or already being sent (another dispatcher got there first). */
    markSending: (id: number, promptId: number) => markSending.run(promptId, id).changes > 0,
    /** Back to the head of the queue: the send failed before the server had it. */
    markQueued: (id: number) => void markQueued.run(id),
    remove: (id: number) => deleteOne.run(id).changes > 0,
    /** Drops every prompt still waiting for `name`; returns what was dropped. */
    drop(name: string): QueuedPrompt[] {
      return db.transaction(() => {
        const list = queued(name);
        deleteQueued.run(name);
        return list;
      })();
    },
    recordInterrupt: (promptId: number, actor: string, actorName?: string) => void insertInterrupt.run(promptId, actor, actorName ?? null, clock.now()),
    clearInterrupt: (promptId: number) => void deleteInterrupt.run(promptId),
    interruptedBy(promptId: number): { actor: string; actorName?: string; at: number } | undefined {
      const row = selectInterrupt.get(promptId);
      return row ? { actor: row.actor, ...(row.actor_name !== null ? { actorName: row.actor_name } : {}), at: row.at } : undefined;
    },
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
  };
}
