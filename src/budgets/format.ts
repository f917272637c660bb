import { formatDuration } from '../core/format.js';
import { SwitchboardError } from '../errors.js';
import { parseDuration } from '../monitor/interval.js';
import { formatCost, formatTokens } from '../monitor/card.js';
import { BUDGET_KINDS, compactDuration, limitOf, type BudgetKind, type BudgetLimits, type BudgetUse } from './limits.js';

/** Budgets in words, and the words a person types for them. Pure. */

/** `1.00`, `0.0001`: dollars without the sign, as the stop line writes them (`1.00 USD`). */
export function usd(amount: number): string {
  return formatCost(amount).slice(1);
}

/** `1.00 USD`, `400k tokens`, `15m`. */
export function formatLimit(kind: BudgetKind, value: number): string {
  if (kind === 'cost') return `${usd(value)} USD`;
  if (kind === 'tokens') return `${formatTokens(value)} tokens`;
  return compactDuration(value);
}

/** Every limit that is set, in words: `1.00 USD · 400k tokens · 15m`. */
export function describeLimits(limits: BudgetLimits): string {
  return BUDGET_KINDS.flatMap((kind) => {
    const value = limitOf(limits, kind);
    return value === undefined ? [] : [formatLimit(kind, value)];
  }).join(' · ');
}

/** `1.03 USD, 412k tokens, 14m 10s`: the cost only when the agent reported one. */
export function describeUse(use: BudgetUse): string {
  return [use.costUsd !== undefined ? `${usd(use.costUsd)} USD` : '', `${formatTokens(use.tokens)} tokens`, formatDuration(use.elapsedMs)]
    .filter(Boolean)
    .join(', ');
}

/** `kumo stopped: budget 1.00 USD reached (1.03 USD, 412k tokens, 14m 10s)`: the card's reason. */
export function stopReason(name: string, kind: BudgetKind, limits: BudgetLimits, use: BudgetUse): string {
  return `${name} stopped: budget ${formatLimit(kind, limitOf(limits, kind) ?? 0)} reached (${describeUse(use)})`;
}

/** The first line of the final message of a run its budget stopped. */
export function stopLine(reason: string): string {
  return `❌ ${reason}`;
}

const FORM = 'budget <name> [--tokens N] [--cost USD] [--time DURATION]';

function bad(message: string): SwitchboardError {
  return new SwitchboardError('usage', message, { hint: `\`${FORM}\`, or \`budget <name> off\`` });
}

/** `400000`, `400k`, `1.5M` → tokens. */
export function parseTokens(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(raw.trim());
  if (!match) {
    if (/^-/.test(raw.trim())) throw bad(`--tokens must be more than 0 (got \`${raw}\`)`);
    throw bad(`--tokens must be a number of tokens such as 400000 or 400k (got \`${raw}\`)`);
  }
  const scale = { '': 1, k: 1_000, m: 1_000_000 }[match[2]!.toLowerCase() as '' | 'k' | 'm'];
  const tokens = Math.round(Number(match[1]) * scale);
  if (!(tokens >= 1)) throw bad(`--tokens must be more than 0 (got \`${raw}\`)`);
  if (tokens > 1e12) throw bad(`--tokens ${raw} is more than any run could use`);
  return tokens;
}

/** `1.50`, `$1.50`, `0.0001` → US dollars. */
export function parseCost(raw: string): number {
  const value = raw.trim().replace(/^\$/, '').replace(/\s*usd$/i, '');
  if (/^-/.test(value)) throw bad(`--cost must be more than 0 USD (got \`${raw}\`)`);
  if (!/^\d+(?:\.\d+)?$|^\.\d+$/.test(value)) throw bad(`--cost must be an amount of US dollars such as 1.50 (got \`${raw}\`)`);
  const cost = Number(value);
  if (!(cost > 0)) throw bad(`--cost must be more than 0 USD (got \`${raw}\`)`);
  if (cost > 1e6) throw bad(`--cost ${raw} is more than any run could cost`);
  return cost;
}

/** `15m`, `2h`, `90s` → milliseconds (the same durations as everywhere else). */
export function parseTime(raw: string): number {
  if (/^\s*-/.test(raw)) throw bad(`--time must be a duration such as 15m or 2h (got \`${raw}\`)`);
  try {
    return parseDuration(raw);
  } catch (error) {
    const why = error instanceof SwitchboardError ? error.message : String(error);
    throw bad(`--time must be a duration such as 15m or 2h: ${why}`);
  }
}

/** The limits a `budget` command line gives, each checked; none given is an empty object. */
export function limitsFromOptions(options: Record<string, string | number | boolean>): BudgetLimits {
  const text = (key: string): string | undefined => {
    const value = options[key];
    if (value === undefined) return undefined;
    if (typeof value === 'boolean') throw bad(`--${key} needs a value`);
    return String(value);
  };
  const tokens = text('tokens');
  const cost = text('cost');
  const time = text('time');
  return {
    ...(tokens !== undefined ? { tokens: parseTokens(tokens) } : {}),
    ...(cost !== undefined ? { costUsd: parseCost(cost) } : {}),
    ...(time !== undefined ? { timeMs: parseTime(time) } : {}),
  };
}
