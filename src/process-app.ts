import { allMigrations, createApp, scrubberFor, type App } from './app.js';
import type { Config } from './config/load.js';
import type { Environment } from './config/environment.js';
import { systemClock } from './core/clock.js';
import type { Logger } from './core/logger.js';
import type { Scrubber } from './core/scrub.js';
import { createStreamLogger } from './core/stderr-logger.js';
import { openDatabase, type Db } from './sessions/database.js';

export interface ProcessApp {
  app: App;
  db: Db;
  logger: Logger;
}

/**
 * The core as a process runs it (the bot, or one CLI command): a logger on `stderr` through the scrubber, the
 * database, the app. The logger reads the app's scrubber at every line, so once the app exists its log lines
 * also hide the passwords of the OpenCode servers it starts, which exist only at run time.
 */
export function openProcessApp(
  stderr: NodeJS.WritableStream,
  env: Environment,
  config: Config,
  options: { logLevel: string | undefined; cwd?: string; requestTimeoutMs?: number },
): ProcessApp {
  let scrub: Scrubber = scrubberFor(config, env);
  const logger = createStreamLogger(stderr, (text) => scrub(text), options.logLevel);
  const db = openDatabase(config.databasePath, allMigrations);
  const app = createApp({
    config,
    env,
    db,
    clock: systemClock,
    logger,
    scrub,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  scrub = app.scrub;
  return { app, db, logger };
}
