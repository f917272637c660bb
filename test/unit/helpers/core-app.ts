import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allMigrations, createApp, type App } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Actor, Origin } from '../../../src/core/origin.js';
import { replyToPlainText, type Reply } from '../../../src/core/reply.js';
import { SwitchboardError } from '../../../src/errors.js';
import type { Transport } from '../../../src/executors/transport/transport.js';
import type { LookupHost } from '../../../src/opencode/address-guard.js';
import { openDatabase, type Db } from '../../../src/sessions/database.js';

/**
 * The real core (createApp) on a temp SQLite file, configured from a switchboard.yaml written to a temp dir and
 * read by the real loader. Nothing here reaches the network: OpenCode servers point at a closed port, SSH
 * executors get a transport that refuses at once, and host lookups are refused.
 */

export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** An SSH transport that fails every call the way an unreachable host does. */
export function unreachableTransport(where = 'nowhere'): Transport {
  const fail = async (): Promise<never> => {
    throw new SwitchboardError('executor_unreachable', `${where} cannot be reached (test transport)`);
  };
  return { where, exec: fail, writeFile: fail, readFile: fail, close: async () => undefined };
}

export const refusingLookup: LookupHost = async (host) => {
  throw new Error(`lookup of ${host} refused in tests`);
};

export interface CoreOptions {
  /** The whole switchboard.yaml. */
  yaml: string;
  env?: Record<string, string>;
  clock?: ManualClock;
  /** The resolver of every connection (default: every lookup refused). */
  lookupHost?: LookupHost;
  /** Open the core on this directory (its switchboard.yaml is rewritten, its database kept): a restart. */
  dir?: string;
}

export interface Core {
  app: App;
  db: Db;
  dir: string;
  clock: ManualClock;
  /** Runs one line as `actor` from `origin` (default: the actor's own platform, an allowed channel); posts nothing. */
  run(actor: Actor, line: string, origin?: Origin): Promise<Reply>;
  /** Stops the core and removes its directory; `{ keep: true }` keeps it for a restart on the same database. */
  close(options?: { keep?: boolean }): Promise<void>;
}

/** The error code of a reply, or undefined when it is not an error. */
export function errorCode(reply: Reply): string | undefined {
  if (reply.tone !== 'error') return undefined;
  return (reply.data as { error?: { code?: string } } | undefined)?.error?.code;
}

export const plain = replyToPlainText;

/** Where an actor types by default: its own platform, channel `CWORK` (allowed in these tests) or the terminal. */
export function defaultOrigin(actor: Actor): Origin {
  const platform = actor.id.split(':')[0]!;
  if (platform === 'console') return { adapter: 'console', channel: 'terminal' };
  return { adapter: platform === 'discord-role' ? 'discord' : platform, channel: 'CWORK' };
}

export function startCore(options: CoreOptions): Core {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sb-core-'));
  const env: Record<string, string> = { SLACK_ALLOWED_CHANNELS: 'CWORK', DISCORD_ALLOWED_CHANNELS: 'CWORK', ...options.env };
  writeFileSync(join(dir, 'switchboard.yaml'), options.yaml);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = loadConfig(dir, env);
  const db = openDatabase(join(dir, 'data', 'switchboard.db'), allMigrations);
  const clock = options.clock ?? manualClock();
  const lines: string[] = [];
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  };
  const app = createApp({
    config,
    env,
    db,
    clock,
    logger: { debug: () => undefined, info: record('info'), warn: record('warn'), error: record('error') },
    lookupHost: options.lookupHost ?? refusingLookup,
    requestTimeoutMs: 3_000,
    schedule: false,
    monitor: { streams: false },
    fleet: { connectSsh: (target) => unreachableTransport(`${target.user}@${target.host}:${target.port}`), homeDir: dir },
  });
  return {
    app,
    db,
    dir,
    clock,
    run: (actor, line, origin = defaultOrigin(actor)) => app.switchboard.execute({ text: line, actor, origin }, { post: false }),
    async close(closing = {}) {
      await app.stop();
      db.close();
      if (!closing.keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TaskRowSeed {
  name: string;
  executor: string;
  actor: string;
  status?: string;
  kind?: 'claude' | 'shell';
  logTail?: string;
}

/**
 * A task as the executor layer stores it, written straight into `executor_tasks` (no host is contacted), and
 * its name in the registry. The task has no directory on a host any more: logs come from the stored tail.
 */
export function seedTask(core: Core, seed: TaskRowSeed): void {
  const now = core.clock.now();
  const id = `task-${seed.name}`;
  core.db
    .prepare(
      `INSERT INTO executor_tasks (id, name, executor, kind, status, session, actor, channel, created_at, started_at, attempt, log_tail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
    )
    .run(
      id,
      seed.name,
      seed.executor,
      seed.kind ?? 'shell',
      seed.status ?? 'running',
      `sb-${id}`,
      seed.actor,
      JSON.stringify(defaultOrigin({ id: seed.actor })),
      now,
      now,
      seed.logTail ?? 'line one\nline two',
    );
  core.app.switchboard.services.registry.insert({
    name: seed.name,
    target: { kind: 'task', executor: seed.executor, taskId: id },
    owner: seed.actor,
    origin: defaultOrigin({ id: seed.actor }),
    currentTask: 'make test',
  });
}

/** An OpenCode name on `server` (a configured server name), owned by `owner`, optionally with a last prompt. */
export function seedSession(core: Core, name: string, server: { name: string; url: string }, owner: string, lastPromptBy?: string): void {
  const { registry } = core.app.switchboard.services;
  registry.insert({
    name,
    target: { kind: 'opencode', server: server.name, serverUrl: server.url, sessionId: `ses_${name}0000000000`, directory: '/srv/project' },
    agent: 'build',
    owner,
    origin: defaultOrigin({ id: owner }),
  });
  if (lastPromptBy !== undefined) {
    const promptId = registry.recordPrompt({ name, actor: lastPromptBy, text: `work on ${name}` });
    registry.update(name, { lastPromptId: promptId, currentTask: `work on ${name}` });
  }
}
