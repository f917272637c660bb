import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { CardUsage } from '../monitor/card.js';
import type { BudgetDefault, BudgetPlace } from './defaults.js';
import { stopLine, stopReason } from './format.js';
import { assessBudget, hasLimits, type BudgetKind, type BudgetLimits, type BudgetUse } from './limits.js';
import type { BudgetStore, NameBudget } from './store.js';

/** One look at a run, from whoever follows it (the monitor for OpenCode, the task relay for tasks). */
export interface RunLook {
  /** The run's card key (`opencodeCardKey`, `taskCardKey`): stable for one run across restarts. */
  key: string;
  name: string;
  /** Where the name runs, for its default limits when the name has none of its own. */
  place?: BudgetPlace;
  startedAt: number;
  usage?: CardUsage;
  /** The end of the run for `finish`; now for a live look. */
  at?: number;
}

export interface BudgetStop {
  kind: BudgetKind;
  /** `kumo stopped: budget 1.00 USD reached (…)`: the card's reason. */
  reason: string;
  /** `❌ kumo stopped: …`: the first line of the final message. */
  line: string;
  at: number;
}

export interface BudgetGuardDeps {
  store: BudgetStore;
  clock: Clock;
  logger: Logger;
  defaults: (place: BudgetPlace | undefined) => BudgetDefault;
  /** Stops a run of the name: abort the OpenCode session, kill the task with its process tree. */
  stop: (name: string) => Promise<void>;
  /** Once per budget stop (schedules count them). */
  onStopped?: (name: string, at: number) => void;
  /**
   * A stop that did not end the run is sent again after this long (default 5 s): an abort that reached an
   * OpenCode session before its turn had begun (a loaded server, seen in tests) is a no-op there. Aborts are
   * idempotent, and a killed task's end removes it from the watch, so a repeat costs one request.
   */
  retryStopMs?: number;
}

export type BudgetGuard = ReturnType<typeof createBudgetGuard>;

export function tokensOf(usage: CardUsage | undefined): number {
  return usage ? usage.input + usage.output + usage.cached : 0;
}

/**
 * Watches every live run's use against its name's limits and stops a run that reaches one. It holds no run of
 * its own: the monitor and the task relay report each look, and the beat (`tick`) checks wall time, so a time
 * limit fires even while an agent reports nothing. A stop is written before the run is stopped, keyed by its
 * card, so the final message can say why even after a restart, and no run is stopped (or counted) twice.
 */
export function createBudgetGuard(deps: BudgetGuardDeps) {
  const { store, clock, logger } = deps;
  const retryStopMs = deps.retryStopMs ?? 5_000;
  /** The newest look at each live run, by name (one run at a time per name). */
  const live = new Map<string, RunLook & { stoppedAt?: number }>();

  function limitsFor(name: string, place?: BudgetPlace): BudgetLimits {
    const own = store.get(name);
    if (own?.off) return {};
    return { ...deps.defaults(place).limits, ...own?.limits };
  }

  function useOf(look: RunLook, at: number): BudgetUse {
    return {
      tokens: tokensOf(look.usage),
      ...(look.usage?.costUsd !== undefined ? { costUsd: look.usage.costUsd } : {}),
      elapsedMs: Math.max(0, at - look.startedAt),
    };
  }

  /** Records the stop of this run if a limit is reached; the new stop, or undefined (none, or one already). */
  function judge(look: RunLook, at: number): { stop?: BudgetStop; fresh: boolean; limits: BudgetLimits } {
    const limits = limitsFor(look.name, look.place);
    const recorded = store.stopOf(look.key);
    if (recorded) return { stop: { kind: recorded.kind, reason: recorded.reason, line: stopLine(recorded.reason), at: recorded.at }, fresh: false, limits };
    if (!hasLimits(limits)) return { fresh: false, limits };
    const use = useOf(look, at);
    const passed = assessBudget(limits, use).passed;
    if (!passed) return { fresh: false, limits };
    const reason = stopReason(look.name, passed, limits, use);
    const fresh = store.recordStop({ key: look.key, name: look.name, kind: passed, reason, at });
    const stop = store.stopOf(look.key)!;
    if (fresh) {
      logger.info('budget: run stopped', { name: look.name, key: look.key, kind: passed });
      try {
        deps.onStopped?.(look.name, at);
      } catch (error) {
        logger.error('budget: onStopped failed', { name: look.name, error: String(error) });
      }
    }
    return { stop: { kind: stop.kind, reason: stop.reason, line: stopLine(stop.reason), at: stop.at }, fresh, limits };
  }

  function stopRun(name: string): void {
    const entry = live.get(name);
    if (entry) entry.stoppedAt = clock.now();
    deps.stop(name).catch((error: unknown) => logger.warn('budget: could not stop a run', { name, error: error instanceof Error ? error.message : String(error) }));
  }

  /** A run seen live: a limit reached stops it. Returns its limits, for its card. */
  function observe(look: RunLook): BudgetLimits {
    const now = look.at ?? clock.now();
    const before = live.get(look.name);
    live.set(look.name, { ...look, ...(before?.key === look.key && before.stoppedAt !== undefined ? { stoppedAt: before.stoppedAt } : {}) });
    const { stop, limits } = judge(look, now);
    const entry = live.get(look.name)!;
    // A stop recorded before a restart, or one whose abort did not take, is sent again now and then.
    if (stop && (entry.stoppedAt === undefined || now - entry.stoppedAt >= retryStopMs)) stopRun(look.name);
    return limits;
  }

  return {
    limitsFor,
    observe,
    /**
     * The run ended: its budget stop if one was recorded, or if its final use passed a limit (a Claude task
     * stopped by `--max-budget-usd` reports its cost only at the end). The final message and card say so.
     */
    finish(look: RunLook): { stop?: BudgetStop; limits: BudgetLimits } {
      if (live.get(look.name)?.key === look.key) live.delete(look.name);
      const { stop, limits } = judge(look, look.at ?? clock.now());
      return { ...(stop ? { stop } : {}), limits };
    },
    /** The run of a name is no longer followed (forgotten, unwatched). */
    forget(name: string): void {
      live.delete(name);
    },
    /** The newest look at a name's live run, with its use now. */
    current(name: string): { look: RunLook; use: BudgetUse } | undefined {
      const look = live.get(name);
      return look && { look, use: useOf(look, clock.now()) };
    },
    /** On the beat: wall time moves without any report, so each live run is judged again with the time now. */
    async tick(): Promise<void> {
      for (const look of [...live.values()]) {
        try {
          observe({ ...look, at: clock.now() });
        } catch (error) {
          logger.error('budget: check failed', { name: look.name, error: String(error) });
        }
      }
    },
    /** `budget <name> --…`: the name's own limits (kept with the ones not given). */
    set(name: string, limits: BudgetLimits, by: string): NameBudget {
      return store.set(name, limits, by);
    },
    off(name: string, by: string): NameBudget {
      return store.off(name, by);
    },
    own(name: string): NameBudget | undefined {
      return store.get(name);
    },
    /** `forget`: the name's own limits go with it (a scheduled re-run under the same name keeps them). */
    clear(name: string): void {
      live.delete(name);
      store.clear(name);
    },
  };
}
