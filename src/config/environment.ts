import { parse } from 'dotenv';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The process environment over the values of `.env` (real variables win, as with dotenv). The result is a
 * plain object passed to whoever needs it; `process.env` is never written. An empty variable means unset,
 * everywhere: `.env.example` lists every setting with an empty value, and `docker run --env-file` passes
 * those through as empty strings, which must not turn into a path `''` or a password `''`.
 */
export function loadEnvironment(cwd: string, processEnv: Environment): Environment {
  const file = join(cwd, '.env');
  const fromFile = existsSync(file) ? parse(readFileSync(file)) : {};
  return { ...withoutEmpty(fromFile), ...withoutEmpty(processEnv) };
}

function withoutEmpty(env: Environment): Environment {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
}
