import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Claude Code keeps a workspace's transcripts in `<config dir>/projects/<key>/<session id>.jsonl`, where the key
 * is the absolute cwd with every character that is not an ASCII letter or digit replaced by `-`
 * (`/srv/.dot dir/my_ws` → `-srv--dot-dir-my-ws`, verified with CLI 2.1.330).
 */
export function encodeProjectPath(absolutePath: string): string {
  return absolutePath.replace(/[^A-Za-z0-9]/g, '-');
}

/**
 * What never travels with a workspace: build outputs and dependency trees that the other side rebuilds. Each is
 * anchored to the workspace root (`/dist/` never drops `src/dist/`), and ends in `/` so only directories match.
 * `.git` is not here: it goes whole, or git on the other side breaks.
 */
export const DEFAULT_EXCLUDES: readonly string[] = [
  '/node_modules/',
  '/dist/',
  '/.venv/',
  '/venv/',
  '/.next/',
  '/.turbo/',
  '/.parcel-cache/',
  '/.pytest_cache/',
  '/.mypy_cache/',
  '/.tox/',
  // Bytecode caches are never source, at any depth.
  '__pycache__/',
];

/** `.env`, `.env.local`, `.envrc`…, at any depth: secrets stay home unless --include-env. */
export const ENV_EXCLUDE = '.env*';

/**
 * rsync's filter arguments (each an argv word, never a shell line). The user's own patterns come first, so they
 * can only add exclusions.
 */
export function excludeArgs(options: { includeEnv: boolean; extra?: readonly string[] }): string[] {
  const patterns = [...(options.extra ?? []), ...DEFAULT_EXCLUDES, ...(options.includeEnv ? [] : [ENV_EXCLUDE])];
  return patterns.map((pattern) => `--exclude=${pattern}`);
}

/** The absolute path of an executable found on PATH (or given with a slash), or null. */
export function findExecutable(name: string, pathVar: string | undefined): string | null {
  const candidates = name.includes('/') ? [name] : (pathVar ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
