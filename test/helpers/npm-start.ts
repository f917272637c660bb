import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { runBot } from '../../src/main.js';

export interface NpmStartedBot {
  /** Everything the bot wrote to stderr so far (its log). */
  stderr(): string;
  /** Resolves when the bot's stdout first shows this (within the same turn as the write, before any I/O). */
  printed(pattern: RegExp): Promise<void>;
  /** Ends the console's input, then sends the SIGTERM the bot asked to hear; resolves with its exit status. */
  stopWithSigterm(): Promise<number>;
}

/** A fresh working directory for one file's `npm start` run, and its removal. */
export function npmStartDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The bot as `npm start` runs it (src/main.ts's runBot), in this process on pipes: the platform comes from `env`,
 * the database lives in `dir`, and the log is kept at warnings so a token would show in it only if leaked.
 */
export function npmStart(dir: string, env: Record<string, string>): NpmStartedBot {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let stderrText = '';
  stderr.on('data', (chunk: Buffer) => (stderrText += chunk.toString()));
  let stdoutText = '';
  const waiting: Array<{ pattern: RegExp; resolve: () => void }> = [];
  stdout.on('data', (chunk: Buffer) => {
    stdoutText += chunk.toString();
    for (const waiter of [...waiting]) {
      if (!waiter.pattern.test(stdoutText)) continue;
      waiting.splice(waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  let terminate: (() => void) | undefined;
  const exit = runBot({
    cwd: dir,
    env: { ...env, SWITCHBOARD_DB: join(dir, 'switchboard.db'), LOG_LEVEL: 'warn' },
    stdin,
    stdout,
    stderr,
    onSignal: (signal, handler) => {
      if (signal === 'SIGTERM') terminate = handler;
    },
  });
  return {
    stderr: () => stderrText,
    printed: (pattern) =>
      pattern.test(stdoutText) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ pattern, resolve })),
    async stopWithSigterm() {
      stdin.end();
      expect(terminate).toBeDefined();
      terminate!();
      return exit;
    },
  };
}
