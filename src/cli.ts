import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { allMigrations, createApp, scrubberFor } from './app.js';
import { loadEnvironment } from './config/environment.js';
import { loadConfig } from './config/load.js';
import { SAMPLE_CONFIG } from './config/sample.js';
import { systemClock } from './core/clock.js';
import { replyToPlainText, type Reply } from './core/reply.js';
import { createStreamLogger } from './core/stderr-logger.js';
import { SwitchboardError } from './errors.js';
import { runBot, type ProcessIo } from './main.js';
import { openDatabase } from './sessions/database.js';

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
async function runOnce(io: ProcessIo, argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const jsonl = argv.includes('--jsonl');
  const words = argv.filter((arg) => arg !== '--json' && arg !== '--jsonl');
  const env = loadEnvironment(io.cwd, io.env);
  const config = loadConfig(io.cwd, env);
  const scrub = scrubberFor(config, env);
  const logger = createStreamLogger(io.stderr, scrub, env.LOG_LEVEL ?? 'warn');
  const db = openDatabase(config.databasePath, allMigrations);
  const app = createApp({ config, env, db, clock: systemClock, logger, scrub });
  try {
    const user = env.USER ?? userInfo().username;
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
  } finally {
    await app.stop();
    db.close();
  }
}

function initConfig(io: ProcessIo, env: Readonly<Record<string, string | undefined>>): number {
  const file = resolve(io.cwd, env.SWITCHBOARD_CONFIG ?? 'switchboard.yaml');
  if (existsSync(file)) {
    io.stderr.write(`switchboard: ${file} already exists; not overwriting it\n`);
    return EXIT.failed;
  }
  writeFileSync(file, SAMPLE_CONFIG, { mode: 0o644 });
  io.stdout.write(`wrote ${file}\n`);
  return EXIT.ok;
}

export async function runCli(io: ProcessIo, argv: string[]): Promise<number> {
  if (argv.length === 0) return runBot(io);
  try {
    if (argv[0] === 'config' && argv[1] === '--init') return initConfig(io, loadEnvironment(io.cwd, io.env));
    return await runOnce(io, argv);
  } catch (error) {
    if (error instanceof SwitchboardError) {
      io.stderr.write(`switchboard: ${error.message}\n`);
      return error.code === 'config_invalid' ? EXIT.usage : EXIT.failed;
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
