import type { EditBudget } from '../core/adapter.js';

/**
 * A sliding window of recent edits per budget key (a channel, or a whole adapter), plus pauses a 429 imposes.
 * Edits are also spread evenly (one per `perMs / edits`): a full window's worth sent as one burst would arrive
 * spread out by network and server latency, and the next burst, arriving tighter, would overrun the platform's
 * own window although ours was kept. Pure bookkeeping with times passed in, unit-tested without timers.
 */
export function createEditWindow() {
  const recent = new Map<string, number[]>();
  const pausedUntil = new Map<string, number>();

  function trim(key: string, budget: EditBudget, now: number): number[] {
    const list = (recent.get(key) ?? []).filter((at) => at > now - budget.perMs);
    recent.set(key, list);
    return list;
  }

  return {
    /** Milliseconds until one more edit fits under `budget` for `key` (0: now). */
    waitMs(key: string, budget: EditBudget, now: number): number {
      const pause = Math.max(0, (pausedUntil.get(key) ?? 0) - now);
      const list = trim(key, budget, now);
      const full = list.length >= budget.edits ? list[list.length - budget.edits]! + budget.perMs - now : 0;
      const last = list.at(-1);
      const spacing = last === undefined ? 0 : last + budget.perMs / budget.edits - now;
      return Math.max(pause, full, spacing);
    },
    take(key: string, now: number): void {
      recent.set(key, [...(recent.get(key) ?? []), now]);
    },
    /** The platform said "wait": nothing under this key starts before `until`. */
    pause(key: string, until: number): void {
      pausedUntil.set(key, Math.max(until, pausedUntil.get(key) ?? 0));
    },
  };
}

export type EditWindow = ReturnType<typeof createEditWindow>;
