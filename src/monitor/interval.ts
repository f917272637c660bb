import cron from 'node-cron';
import { SwitchboardError } from '../errors.js';

/** How often a watch reports: a fixed period (`30s`, `5m`, `1h`) or a cron expression (`*\/10 * * * *`). */
export type Interval = { kind: 'every'; ms: number; text: string } | { kind: 'cron'; expression: string; text: string };

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

export function parseInterval(raw: string): Interval {
  const value = raw.trim();
  const simple = /^(\d{1,6})\s*([smh])$/i.exec(value);
  if (simple) {
    const ms = Number(simple[1]) * UNITS[simple[2]!.toLowerCase()]!;
    if (ms < 2_000) throw new SwitchboardError('usage', `interval ${value} is too short: the shortest is 2s`);
    if (ms > 7 * 24 * 3_600_000) throw new SwitchboardError('usage', `interval ${value} is too long: the longest is 168h`);
    return { kind: 'every', ms, text: value.toLowerCase().replace(/\s+/g, '') };
  }
  if (value.split(/\s+/).length >= 5 && cron.validate(value)) return { kind: 'cron', expression: value, text: value };
  throw new SwitchboardError(
    'usage',
    `\`${value.slice(0, 60)}\` is not an interval: use 30s, 5m, 1h or a cron expression such as "*/10 * * * *"`,
  );
}

/** Milliseconds in a duration like `10m` (for settings that are always durations, such as stallAfter). */
export function parseDuration(raw: string): number {
  const interval = parseInterval(raw);
  if (interval.kind !== 'every') throw new SwitchboardError('usage', `\`${raw}\` is not a duration such as 10m`);
  return interval.ms;
}

const matchers = new Map<string, ReturnType<typeof cron.createTask>>();

/** Whether a cron interval fires in the given second. Tasks are only used for matching, never started. */
export function cronMatches(expression: string, at: Date): boolean {
  let task = matchers.get(expression);
  if (!task) {
    task = cron.createTask(expression, () => undefined);
    matchers.set(expression, task);
  }
  return task.match(at);
}
