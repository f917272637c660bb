import { z } from 'zod';
import { SwitchboardError } from '../errors.js';
import { budgetSchema } from '../budgets/schema.js';

/**
 * The `executors`, `defaults` and `models` sections of switchboard.yaml. The main config loader imports these
 * schemas; this module only describes and validates, it reads nothing.
 */

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What ssh-keygen -lf prints: SHA256 of the key blob, base64 without padding (43 characters). */
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
/** Model names end up in an argv file (never a shell line), but a sane charset keeps mistakes visible. */
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._:@/\[\]-]{0,99}$/;

const envSchema = z.record(z.string().regex(ENV_KEY, 'environment variable names are letters, digits and _'), z.string());

const common = {
  name: z.string().regex(NAME, 'executor names are lowercase letters, digits and -, at most 32 characters'),
  labels: z.array(z.string().min(1)).default([]),
  /** Passed to every task on this executor through a 0600 env file (never on a command line). */
  env: envSchema.default({}),
  /**
   * Variables of Switchboard's own environment given to every task here by name (a provider key), so their
   * values stay out of this file. The loader copies them into `env`; a value written in `env` wins.
   */
  envFrom: z.array(z.string().regex(ENV_KEY, 'environment variable names are letters, digits and _')).optional(),
  /** More tasks than this wait in a visible queue. */
  maxConcurrent: z.number().int().min(1).default(1),
  /** Where tasks run when `start` names no workspace (default: the executing user's home directory). */
  workspace: z.string().min(1).optional(),
  /**
   * Where task directories are made (mktemp -d inside it; created if missing). Default: $TMPDIR or /tmp on the
   * host, which a reboot may wipe; /var/tmp or a home directory keeps logs (and resumable tasks) across one.
   * For containers this is on this machine (the directory is mounted into the container at the same path).
   */
  tasksDir: z.string().min(1).optional(),
  /** The limits of each run of a task here (and of a server Switchboard runs here), unless its name has its own. */
  budget: budgetSchema.optional(),
};

/** tmux-backed executors use a dedicated tmux server (socket name), so Switchboard never touches the user's own. */
const tmuxOptions = {
  claudePath: z.string().min(1).optional(),
  tmuxPath: z.string().min(1).default('tmux'),
  tmuxSocket: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default('switchboard'),
  /** For OpenCode servers Switchboard starts here (`new <name> @<executor>`): a name on PATH or an absolute path. */
  opencodePath: z.string().min(1).optional(),
};

export const localExecutorSchema = z.object({ ...common, ...tmuxOptions, type: z.literal('local') }).strict();

export const sshExecutorSchema = z
  .object({
    ...common,
    ...tmuxOptions,
    type: z.literal('ssh'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().min(1),
    /** A private key file (`~` is expanded against the bot's home directory). */
    identityFile: z.string().min(1).optional(),
    /** `true` uses SSH_AUTH_SOCK from the bot's environment; a string is the agent socket path. */
    agent: z.union([z.boolean(), z.string().min(1)]).optional(),
    /** The pinned host key, as `ssh-keygen -lf` prints it. */
    hostKey: z.string().regex(FINGERPRINT, 'hostKey looks like SHA256:<43 base64 characters>').optional(),
    /** Accept a host whose key is not pinned (trust on first use). Off by default, and said so when refused. */
    insecureAcceptNewHostKey: z.boolean().default(false),
    connectTimeoutSec: z.number().positive().default(10),
  })
  .strict()
  .refine((e) => e.identityFile !== undefined || (e.agent !== undefined && e.agent !== false), {
    message: 'an ssh executor needs identityFile or agent',
    path: ['identityFile'],
  });

export const containerExecutorSchema = z
  .object({
    ...common,
    type: z.literal('container'),
    runtime: z.enum(['docker', 'podman']),
    /** Overrides the runtime binary (default: the runtime's name, looked up in PATH). */
    runtimePath: z.string().min(1).optional(),
    image: z.string().min(1),
    /** `host:container[:opts]`, passed as `-v` as written. */
    volumes: z.array(z.string().min(1)).default([]),
    /** An extra env file of the user's, passed as a second `--env-file`. */
    envFile: z.string().min(1).optional(),
    /** Path of claude inside the image. */
    claudePath: z.string().min(1).optional(),
    /**
     * `--user` for the container (a name or uid[:gid]); default: the image's USER. When it is not root, the task
     * directory is given to that user (chown, so Switchboard must run as root or as that same uid).
     */
    user: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/, 'user is a name or uid, optionally :group or :gid').optional(),
    /** `--network` as given (host, none, bridge, a network's name); default: the engine's. */
    network: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'network is a mode or a network name').optional(),
    /**
     * A program in the image to run first: it receives `bash <wrapper> <task dir>` as its arguments and must
     * exec them (an image's setup script). Default: the image's ENTRYPOINT is replaced with bash, so an
     * image built with one never receives our arguments.
     */
    entrypoint: z.string().min(1).optional(),
  })
  .strict();

