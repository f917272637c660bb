import { limitsFromConfig, type BudgetConfig } from './schema.js';
import type { BudgetLimits } from './limits.js';

/** Where a name runs, as far as its default budget goes. */
export type BudgetPlace = { kind: 'server'; server: string } | { kind: 'executor'; executor: string };

export interface BudgetDefault {
  limits: BudgetLimits;
  /** `server lab`, `executor crib`: where the defaults come from. */
  from?: string;
}

type Entries = ReadonlyArray<{ name: string; budget?: BudgetConfig | undefined }>;

/**
 * The defaults of switchboard.yaml: a configured server's `budget`, an executor's `budget` for its tasks, and
 * for a server Switchboard runs on an executor (`@crib`) that executor's.
 */
export function budgetDefaults(config: { servers: Entries; executors: Entries }): (place: BudgetPlace | undefined) => BudgetDefault {
  const from = (entries: Entries, name: string, what: string): BudgetDefault => {
    const budget = entries.find((entry) => entry.name === name)?.budget;
    return budget ? { limits: limitsFromConfig(budget), from: `${what} ${name}` } : { limits: {} };
  };
  return (place) => {
    if (!place) return { limits: {} };
    if (place.kind === 'executor') return from(config.executors, place.executor, 'executor');
    if (place.server.startsWith('@')) return from(config.executors, place.server.slice(1), 'executor');
    return from(config.servers, place.server, 'server');
  };
}
