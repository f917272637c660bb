/** Budgets: limits on each run of a name (tokens, cost, wall time), checked as runs report, enforced by stopping them. */
export { createBudgetGuard, tokensOf, type BudgetGuard, type BudgetGuardDeps, type BudgetStop, type RunLook } from './guard.js';
export { createBudgetStore, budgetMigrations, type BudgetStore, type NameBudget } from './store.js';
export { budgetDefaults, type BudgetPlace, type BudgetDefault } from './defaults.js';
export { budgetSchema, limitsFromConfig, type BudgetConfig } from './schema.js';
export { assessBudget, compactDuration, hasLimits, WARN_AT, type BudgetKind, type BudgetLimits, type BudgetUse } from './limits.js';
export { describeLimits, describeUse, formatLimit, limitsFromOptions, stopLine, stopReason } from './format.js';
export { budgetedCard } from './card.js';
