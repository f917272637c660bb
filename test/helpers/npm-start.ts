import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { runBot } from '../../src/main.js';

export interface NpmStartedBot {
  /** Everything the bot wrote to stderr so far (its log). */
  stderr(): string;
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
  stdout.resume();
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
    async stopWithSigterm() {
      stdin.end();
      expect(terminate).toBeDefined();
      terminate!();
      return exit;
    },
  };
}
