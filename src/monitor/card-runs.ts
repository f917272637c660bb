import type { Clock } from '../core/clock.js';
import type { Origin } from '../core/origin.js';
import type { Scrubber } from '../core/scrub.js';
import type { CardSink } from '../notify/card-sink.js';
import { isFinalPhase, renderCard, type CardState } from './card.js';

/** Who waits behind a name's current run (the follow-up queue), oldest first. */
export type QueuedFor = (name: string) => readonly { actor: string }[];

/** The schedule that started the run of `name` that began at `startedAt`, in words; nothing for a typed run. */
export type ScheduleOf = (name: string, startedAt: number) => string | undefined;

export interface RunCardsDeps {
  cards: CardSink;
  clock: Clock;
  scrub?: Scrubber;
  queuedFor?: QueuedFor;
  scheduleOf?: ScheduleOf;
  /** The branch of the worktree a name works in, for its card (`--worktree`). */
  branchOf?: (name: string) => string | undefined;
  /** How often a live card is drawn again only so its elapsed time moves (the sink coalesces edits). */
  refreshMs?: number;
}

export interface CardTarget {
  /** Stable for one run across restarts: derived from persisted data (a prompt id, a task id and run). */
  key: string;
  origin: Origin;
  /** The name whose thread the card belongs in. */
  threadKey: string;
  actor?: string;
}

export type RunCards = ReturnType<typeof createRunCards>;

/**
 * The live cards of one producer (the monitor, the task relay): the newest state of each run, drawn through
 * the card sink whenever it changes and, every `refreshMs`, again for the clock. Only state lives here; a
 * restart loses nothing, since the next check rebuilds the state under the same key.
 */
export function createRunCards(deps: RunCardsDeps) {
  const { cards, clock } = deps;
  const refreshMs = deps.refreshMs ?? 10_000;
  const live = new Map<string, { target: CardTarget; state: CardState; drawnAt: number }>();

  function draw(target: CardTarget, state: CardState): void {
    const now = clock.now();
    const queued = deps.queuedFor?.(state.name) ?? [];
    const schedule = deps.scheduleOf?.(state.name, state.startedAt);
    const branch = deps.branchOf?.(state.name);
    const shown: CardState = { ...state, ...(queued.length && !isFinalPhase(state.phase) ? { queued } : {}), ...(schedule ? { schedule } : {}), ...(branch ? { branch } : {}) };
    const final = isFinalPhase(state.phase);
    cards.update({
      key: target.key,
      origin: target.origin,
      threadKey: target.threadKey,
      ...(target.actor ? { actor: target.actor } : {}),
      reply: renderCard(shown, now, deps.scrub ? { scrub: deps.scrub } : {}),
      state: shown,
      ...(final ? { final: true } : {}),
    });
    if (final) live.delete(state.name);
    else live.set(state.name, { target, state, drawnAt: now });
  }

  return {
    /** Shows a run's newest state; a final phase ends the card (later updates of its key are ignored). */
    show(target: CardTarget, state: CardState): void {
      const current = live.get(state.name);
      // A new run of the same name replaces the old card's place; the old one keeps its last state.
      if (current && current.target.key !== target.key) live.delete(state.name);
      draw(target, state);
    },
    /** The live card of a name, if a run is on. */
    get(name: string): { target: CardTarget; state: CardState } | undefined {
      const current = live.get(name);
      return current && { target: current.target, state: current.state };
    },
    /** Draws the live cards not drawn for `refreshMs` again, so their elapsed time (and the queue) move. */
    refresh(): void {
      const now = clock.now();
      for (const { target, state, drawnAt } of [...live.values()]) {
        if (now - drawnAt >= refreshMs) draw(target, state);
      }
    },
    /** Forgets a name's card without drawing it (the name was forgotten or its watch removed). */
    drop(name: string): void {
      live.delete(name);
    },
    size: () => live.size,
  };
}
