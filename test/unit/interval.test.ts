import { describe, expect, it } from 'vitest';
import { SwitchboardError } from '../../src/errors.js';
import { cronMatches, parseDuration, parseInterval } from '../../src/monitor/interval.js';

function usage(fn: () => unknown): SwitchboardError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchboardError);
    expect((error as SwitchboardError).code).toBe('usage');
    return error as SwitchboardError;
  }
  throw new Error('expected a usage error');
}

describe('parseInterval', () => {
  it.each([
    ['30s', 30_000, '30s'],
    ['5m', 300_000, '5m'],
    ['1h', 3_600_000, '1h'],
    ['2s', 2_000, '2s'],
    [' 10 M ', 600_000, '10m'],
    ['168h', 604_800_000, '168h'],
    ['10080m', 604_800_000, '10080m'],
  ])('%j is every %i ms', (raw, ms, text) => {
    expect(parseInterval(raw)).toEqual({ kind: 'every', ms, text });
  });

  it('accepts cron expressions', () => {
    expect(parseInterval('*/10 * * * *')).toEqual({ kind: 'cron', expression: '*/10 * * * *', text: '*/10 * * * *' });
    expect(parseInterval('0 9 * * 1-5').kind).toBe('cron');
  });

  it('refuses intervals that are too short', () => {
    expect(usage(() => parseInterval('1s')).message).toBe('interval 1s is too short: the shortest is 2s');
    expect(usage(() => parseInterval('0s')).message).toContain('too short');
    expect(usage(() => parseInterval('0m')).message).toContain('too short');
  });

  it('refuses intervals that are too long', () => {
    expect(usage(() => parseInterval('169h')).message).toBe('interval 169h is too long: the longest is 168h');
    expect(usage(() => parseInterval('999999m')).message).toContain('too long');
  });

  it('refuses garbage with the forms it takes', () => {
    for (const raw of ['', 'soon', '5', '5 minutes', '1d', '-5m', '1.5m', '* * *', '99 * * * *', '*/10 * * * * * *', '1234567s']) {
      const error = usage(() => parseInterval(raw));
      expect(error.message, raw).toContain('is not an interval: use 30s, 5m, 1h or a cron expression');
    }
  });

  it('bounds the echoed input', () => {
    expect(usage(() => parseInterval('x'.repeat(5_000))).message.length).toBeLessThan(200);
  });
});

describe('parseDuration', () => {
  it('reads durations and refuses cron expressions', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(usage(() => parseDuration('*/5 * * * *')).message).toBe('`*/5 * * * *` is not a duration such as 10m');
  });
});

describe('cronMatches', () => {
  it('matches the minutes the expression names', () => {
    expect(cronMatches('*/10 * * * *', new Date(2030, 0, 1, 10, 20, 0))).toBe(true);
    expect(cronMatches('*/10 * * * *', new Date(2030, 0, 1, 10, 21, 0))).toBe(false);
    expect(cronMatches('0 9 * * *', new Date(2030, 0, 1, 9, 0, 0))).toBe(true);
    expect(cronMatches('0 9 * * *', new Date(2030, 0, 1, 10, 0, 0))).toBe(false);
  });
});
