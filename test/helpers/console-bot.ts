import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

export interface ConsoleBotOptions {
  cwd: string;
  env?: Record<string, string>;
  /**
   * Its own process group, so `crash()` reaches the node process that runs the bot and not only the tsx wrapper
   * that started it (a SIGKILL to the wrapper leaves the bot running).
   */
  crashable?: boolean;
}

export interface ConsoleBot {
  /** Types a line, then waits until the output after it matches `expect`; returns that stretch of output. */
  exec(line: string, expect: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Waits for output (after everything already consumed) matching `expect`, and consumes through it. */
  waitFor(expect: RegExp | string, timeoutMs?: number): Promise<string>;
  write(line: string): void;
  /** All of stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Closes stdin and resolves with the exit code. */
  end(timeoutMs?: number): Promise<number | null>;
  signal(signal: NodeJS.Signals): Promise<number | null>;
  /** The process itself: pausing its stdout makes the bot's writes wait, as a slow reader would. */
  readonly child: ChildProcess;
  /** `kill -9` of the bot and its wrapper (needs `crashable`); resolves when the wrapper has exited. */
  crash(): Promise<number | null>;
}

/**
 * Starts the real bot process (`src/cli.ts` through tsx, as `npm start` runs it) with stdin and stdout as pipes: the console
 * adapter exactly as a user scripting it would drive it. Waits for the ready banner.
 */
export async function startConsoleBot(options: ConsoleBotOptions): Promise<ConsoleBot> {
  const child: ChildProcess = spawn(TSX, [resolve(ROOT, 'src/cli.ts')], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: options.cwd, USER: 'tester', LOG_LEVEL: 'warn', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.crashable ? { detached: true } : {}),
  });
  let out = '';
  let err = '';
  let cursor = 0;
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((wake) => wake());
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    notify();
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => {
    notify();
    resolveExit(code);
  }));

  function find(expect: RegExp | string): { end: number } | undefined {
    const rest = out.slice(cursor);
    if (typeof expect === 'string') {
      const at = rest.indexOf(expect);
      return at < 0 ? undefined : { end: cursor + at + expect.length };
    }
    const match = new RegExp(expect.source, expect.flags.replace('g', '')).exec(rest);
    return match ? { end: cursor + match.index + match[0].length } : undefined;
  }

  function waitFor(expect: RegExp | string, timeoutMs = 30_000): Promise<string> {
    return new Promise((resolveWait, reject) => {
      const check = () => {
        const found = find(expect);
        if (found) {
          // Consume through the end of the matched line.
          const lineEnd = out.indexOf('\n', found.end);
          const end = lineEnd < 0 ? out.length : lineEnd + 1;
          const text = out.slice(cursor, end);
          cursor = end;
          cleanup();
          resolveWait(text);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`bot exited (${child.exitCode ?? child.signalCode}) before ${String(expect)}\n--- stdout after cursor:\n${out.slice(cursor)}\n--- stderr:\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(expect)}\n--- stdout after cursor:\n${out.slice(cursor)}\n--- stderr:\n${err}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  const bot: ConsoleBot = {
    child,
    write(line) {
      child.stdin!.write(`${line}\n`);
    },
    exec(line, expect, timeoutMs) {
      bot.write(line);
      return waitFor(expect, timeoutMs);
    },
    waitFor,
    stdout: () => out,
    stderr: () => err,
    async end(timeoutMs = 20_000) {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async signal(signal) {
      child.kill(signal);
      return exited;
    },
    async crash() {
      if (!options.crashable) throw new Error('crash() needs a bot started with crashable: true');
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      return exited;
    },
  };
  await waitFor('Switchboard ready', 30_000);
  return bot;
}
