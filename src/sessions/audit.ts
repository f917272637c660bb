import type { Clock } from '../core/clock.js';
import type { Db } from './database.js';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  origin: string;
  verb: string;
  target?: string;
  command?: string;
  promptId?: number;
  prompt?: string;
  outcome: string;
  detail?: string;
  /** The schedule that ran this command as its owner, when it was not typed. */
  scheduleId?: number;
}

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  origin: string;
  verb: string;
  target: string | null;
  command: string | null;
  prompt_id: number | null;
  prompt: string | null;
  outcome: string;
  detail: string | null;
  schedule_id: number | null;
}

const MAX_COMMAND_CHARS = 2_000;

export type AuditLog = ReturnType<typeof createAuditLog>;

/**
 * Who did what, where, when, and how it went. Append-only (enforced by triggers in the schema), so whatever is
 * written stays: every field is scrubbed first (a password typed into a URL is kept out even when the command
 * was refused).
 */
export function createAuditLog(db: Db, clock: Clock, scrub: (text: string) => string = (text) => text) {
  const insert = db.prepare(`
    INSERT INTO audit (at, actor, origin, verb, target, command, prompt_id, outcome, detail, schedule_id)
    VALUES (@at, @actor, @origin, @verb, @target, @command, @prompt_id, @outcome, @detail, @schedule_id)`);

  return {
    record(entry: Omit<AuditEntry, 'id' | 'at' | 'prompt'>): void {
      const clean = (value: string | undefined) => (value === undefined ? null : scrub(value));
      insert.run({
        at: clock.now(),
        actor: scrub(entry.actor),
        origin: scrub(entry.origin),
        verb: scrub(entry.verb),
        target: clean(entry.target),
        // The prompt text lives once in `prompts`; the command column keeps the rest, bounded. Scrubbed before it
        // is cut, so a secret split by the cut cannot slip past the patterns.
        command: entry.command === undefined ? null : scrub(entry.command).slice(0, MAX_COMMAND_CHARS),
        prompt_id: entry.promptId ?? null,
        outcome: scrub(entry.outcome),
        detail: clean(entry.detail),
        schedule_id: entry.scheduleId ?? null,
      });
    },
    list(filter: { target?: string; since?: number; limit?: number } = {}): AuditEntry[] {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.target) {
        where.push('a.target = ?');
        params.push(filter.target);
      }
      if (filter.since !== undefined) {
        where.push('a.at >= ?');
        params.push(filter.since);
      }
      const sql = `SELECT a.*, p.text AS prompt FROM audit a LEFT JOIN prompts p ON p.id = a.prompt_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.id DESC LIMIT ?`;
      const rows = db.prepare<unknown[], AuditRow>(sql).all(...params, filter.limit ?? 50);
      return rows.reverse().map((row) => ({
        id: row.id,
        at: row.at,
        actor: row.actor,
        origin: row.origin,
        verb: row.verb,
        ...(row.target ? { target: row.target } : {}),
        ...(row.command ? { command: row.command } : {}),
        ...(row.prompt_id !== null ? { promptId: row.prompt_id } : {}),
        ...(row.prompt !== null ? { prompt: row.prompt } : {}),
        outcome: row.outcome,
        ...(row.detail ? { detail: row.detail } : {}),
        ...(row.schedule_id !== null ? { scheduleId: row.schedule_id } : {}),
      }));
    },
  };
}
