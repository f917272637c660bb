import { userInfo } from 'node:os';
import { createConsoleAdapter } from '../adapters/console/index.js';
import { platformAdapters } from '../adapters/index.js';
import { loadConfig } from './config/load.js';
import { loadEnvironment } from './config/environment.js';
import type { Adapter } from './core/adapter.js';
import { SwitchboardError } from './errors.js';
import { openProcessApp } from './process-app.js';

export interface ProcessIo {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  onSignal(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
}

/**
 * Runs the bot until it should stop, and returns the exit code. Everything it touches comes in through `io`,
 * so the same function serves `npm start` and the tests.
 */
export async function runBot(io: ProcessIo): Promise<number> {
  const env = loadEnvironment(io.cwd, io.env);
  let config;
  try {
    config = loadConfig(io.cwd, env);
  } catch (error) {
    if (error instanceof SwitchboardError) {
      io.stderr.write(`switchboard: configuration error: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const timeoutSeconds = Number(env.SWITCHBOARD_HTTP_TIMEOUT ?? '15');
  const { app, db, logger } = openProcessApp(io.stderr, env, config, {
    logLevel: env.LOG_LEVEL,
    cwd: io.cwd,
    requestTimeoutMs: Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds * 1000 : 15_000,
  });
  const { switchboard } = app;

  const adapters: Adapter[] = [];
  const console = createConsoleAdapter(switchboard, {
    input: io.stdin,
    output: io.stdout,
    user: env.USER ?? safeUserName(),
    interactive: Boolean(io.stdin.isTTY),
    banner: `Switchboard ready · console · database ${config.databasePath}${config.fileExists ? ` · config ${config.file}` : ''} · type \`help\``,
  });
  adapters.push(console);
  for (const factory of platformAdapters) {
    if (!factory.configured(env)) continue;
    try {
      adapters.push(await factory.create({ core: switchboard, env, logger }));
    } catch (error) {
      io.stderr.write(`switchboard: cannot start the ${factory.name} adapter: ${app.scrub(error instanceof Error ? error.message : String(error))}\n`);
      await app.stop();
      db.close();
      return 2;
    }
  }

  let stopping: Promise<number> | undefined;
  const shutdown = (code: number) =>
    (stopping ??= (async () => {
      for (const adapter of adapters) await adapter.stop().catch(() => undefined);
      await app.stop();
      db.close();
      return code;
    })());

  // The core first (tasks re-attached, watches reconciled), then the adapters (the console's banner means
  // ready), and only then deliveries: what finished while the bot was down comes after the banner.
  await app.start();
  for (const adapter of adapters) {
    try {
      await adapter.start();
    } catch (error) {
      io.stderr.write(`switchboard: the ${adapter.name} adapter did not start: ${app.scrub(error instanceof Error ? error.message : String(error))}\n`);
      for (const started of adapters) await started.stop().catch(() => undefined);
      await app.stop();
      db.close();
      return 2;
    }
  }
  for (const adapter of adapters) switchboard.register(adapter);

  const signalled = new Promise<number>((resolve) => {
    io.onSignal('SIGTERM', () => resolve(0));
    io.onSignal('SIGINT', () => resolve(0));
  });
  const consoleDone = console.finished!.then(async () => {
    // The console's own messages go out before it leaves; other adapters keep the process alive.
    await switchboard.idle('console');
    if (adapters.length > 1) return new Promise<number>(() => undefined);
    return 0;
  });
  const code = await Promise.race([signalled, consoleDone]);
  return shutdown(code);
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'user';
  }
}
