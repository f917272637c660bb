import { z } from 'zod';
import { parseInterval } from '../monitor/interval.js';
import { NAME_PATTERN } from '../sessions/names.js';
import { executorDefaultsSchema, executorSchema, modelsSchema } from '../executors/index.js';
import { budgetSchema } from '../budgets/schema.js';
import { filesSchema } from '../files/limits.js';

const duration = z.string().refine(
  (value) => {
    try {
      return parseInterval(value).kind === 'every';
    } catch {
      return false;
    }
  },
  { message: 'must be a duration such as 30s, 10m or 1h' },
);

const interval = z.string().refine(
  (value) => {
    try {
      parseInterval(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be 30s, 5m, 1h or a cron expression' },
);

const actorList = z.array(
  z.string().regex(/^[a-z-]+:(\*|[^\s:]+)$/, 'must be an actor id such as slack:U123, discord:456, discord-role:789 or console:*'),
);

const roles = z.strictObject({
  admins: actorList.default([]),
  members: actorList.default([]),
  viewers: actorList.default([]),
});

export const serverSchema = z.strictObject({
  name: z.string().regex(NAME_PATTERN, 'must be a name like `lab` (a–z, 0–9, -)'),
  url: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }),
  username: z.string().min(1).optional(),
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable').optional(),
  /** The limits of each run of a session on this server, unless its name has its own (`budget <name>`). */
  budget: budgetSchema.optional(),
});

export const fileConfigSchema = z.strictObject({
  servers: z.array(serverSchema).default([]),
  monitor: z
    .strictObject({
      interval: interval.default('5m'),
      stallAfter: duration.default('10m'),
      unreachableAfter: z.number().int().min(1).max(100).default(3),
    })
    .default({ interval: '5m', stallAfter: '10m', unreachableAfter: 3 }),
  /** Schedules (`schedule <when> <command…>`): none may fire more often than `minInterval`. */
  schedules: z.strictObject({ minInterval: duration.default('1m') }).default({ minInterval: '1m' }),
  /** Live run cards: one message per run, edited in place; at most one edit per card this often. */
  cards: z.strictObject({ minEditInterval: duration.default('2s') }).default({ minEditInterval: '2s' }),
  access: roles
    .extend({
      names: z.record(z.string(), roles.partial()).default({}),
      executors: z.record(z.string(), roles.partial()).default({}),
      /** Server URLs that may resolve to link-local or metadata addresses (off by default). */
      allowMetadataAddresses: z.boolean().default(false),
      consoleIsAdmin: z.boolean().default(true),
    })
    .default({ admins: [], members: [], viewers: [], names: {}, executors: {}, allowMetadataAddresses: false, consoleIsAdmin: true }),
  limits: z
    .strictObject({
      promptMaxChars: z.number().int().min(1).max(1_000_000).default(100_000),
      commandsPerMinute: z.number().int().min(1).default(30),
    })
    .default({ promptMaxChars: 100_000, commandsPerMinute: 30 }),
  /** Files attached to a prompt (Slack, Discord): how many, how large, which types. */
  files: filesSchema,
  // The executor sections are described by the executor layer itself.
  executors: z.array(executorSchema).default([]),
  defaults: executorDefaultsSchema.default(executorDefaultsSchema.parse({})),
  models: modelsSchema.default({}),
});

export type FileConfig = z.infer<typeof fileConfigSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
