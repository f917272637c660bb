import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
let built = false;

/**
 * The path of `source` compiled to plain JavaScript under dist/, the way the Docker image runs the bot, so
 * a figure carries neither tsx's start-up time nor its memory (about 35 MB). Compiles once per bench run,
 * and always: a dist/ left from an older checkout would time code that is no longer there.
 */
export function compiled(source: string): string {
  if (!built) {
    execFileSync(resolve(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--sourceMap', 'false'], { cwd: ROOT, stdio: 'inherit' });
    built = true;
  }
  return resolve(ROOT, 'dist', source.replace(/\.ts$/, '.js'));
}

/** The Node flags of the Docker image (its NODE_OPTIONS), so the memory figures are the shipped bot's. */
export const SHIPPED_NODE_FLAGS = ['--max-old-space-size=256'];
