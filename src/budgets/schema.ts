import { z } from 'zod';
import { parseDuration } from '../monitor/interval.js';
import type { BudgetLimits } from './limits.js';

/**
 * `budget: { tokens, cost, time }` on a `servers:` or an `executors:` entry of switchboard.yaml: the limits of
 * each run there unless a name has its own. Each field's message names what it wants, and the loader prefixes
 * the path (`servers.0.budget.cost`), so a bad value points at its field.
 */
export const budgetSchema = z.strictObject({
  tokens: z
    .number({ error: 'must be a whole number of tokens, such as 400000' })
    .int({ error: 'must be a whole number of tokens, such as 400000' })
    .positive({ error: 'must be more than 0 tokens' })
    .optional(),
  cost: z.number({ error: 'must be an amount of US dollars, such as 1.50' }).positive({ error: 'must be more than 0 USD' }).optional(),
  time: z
    .string({ error: 'must be a duration such as 15m or 2h' })
    .refine(
      (value) => {
        try {
          parseDuration(value);
          return true;
        } catch {
          return false;
        }
      },
      { error: 'must be a duration such as 15m or 2h' },
    )
    .optional(),
});

export type BudgetConfig = z.infer<typeof budgetSchema>;

/** A configured budget as limits (durations in milliseconds). */
export function limitsFromConfig(config: BudgetConfig | undefined): BudgetLimits {
  if (!config) return {};
  return {
    ...(config.tokens !== undefined ? { tokens: config.tokens } : {}),
    ...(config.cost !== undefined ? { costUsd: config.cost } : {}),
    ...(config.time !== undefined ? { timeMs: parseDuration(config.time) } : {}),
  };
}
