import { limitsFromConfig, type BudgetConfig } from './schema.js';
import type { BudgetLimits } from './limits.js';

/** Where a name runs, as far as its default budget goes. */
export type BudgetPlace = { kind: 'server'; server: string } | { kind: 'executor'; executor: string };

export interface BudgetDefault {
  limits: BudgetLimits;
  /** `server lab`, `executor crib`: where the defaults come from, for `budget <name>`. */
  from?: string;
}

/**
 * The defaults of switchboard.yaml: a configured server's `budget`, an executor's `budget` for its tasks, and
 * for a server Switchboard runs on an executor (`@crib`) that executor's.
 */
export function budgetDefaults(config: {
  servers: ReadonlyArray<{ name: string; budget?: BudgetConfig | undefined }>;
  executors: ReadonlyArray<{ name: string; budget?: BudgetConfig | undefined }>;
}): (place: BudgetPlace | undefined) => BudgetDefault {
  return (place) => {
    if (!place) return { limits: {} };
    const executor = place.kind === 'executor' ? place.executor : place.server.startsWith('@') ? place.server.slice(1) : undefined;
    if (executor !== undefined) {
      const budget = config.executors.find((e) => e.name === executor)?.budget;
      return budget ? { limits: limitsFromConfig(budget), from: `executor ${executor}` } : { limits: {} };
    }
    const budget = config.servers.find((s) => s.name === (place as { server: string }).server)?.budget;
    return budget ? { limits: limitsFromConfig(budget), from: `server ${(place as { server: string }).server}` } : { limits: {} };
  };
}
