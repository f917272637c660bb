/**
 * What a budget is and how a run's use compares with it. Pure and import-free at run time, so the card (which
 * draws the budget line) and the guard (which stops runs) share one verdict without importing each other.
 */

export type BudgetKind = 'cost' | 'tokens' | 'time';

/** The limits of each run of a name; an absent field is no limit of that kind. */
export interface BudgetLimits {
  tokens?: number;
  costUsd?: number;
  timeMs?: number;
}

/** What a run has used so far: tokens (input + output + cached) and cost as the agent reported them, and wall time. */
export interface BudgetUse {
  tokens: number;
  /** Unknown for a Claude task until its result (stream-json reports cost only there). */
  costUsd?: number;
  elapsedMs: number;
}

export interface BudgetVerdict {
  /** The first limit the run reached (cost, then tokens, then time), if any. */
  passed?: BudgetKind;
  /** Limits at or past `WARN_AT` of their value, with the share used (0.85 = 85 %). */
  near: Array<{ kind: BudgetKind; share: number }>;
}

/** A run this close to a limit gets a warning on its card. */
export const WARN_AT = 0.8;

/** In the order a stop names them when several are reached at once. */
export const BUDGET_KINDS: readonly BudgetKind[] = ['cost', 'tokens', 'time'];

export function hasLimits(limits: BudgetLimits | undefined): limits is BudgetLimits {
  return !!limits && (limits.tokens !== undefined || limits.costUsd !== undefined || limits.timeMs !== undefined);
}

export function limitOf(limits: BudgetLimits, kind: BudgetKind): number | undefined {
  return kind === 'cost' ? limits.costUsd : kind === 'tokens' ? limits.tokens : limits.timeMs;
}

export function useOf(use: BudgetUse, kind: BudgetKind): number | undefined {
  return kind === 'cost' ? use.costUsd : kind === 'tokens' ? use.tokens : use.elapsedMs;
}

/** Reaching a limit counts as passing it: a run at exactly its limit has nothing left to spend. */
export function assessBudget(limits: BudgetLimits, use: BudgetUse): BudgetVerdict {
  const verdict: BudgetVerdict = { near: [] };
  for (const kind of BUDGET_KINDS) {
    const limit = limitOf(limits, kind);
    const used = useOf(use, kind);
    if (limit === undefined || used === undefined || limit <= 0) continue;
    const share = used / limit;
    if (share >= 1 && !verdict.passed) verdict.passed = kind;
    if (share >= WARN_AT) verdict.near.push({ kind, share });
  }
  return verdict;
}

/** `42s`, `15m`, `14m 10s`, `1h`, `2h 05m`: a limit reads as it was typed, a use as precisely as it matters. */
export function compactDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes}m ${String(seconds % 60).padStart(2, '0')}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours}h ${String(minutes % 60).padStart(2, '0')}m` : `${hours}h`;
}
