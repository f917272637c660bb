import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../src/core/logger.js';

/**
 * Bolt, web-api and socket-mode log through this, so their lines reach Switchboard's logger (and its
 * scrubber) instead of stdout. Bolt's own level filter is kept for `getLevel`, but filtering is the core
 * logger's job.
 */
export function boltLoggerFor(logger: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const line = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : safeJson(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => logger.debug(`slack: ${line(msg)}`),
    info: (...msg: unknown[]) => logger.info(`slack: ${line(msg)}`),
    warn: (...msg: unknown[]) => logger.warn(`slack: ${line(msg)}`),
    error: (...msg: unknown[]) => logger.error(`slack: ${line(msg)}`),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
