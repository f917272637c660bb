import { userInfo } from 'node:os';
import { createConsoleAdapter } from '../adapters/console/index.js';
import { platformAdapters } from '../adapters/index.js';
import { loadConfig } from './config/load.js';
import { loadEnvironment } from './config/environment.js';
import type { Adapter } from './core/adapter.js';
import { SwitchboardError } from './errors.js';
import { openProcessApp } from './process-app.js';
import { startHeartbeat } from './process-health.js';
import { systemClock } from './core/clock.js';

/** How often the running bot proves it is alive; `switchboard health` allows three missed beats. */
export const HEARTBEAT_EVERY_MS = 20_000;

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
  let opened;
  try {
    config = loadConfig(io.cwd, env);
    const timeoutSeconds = Number(env.SWITCHBOARD_HTTP_TIMEOUT ?? '15');
    opened = openProcessApp(io.stderr, env, config, {
      logLevel: env.LOG_LEVEL,
      cwd: io.cwd,
      requestTimeoutMs: Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds * 1000 : 15_000,
    });
  } catch (error) {
    if (isStartupFailure(error)) return reportStartupFailure(io.stderr, error);
    throw error;
  }
  const { app, db, logger } = opened;
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
  let stopHeartbeat = () => undefined as void;
  const shutdown = (code: number) =>
    (stopping ??= (async () => {
      stopHeartbeat();
      for (const adapter of adapters) await adapter.stop().catch(() => undefined);
      await app.stop();
      db.close();
      return code;
    })());

  // The core first (tasks re-attached, watches reconciled), then the platform adapters, the console last (its
  // banner means every door is open), and only then deliveries: what finished meanwhile comes after the banner.
  await app.start();
  for (const adapter of [...adapters.filter((a) => a !== console), console]) {
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
  stopHeartbeat = startHeartbeat({
    db,
    clock: systemClock,
    pid: process.pid,
    everyMs: HEARTBEAT_EVERY_MS,
    // The console is not a connection; only platform adapters can be down.
    adapters: () => adapters.filter((adapter) => adapter !== console).map((adapter) => ({ name: adapter.name, connected: adapter.connected?.() ?? true })),
    onError: (error) => logger.error('cannot write the heartbeat', { error: error instanceof Error ? error.message : String(error) }),
  });

  const signalled = new Promise<number>((resolve) => {
    io.onSignal('SIGTERM', () => resolve(0));
    io.onSignal('SIGINT', () => resolve(0));
  });
  const consoleDone = console.finished!.then(async () => {
    // The console's own messages go out before it leaves; other adapters keep the process alive.
    await switchboard.idle('console');
    if (adapters.length > 1) return new Promise<number>(() => undefined);
    if (readNothing(io.stdin)) {
      // `docker run` without -i and without tokens: exiting 0 here makes `--restart` loop with no clue why.
      io.stderr.write(
        'switchboard: no chat adapter is configured and stdin is empty: set SLACK_BOT_TOKEN (and SLACK_APP_TOKEN or SLACK_SIGNING_SECRET) or DISCORD_TOKEN, or give the console a terminal (docker run -it …)\n',
      );
      return 2;
    }
    return 0;
  });
  const code = await Promise.race([signalled, consoleDone]);
  return shutdown(code);
}

/** Start-up failures that are the operator's to fix: one line, exit status 2, never a stack trace. */
export function isStartupFailure(error: unknown): error is SwitchboardError {
  return error instanceof SwitchboardError && (error.code === 'config_invalid' || error.code === 'storage_unusable');
}

export function reportStartupFailure(stderr: NodeJS.WritableStream, error: SwitchboardError): number {
  const what = error.code === 'config_invalid' ? 'configuration error: ' : '';
  stderr.write(`switchboard: ${what}${error.message}${error.hint ? ` — ${error.hint}` : ''}\n`);
  return 2;
}

/** A stdin that ended before a single byte: /dev/null or a closed pipe, not a person or a script. */
function readNothing(stdin: ProcessIo['stdin']): boolean {
  const { bytesRead } = stdin as { bytesRead?: unknown };
  return !stdin.isTTY && bytesRead === 0;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'user';
  }
}
