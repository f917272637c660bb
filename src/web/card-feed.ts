import type { Clock } from '../core/clock.js';
import { replyToPlainText, type Reply } from '../core/reply.js';
import type { CardState } from '../monitor/card.js';
import type { CardUpdate } from '../notify/card-sink.js';
import type { Db } from '../sessions/database.js';

/** What the page shows of a name's newest card. */
export interface LiveCard {
  name: string;
  key: string;
  phase: string;
  /** The card as the channel shows it (already scrubbed by the card sink). */
  text: string;
  final: boolean;
  updatedAt: number;
  startedAt?: number;
  endedAt?: number;
  todos: { content: string; status: string }[];
  done: number;
  total: number;
  active?: string;
  tokens?: number;
  costUsd?: number;
}

export interface RunRow {
  key: string;
  name: string;
  startedAt: number;
  endedAt: number | null;
  phase: string;
  tokens: number;
  costUsd: number;
}

const FINAL = new Set(['finished', 'failed']);

function fromState(base: Omit<LiveCard, 'todos' | 'done' | 'total'>, state: CardState): LiveCard {
  const todos = state.todos.map((t) => ({ content: t.content, status: t.status }));
  const counted = todos.filter((t) => t.status !== 'cancelled');
  const active = todos.find((t) => t.status === 'in_progress')?.content;
  const usage = state.usage;
  return {
    ...base,
    phase: state.phase,
    startedAt: state.startedAt,
    ...(state.endedAt !== undefined ? { endedAt: state.endedAt } : {}),
    todos,
    done: counted.filter((t) => t.status === 'completed').length,
    total: counted.length,
    ...(active !== undefined ? { active } : {}),
    ...(usage ? { tokens: usage.input + usage.output + usage.cached, ...(usage.costUsd !== undefined ? { costUsd: usage.costUsd } : {}) } : {}),
  };
}

/** A card known only by its text (drawn before this process started): the phase and `todo x/y` are in it. */
function fromReply(base: Omit<LiveCard, 'todos' | 'done' | 'total'>): LiveCard {
  const fraction = /todo (\d+)\/(\d+)/.exec(base.text.split('\n')[0] ?? '');
  return { ...base, todos: [], done: fraction ? Number(fraction[1]) : 0, total: fraction ? Number(fraction[2]) : 0 };
}

function phaseOf(reply: Reply): string {
  const data = reply.data as { phase?: unknown } | undefined;
  return typeof data?.phase === 'string' ? data.phase : 'working';
}

export type CardFeed = ReturnType<typeof createCardFeed>;

/**
 * The newest card of every name, fed by the card sink's listener (`onUpdate`), and the run history kept from
 * it in `web_runs`: one row per card key (a run), with its start, end, outcome, tokens and cost. Listeners hear
 * of every change at once (the page's live updates).
 */
export function createCardFeed(db: Db, clock: Clock) {
  const cards = new Map<string, LiveCard>();
  const listeners = new Set<(card: LiveCard) => void>();
  const upsert = db.prepare(`
    INSERT INTO web_runs (key, name, started_at, ended_at, phase, tokens, cost_usd, updated_at)
    VALUES (@key, @name, @started_at, @ended_at, @phase, @tokens, @cost, @now)
    ON CONFLICT (key) DO UPDATE SET ended_at = @ended_at, phase = @phase, tokens = @tokens, cost_usd = @cost, updated_at = @now`);
  const byName = db.prepare<[string, number], { key: string; name: string; started_at: number; ended_at: number | null; phase: string; tokens: number; cost_usd: number }>(
    'SELECT key, name, started_at, ended_at, phase, tokens, cost_usd FROM web_runs WHERE name = ? ORDER BY started_at DESC LIMIT ?',
  );
  const since = db.prepare<[number], { name: string; started_at: number; phase: string; tokens: number; cost_usd: number }>(
    'SELECT name, started_at, phase, tokens, cost_usd FROM web_runs WHERE started_at >= ?',
  );

  // Cards drawn before this process started: the newest per name, from the card sink's own table.
  const stored = db.prepare<[], { key: string; thread_key: string; shown: string; final: number; updated_at: number }>(
    'SELECT key, thread_key, shown, final, updated_at FROM cards WHERE thread_key IS NOT NULL ORDER BY updated_at, rowid',
  );
  for (const row of stored.all()) {
    try {
      const reply = JSON.parse(row.shown) as Reply;
      cards.set(row.thread_key, fromReply({ name: row.thread_key, key: row.key, phase: phaseOf(reply), text: replyToPlainText(reply), final: row.final === 1, updatedAt: row.updated_at }));
    } catch {
      // A row this code cannot read shows no card; the next update brings one.
    }
  }

  return {
    /** The card sink's listener: called with every state drawn (the reply already scrubbed). */
    onUpdate(update: CardUpdate & { state?: CardState }): void {
      const name = update.threadKey ?? update.state?.name;
      if (!name) return;
      const now = clock.now();
      const base = { name, key: update.key, phase: phaseOf(update.reply), text: replyToPlainText(update.reply), final: Boolean(update.final), updatedAt: now };
      const card = update.state ? fromState(base, update.state) : fromReply(base);
      if (card.final === false && FINAL.has(card.phase)) card.final = true;
      cards.set(name, card);
      if (update.state) {
        upsert.run({
          key: update.key,
          name,
          started_at: update.state.startedAt,
          ended_at: card.final ? (update.state.endedAt ?? now) : null,
          phase: card.phase,
          tokens: card.tokens ?? 0,
          cost: card.costUsd ?? 0,
          now,
        });
      }
      for (const listener of listeners) listener(card);
    },
    get: (name: string): LiveCard | undefined => cards.get(name),
    runs(name: string, limit = 30): RunRow[] {
      return byName.all(name, limit).map((r) => ({ key: r.key, name: r.name, startedAt: r.started_at, endedAt: r.ended_at, phase: r.phase, tokens: r.tokens, costUsd: r.cost_usd }));
    },
    /** Runs that started at or after `from`, for the charts and today's totals. */
    runsSince(from: number) {
      return since.all(from).map((r) => ({ name: r.name, startedAt: r.started_at, phase: r.phase, tokens: r.tokens, costUsd: r.cost_usd }));
    },
    subscribe(listener: (card: LiveCard) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
