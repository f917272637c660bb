import cron, { type ScheduledTask } from 'node-cron';
import { SwitchboardError } from '../errors.js';
import { formatDuration } from '../core/format.js';

/**
 * `<when>` of a schedule: an interval (`30s`, `10m`, `2h`, `1d`) counted from when the schedule was made, or a
 * cron expression (5 fields, or 6 with seconds) read in the schedule's time zone by node-cron. Parsing is pure;
 * the next fire of a cron comes from node-cron's matcher.
 */
export type When =
  | { kind: 'every'; ms: number; text: string }
  | { kind: 'cron'; expression: string; text: string };

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** An interval longer than a year is a typo, not a plan. */
const LONGEST_MS = 366 * 86_400_000;

const FIELDS: Record<string, string> = {
  second: 'seconds (0–59)',
  minute: 'minute (0–59)',
  hour: 'hour (0–23)',
  dayOfMonth: 'day of month (1–31)',
  month: 'month (1–12 or JAN–DEC)',
  dayOfWeek: 'day of week (0–7 or SUN–SAT)',
};
const FIVE = ['minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'];
const SIX = ['second', ...FIVE];

const EXAMPLES = 'an interval such as 30s, 10m, 2h or 1d, or a cron expression in quotes such as "0 9 * * 1-5"';

/** Parses `<when>`; the error names the field that is wrong and shows the right forms. */
export function parseWhen(raw: string): When {
  const value = raw.trim();
  const interval = /^(\d{1,9})([smhd])$/i.exec(value);
  if (interval) {
    const ms = Number(interval[1]) * UNITS[interval[2]!.toLowerCase()]!;
    if (ms === 0) throw new SwitchboardError('usage', `\`${value}\` is no interval: it must be longer than zero`, { hint: `use ${EXAMPLES}` });
    if (ms > LONGEST_MS) throw new SwitchboardError('usage', `\`${value}\` is too long an interval: the longest is 366d`, { hint: `use ${EXAMPLES}` });
    return { kind: 'every', ms, text: value.toLowerCase() };
  }
  const fields = value.split(/\s+/).filter(Boolean);
  if (fields.length < 5) {
    const looksLikeInterval = /^\d/.test(value) && fields.length === 1;
    throw new SwitchboardError(
      'usage',
      looksLikeInterval
        ? `\`${value.slice(0, 40)}\` is not an interval: the units are s, m, h and d (such as 30s, 10m, 2h, 1d); a cron expression goes in quotes`
        : `\`${value.slice(0, 60)}\` is not a schedule: a cron expression has 5 fields (or 6 with seconds), this has ${fields.length}`,
      { hint: `use ${EXAMPLES}` },
    );
  }
  if (fields.length > 6) {
    throw new SwitchboardError('usage', `\`${value.slice(0, 60)}\` has ${fields.length} fields: a cron expression has 5 (or 6 with seconds)`, {
      hint: 'put the cron expression in quotes: `schedule "0 9 * * 1-5" send kumo …`',
    });
  }
  const expression = fields.join(' ');
  const checked = cron.validateDetailed(expression);
  if (!checked.valid) {
    const error = checked.errors[0];
    const names = fields.length === 6 ? SIX : FIVE;
    const position = error ? names.indexOf(error.field) : -1;
    const what = error && FIELDS[error.field] ? FIELDS[error.field] : 'a field';
    const at = position >= 0 ? `field ${position + 1}, the ${what}` : what;
    const detail = error?.message.includes('impossible') ? ' never happens (no such day in that month)' : ' is out of range or malformed';
    throw new SwitchboardError('usage', `cron \`${expression}\`: ${at}: \`${error?.value ?? '?'}\`${detail}`, {
      hint: 'fields: [seconds] minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5" (09:00 on weekdays)',
    });
  }
  return { kind: 'cron', expression, text: expression };
}

/** The zone given to `--tz`, checked; the error says what a zone looks like. */
export function checkZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new SwitchboardError('usage', `unknown time zone \`${zone.slice(0, 60)}\``, { hint: 'use an IANA zone such as Europe/Paris, America/New_York or UTC' });
  }
}

/** The bot's own zone, the default for `--tz`. */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

// One node-cron task per expression and zone, only ever asked for its next runs (never started).
const matchers = new Map<string, ScheduledTask>();

function matcher(expression: string, zone: string): ScheduledTask {
  const key = `${zone}\u0001${expression}`;
  let task = matchers.get(key);
  if (!task) {
    task = cron.createTask(expression, () => undefined, { timezone: zone });
    matchers.set(key, task);
  }
  return task;
}

/**
 * The first fire strictly after `after`. An interval keeps its phase from `anchor` (when the schedule was made),
 * so a fire that came late does not shift every later one. node-cron counts from the system clock, which is
 * the clock `after` comes from outside tests.
 */
export function nextFire(when: When, zone: string, anchor: number, after: number): number {
  if (when.kind === 'every') {
    const periods = Math.floor((after - anchor) / when.ms) + 1;
    return anchor + Math.max(1, periods) * when.ms;
  }
  const runs = matcher(when.expression, zone).getNextRuns(1);
  const next = runs[0]?.getTime() ?? Number.POSITIVE_INFINITY;
  // node-cron counts from its own now; never answer a time at or before `after`.
  return next > after ? next : after + 1_000;
}

/** The shortest gap between fires: an interval's length, or the closest two of a cron's next fires. */
export function shortestGap(when: When, zone: string): number {
  if (when.kind === 'every') return when.ms;
  const runs = matcher(when.expression, zone).getNextRuns(24).map((d) => d.getTime());
  let shortest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < runs.length; i++) shortest = Math.min(shortest, runs[i]! - runs[i - 1]!);
  return shortest;
}

/** Refuses a schedule that would fire more often than `minMs` (`schedules.minInterval`). */
export function requireMinimum(when: When, zone: string, minMs: number, minText: string): void {
  const gap = shortestGap(when, zone);
  if (gap >= minMs) return;
  throw new SwitchboardError(
    'usage',
    `\`${when.text}\` fires every ${formatDuration(gap)}, more often than the minimum of ${minText}`,
    { hint: 'an admin can lower `schedules.minInterval` in switchboard.yaml' },
  );
}

/** `Mon 7 Dec 09:00 (Europe/Paris)`: a fire time in the schedule's own zone. */
export function formatFire(at: number, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const seconds = get('second') === '00' ? '' : `:${get('second')}`;
  return `${get('weekday')} ${get('day')} ${get('month')} ${get('hour')}:${get('minute')}${seconds} (${zone})`;
}

/** `every 6h` or the cron expression with its zone, for lists and notes. */
export function describeWhen(when: When, zone: string): string {
  return when.kind === 'every' ? `every ${when.text}` : `cron \`${when.expression}\` ${zone}`;
}
