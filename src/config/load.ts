import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import type { SwitchboardError } from '../errors.js';
import type { Environment } from './environment.js';
import { fileConfigSchema, type FileConfig } from './schema.js';
import { configError, keyOf, parseConfigYaml } from './yaml.js';

export interface Config extends FileConfig {
  /** The YAML file read, or where it would have been. */
  file: string;
  fileExists: boolean;
  databasePath: string;
}

export function describeZodIssue(file: string, issue: z.core.$ZodIssue): SwitchboardError {
  if (issue.code === 'unrecognized_keys') {
    return configError(file, keyOf(issue.path), `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `\`${k}\``).join(', ')}`);
  }
  return configError(file, keyOf(issue.path), issue.message);
}

/** Where `switchboard.yaml` is: SWITCHBOARD_CONFIG, else `switchboard.yaml` in the working directory. */
export function configFilePath(cwd: string, env: Environment): string {
  return resolve(cwd, env.SWITCHBOARD_CONFIG ?? 'switchboard.yaml');
}

/**
 * Reads `switchboard.yaml` (path from SWITCHBOARD_CONFIG, default ./switchboard.yaml; optional) and validates
 * it. A problem becomes one `config_invalid` error naming the file, the key and what is wrong.
 */
export function loadConfig(cwd: string, env: Environment): Config {
  const file = configFilePath(cwd, env);
  const explicit = env.SWITCHBOARD_CONFIG !== undefined;
  const fileExists = existsSync(file);
  if (!fileExists && explicit) throw configError(file, '', 'file not found (named by SWITCHBOARD_CONFIG)');

  const raw = fileExists ? parseConfigYaml(file, readFileSync(file, 'utf8')) : {};
  const parsed = fileConfigSchema.safeParse(raw);
  if (!parsed.success) throw describeZodIssue(file, parsed.error.issues[0]!);
  const config = parsed.data;

  const seen = new Set<string>();
  config.servers.forEach((server, index) => {
    if (seen.has(server.name)) throw configError(file, `servers[${index}].name`, `the name \`${server.name}\` is used twice`);
    seen.add(server.name);
    if (server.passwordEnv && env[server.passwordEnv] === undefined) {
      throw configError(file, `servers[${index}].passwordEnv`, `names ${server.passwordEnv}, which is not set in the environment or .env`);
    }
  });

  const executorNames = new Set<string>();
  config.executors.forEach((executor, index) => {
    if (executorNames.has(executor.name)) throw configError(file, `executors[${index}].name`, `the name \`${executor.name}\` is used twice`);
    executorNames.add(executor.name);
    const inherited: Record<string, string> = {};
    for (const name of executor.envFrom ?? []) {
      const value = env[name];
      if (value === undefined) throw configError(file, `executors[${index}].envFrom`, `names ${name}, which is not set in the environment or .env`);
      inherited[name] = value;
    }
    executor.env = { ...inherited, ...executor.env };
  });

  const databasePath = env.SWITCHBOARD_DB ?? './data/switchboard.db';
  return {
    ...config,
    file,
    fileExists,
    databasePath: databasePath === ':memory:' || isAbsolute(databasePath) ? databasePath : resolve(cwd, databasePath),
  };
}
