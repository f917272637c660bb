import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { userInfo } from 'node:os';
import type { App } from './app.js';
import { loadEnvironment } from './config/environment.js';
import { configFilePath, loadConfig } from './config/load.js';
import { SAMPLE_CONFIG } from './config/sample.js';
import { replyToPlainText, type Reply } from './core/reply.js';
import { parseCliArgs } from './cli-args.js';
import { SwitchboardError } from './errors.js';
import { HEARTBEAT_EVERY_MS, isStartupFailure, reportStartupFailure, runBot, type ProcessIo } from './main.js';
import { allMigrations } from './app.js';
import { judgeHealth } from './process-health.js';
import { openDatabase } from './sessions/database.js';
import { openProcessApp } from './process-app.js';

/** Exit codes a script can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
const USAGE_CODES = new Set(['usage', 'unknown_command', 'invalid_name', 'invalid_url', 'empty_prompt', 'prompt_too_long', 'config_invalid']);

/**
 * Joins argv back into one command line. The shell already split it: option values that hold spaces are
 * re-quoted, everything else (names, free text) is joined with single spaces.
 */
export function lineFromArgv(argv: readonly string[]): string {
  return argv
    .map((arg, i) => {
      const previous = argv[i - 1];
      const isOptionValue = previous !== undefined && previous.startsWith('--') && previous !== '--' && !previous.includes('=');
      return isOptionValue && /[\s"'\\]/.test(arg) ? `"${arg.replace(/(["\\])/g, '\\$1')}"` : arg;
    })
    .join(' ');
}

function exitCodeOf(reply: Reply): number {
  if (reply.tone !== 'error') return EXIT.ok;
  const code = (reply.data as { error?: { code?: string } } | undefined)?.error?.code;
  return code && USAGE_CODES.has(code) ? EXIT.usage : EXIT.failed;
}

/** `switchboard <command…> [--json|--jsonl]`: one command against the same database, then exit. */
async function withApp<T>(io: ProcessIo, work: (app: App, scrub: (text: string) => string) => Promise<T>): Promise<T> {
  const env = loadEnvironment(io.cwd, io.env);
  const config = loadConfig(io.cwd, env);
  const { app, db } = openProcessApp(io.stderr, env, config, { logLevel: env.LOG_LEVEL ?? 'warn' });
  try {
    return await work(app, app.scrub);
  } finally {
    await app.stop();
    db.close();
  }
}

async function runOnce(io: ProcessIo, words: string[], output: 'text' | 'json' | 'jsonl'): Promise<number> {
  const json = output === 'json';
  const jsonl = output === 'jsonl';
  return withApp(io, async (app, scrub) => {
    const user = io.env.USER ?? userInfo().username;
    const result = await app.switchboard.execute(
      { text: lineFromArgv(words), actor: { id: `console:${user}`, name: user }, origin: { adapter: 'console', channel: 'terminal' } },
      { post: false },
    );
    if (json || jsonl) {
      const data = result.data ?? { text: replyToPlainText(result) };
      if (jsonl && Array.isArray(data)) for (const item of data) io.stdout.write(`${scrub(JSON.stringify(item))}\n`);
      else io.stdout.write(`${scrub(JSON.stringify(data))}\n`);
    } else {
      (result.tone === 'error' ? io.stderr : io.stdout).write(`${scrub(replyToPlainText(result))}\n`);
    }
    return exitCodeOf(result);
  });
}

function stopSignal(io: ProcessIo): Promise<void> {
  return new Promise((resolve) => {
    io.onSignal('SIGINT', resolve);
    io.onSignal('SIGTERM', resolve);
  });
}

const pause = (ms: number, stop: Promise<void>) => Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms).unref()), stop]);

/** `switchboard logs <name> --follow`: prints new log lines as the task writes them, until it ends. */
async function followLogs(io: ProcessIo, name: string, lines: number): Promise<number> {
  return withApp(io, async (app, scrub) => {
    const { fleet } = app.switchboard.services;
    if (!fleet.get(name)) {
      io.stderr.write(`switchboard: no task named ${name}\n`);
      return EXIT.failed;
    }
    const stop = stopSignal(io);
    let stopped = false;
    void stop.then(() => (stopped = true));
    let shown: string[] = [];
    for (;;) {
      const current = (await fleet.logs(name, Math.max(lines, 2_000))).split('\n');
      // Print what is new: the longest suffix of what was shown that starts the current tail, and after it.
      let overlap = Math.min(shown.length, current.length);
      while (overlap > 0 && shown.slice(shown.length - overlap).join('\n') !== current.slice(0, overlap).join('\n')) overlap--;
      const fresh = shown.length === 0 ? current.slice(-lines) : current.slice(overlap);
      if (fresh.length && fresh.join('') !== '') io.stdout.write(`${scrub(fresh.join('\n'))}\n`);
      shown = current;
      const task = fleet.get(name);
      if (stopped || !task || ['succeeded', 'failed', 'killed', 'abandoned'].includes(task.status)) return EXIT.ok;
      await pause(2_000, stop);
    }
  });
}

/** `switchboard dashboard [--watch N]`: the fleet table (names, executors, status, todo, age), redrawn. */
async function dashboard(io: ProcessIo, everySeconds: number | undefined): Promise<number> {
  return withApp(io, async (app, scrub) => {
    const stop = stopSignal(io);
    let stopped = false;
    void stop.then(() => (stopped = true));
    const actor = { id: `console:${io.env.USER ?? 'user'}` };
    const origin = { adapter: 'console', channel: 'terminal' };
    for (;;) {
      const names = await app.switchboard.execute({ text: 'sessions', actor, origin }, { post: false });
      const queue = await app.switchboard.execute({ text: 'tasks --status active', actor, origin }, { post: false });
      const frame = [`Switchboard · ${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z`, '', replyToPlainText(names), '', 'Active tasks:', replyToPlainText(queue)].join('\n');
      io.stdout.write(`${everySeconds ? '\x1b[2J\x1b[H' : ''}${scrub(frame)}\n`);
      if (!everySeconds || stopped) return EXIT.ok;
      await pause(everySeconds * 1_000, stop);
      if (stopped) return EXIT.ok;
    }
  });
}

/**
 * `switchboard health`: 0 when the running bot wrote its heartbeat lately and every chat adapter is connected;
 * 1 otherwise, with why. It opens the database as the bot does, so an unusable one fails here too (exit 2).
 */
function health(io: ProcessIo): number {
  const env = loadEnvironment(io.cwd, io.env);
  const config = loadConfig(io.cwd, env);
  const db = openDatabase(config.databasePath, allMigrations);
  try {
    const verdict = judgeHealth(db, Date.now(), 3 * HEARTBEAT_EVERY_MS + 5_000);
    (verdict.healthy ? io.stdout : io.stderr).write(`switchboard: ${verdict.line}\n`);
    return verdict.healthy ? EXIT.ok : EXIT.failed;
  } finally {
    db.close();
  }
}

function initConfig(io: ProcessIo, env: Readonly<Record<string, string | undefined>>): number {
  const file = configFilePath(io.cwd, env);
  if (existsSync(file)) {
    io.stderr.write(`switchboard: ${file} already exists; not overwriting it\n`);
    return EXIT.failed;
  }
  try {
    writeFileSync(file, SAMPLE_CONFIG, { mode: 0o644 });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'EACCES' || code === 'EPERM' ? `${dirname(file)} is not writable by this user` : code === 'ENOENT' ? `${dirname(file)} does not exist` : String((error as Error).message);
    throw new SwitchboardError('storage_unusable', `cannot write ${file}: ${why}`, {
      cause: error,
      hint: 'set SWITCHBOARD_CONFIG to a writable path (in the Docker image the default is the data volume, /app/data/switchboard.yaml)',
    });
  }
  io.stdout.write(`wrote ${file}\n`);
  return EXIT.ok;
}

export async function runCli(io: ProcessIo, argv: string[]): Promise<number> {
  // The bot reports its own startup failures; only one-shot commands are caught here.
  if (argv.length === 0) return runBot(io);
  try {
    const command = parseCliArgs(argv);
    switch (command.kind) {
      case 'bot':
        return await runBot(io);
      case 'config-init':
        return initConfig(io, loadEnvironment(io.cwd, io.env));
      case 'health':
        return health(io);
      case 'follow-logs':
        return await followLogs(io, command.name, command.lines);
      case 'dashboard':
        return await dashboard(io, command.everySeconds);
      case 'once':
        return await runOnce(io, command.words, command.output);
    }
  } catch (error) {
    if (isStartupFailure(error)) return reportStartupFailure(io.stderr, error);
    if (error instanceof SwitchboardError) {
      io.stderr.write(`switchboard: ${error.message}${error.hint ? `\n${error.hint}` : ''}\n`);
      return error.code === 'usage' ? EXIT.usage : EXIT.failed;
    }
    throw error;
  }
}

runCli(
  {
    cwd: process.cwd(),
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    onSignal: (signal, handler) => process.once(signal, handler),
  },
  process.argv.slice(2),
).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`switchboard: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT.failed);
  },
);
