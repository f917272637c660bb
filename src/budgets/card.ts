import type { CardState } from '../monitor/card.js';
import type { BudgetGuard, BudgetStop, RunLook } from './guard.js';
import { hasLimits } from './limits.js';

/**
 * One look at a run, as its follower draws it: a live look is judged (a run past a limit is stopped) and the
 * card gets its limits; an ended run that was stopped by its budget (or ended past a limit) ends failed with
 * the stop's reason, which the caller also puts first in the final message. A queued task only shows its
 * limits: it uses nothing yet.
 */
export function budgetedCard(
  guard: Pick<BudgetGuard, 'observe' | 'finish' | 'limitsFor'>,
  look: Omit<RunLook, 'startedAt' | 'usage'>,
  card: CardState,
  stage: 'waiting' | 'live' | 'ended',
): { card: CardState; stop?: BudgetStop } {
  const full: RunLook = { ...look, startedAt: card.startedAt, ...(card.usage ? { usage: card.usage } : {}) };
  if (stage === 'waiting') {
    const limits = guard.limitsFor(look.name, look.place);
    return { card: hasLimits(limits) ? { ...card, budget: limits } : card };
  }
  if (stage === 'live') {
    const limits = guard.observe(full);
    return { card: hasLimits(limits) ? { ...card, budget: limits } : card };
  }
  const { stop, limits } = guard.finish({ ...full, at: look.at ?? card.endedAt ?? card.startedAt });
  const shown = hasLimits(limits) ? { ...card, budget: limits } : card;
  return stop ? { card: { ...shown, phase: 'failed', detail: stop.reason }, stop } : { card: shown };
}