export const executorSchema = z.discriminatedUnion('type', [localExecutorSchema, sshExecutorSchema, containerExecutorSchema]);

export const executorDefaultsSchema = z
  .object({
    maxTurns: z.number().int().min(1).default(100),
    claudePath: z.string().min(1).default('claude'),
    model: z.string().regex(MODEL).optional(),
    webhookUrl: z.url().optional(),
    /** Automatic resumes after a crash or hang, per run. */
    maxRetries: z.number().int().min(0).default(3),
    // The knobs below are not in the issue's list; they default to production values and tests shrink them.
    /** No new stream-json event for this long while no tool call is open ⇒ hung. */
    staleAfterSec: z.number().positive().default(600),
    /** …and while a tool call is open (long builds and test runs are normal). */
    toolStaleAfterSec: z.number().positive().default(1800),
    /** A run still going after this long is abandoned. */
    deadlineMin: z.number().positive().default(360),
    /** Between SIGTERM and SIGKILL. */
    killGraceSec: z.number().min(0).default(5),
    /** Resume backoff: base · 2^retry, capped. */
    retryBackoffSec: z.number().min(0).default(10),
    retryBackoffMaxSec: z.number().min(0).default(300),
    /** An input prompt must sit in the pane, with no output, this long before a task needs attention. */
    attentionAfterSec: z.number().min(0).default(20),
    webhookTimeoutSec: z.number().positive().default(10),
    webhookMaxAttempts: z.number().int().min(1).default(5),
  })
  .strict();

/** Aliases → pinned full model names, e.g. `{opus: claude-opus-4-6}`. */
export const modelsSchema = z.record(z.string().regex(/^[a-z0-9][a-z0-9.-]*$/), z.string().regex(MODEL));

/** The three sections together, with cross-checks (unique executor names). */
export const executorsSectionSchema = z
  .object({
    executors: z.array(executorSchema).default([]),
    defaults: executorDefaultsSchema.default(executorDefaultsSchema.parse({})),
    models: modelsSchema.default({}),
  })
  .superRefine((section, ctx) => {
    const seen = new Set<string>();
    section.executors.forEach((executor, index) => {
      if (seen.has(executor.name)) {
        ctx.addIssue({ code: 'custom', message: `executor name '${executor.name}' is used twice`, path: ['executors', index, 'name'] });
      }
      seen.add(executor.name);
    });
  });

export type LocalExecutorConfig = z.infer<typeof localExecutorSchema>;
export type SshExecutorConfig = z.infer<typeof sshExecutorSchema>;
export type ContainerExecutorConfig = z.infer<typeof containerExecutorSchema>;
export type ExecutorConfig = z.infer<typeof executorSchema>;
export type ExecutorDefaults = z.infer<typeof executorDefaultsSchema>;
export type ModelAliases = z.infer<typeof modelsSchema>;
export type ExecutorsSection = z.infer<typeof executorsSectionSchema>;

/** `~` and `~/x` against the given home directory (the caller passes os.homedir() in production). */
export function expandHome(path: string, homeDir: string): string {
  if (path === '~') return homeDir;
  if (path.startsWith('~/')) return `${homeDir}/${path.slice(2)}`;
  return path;
}

/** Names the claude CLI itself resolves to whatever model is newest: their meaning changes under our feet. */
const FLOATING_ALIAS = /^(opus|sonnet|haiku|opusplan|default)(\[1m\])?$/;

/**
 * An alias from `models`, or a full name as given. A floating alias with no pin in `models` is refused, so
 * `--model opus` never silently starts meaning another model.
 */
export function resolveModel(model: string | undefined, aliases: ModelAliases): string | undefined {
  if (model === undefined) return undefined;
  const pinned = aliases[model];
  if (pinned !== undefined) return pinned;
  if (FLOATING_ALIAS.test(model)) {
    throw new SwitchboardError('usage', `the model alias '${model}' is not pinned: the claude CLI would pick its newest model`, {
      hint: `Pin it in switchboard.yaml, e.g. \`models: { ${model}: <full model name> }\`, or give a full model name.`,
    });
  }
  return model;
}

export function isValidModelName(model: string): boolean {
  return MODEL.test(model);
}
