import { parse } from 'dotenv';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The process environment over the values of `.env` (real variables win, as with dotenv). The result is a
 * plain object passed to whoever needs it; `process.env` is never written.
 */
export function loadEnvironment(cwd: string, processEnv: Environment): Environment {
  const file = join(cwd, '.env');
  const fromFile = existsSync(file) ? parse(readFileSync(file)) : {};
  return { ...fromFile, ...processEnv };
}
