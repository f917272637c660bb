import type { Logger } from './logger.js';
import type { Scrubber } from './scrub.js';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** Human-readable log lines on a stream (stderr), every one through the scrubber. */
export function createStreamLogger(stream: NodeJS.WritableStream, scrub: Scrubber, minimum: string | undefined): Logger {
  const floor = Math.max(0, LEVELS.indexOf((minimum ?? 'info') as Level));
  const log = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) < floor) return;
    const extra = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
    stream.write(scrub(`${new Date().toISOString()} ${level.toUpperCase()} ${message}${extra}`) + '\n');
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
