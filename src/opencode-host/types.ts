import type { Client } from 'ssh2';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { ExecutorConfig, SshTarget, Transport } from '../executors/index.js';
import type { ConnectionGuard } from '../opencode/connection-guard.js';
import type { ServerRef } from '../opencode/server-ref.js';
import type { Db } from '../sessions/database.js';

/** What the rest of Switchboard sees of managed OpenCode servers: their options, events, state and verbs. */
export interface OpencodeHostsDeps {
  /** Opened with `opencodeHostMigrations` applied. */
  db: Db;
  executors: readonly ExecutorConfig[];
  clock: Clock;
  logger: Logger;
  runtimeEnv: Readonly<Record<string, string | undefined>>;
  homeDir?: string;
  readIdentity?: (path: string) => Buffer;
  /** SWITCHBOARD_SECRET: seals server passwords in the database. Without it they live in memory only. */
  secret?: string | undefined;
  /** Tests: the transport for an ssh executor's scripts (it carries no tunnel: reaching the server fails). */
  connectSsh?: (target: SshTarget) => Transport;
  /** Tests: the ssh2 client of the host's connection. */
  createSshClient?: () => Client;
  /** Checks the host's address on every SSH (re)connect (default: system DNS, metadata refused). */
  connectionGuard?: ConnectionGuard;
  /** How long `opencode serve` may take to print its port (default 120 s; 5–15 s measured). */
  startTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL when stopping a server (default 5 s). */
  killGraceMs?: number;
  /** More restarts than this within restartWindowMs and Switchboard gives up (default 5 in 10 min). */
  maxRestarts?: number;
  restartWindowMs?: number;
  healthTimeoutMs?: number;
  onEvent?: (event: HostEvent) => void;
}

export type HostEvent =
  | { kind: 'started'; executor: string; url: string; remotePort: number; startMs: number; tunnelMs: number | null }
  | { kind: 'attached'; executor: string; url: string; remotePort: number }
  | { kind: 'restarted'; executor: string; reason: string; url: string }
  /** The bot restarted without the password (no or another SWITCHBOARD_SECRET): the server was restarted with a new one. */
  | { kind: 'password_reset'; executor: string; reason: string }
  | { kind: 'failed'; executor: string; error: string }
  | { kind: 'unreachable'; executor: string; error: string }
  | { kind: 'back'; executor: string };

/** A server Switchboard runs on an executor, as the rest of the core uses it. */
export interface ManagedServer {
  executor: string;
  /** `@<executor>`: what users type and what registered sessions store. */
  label: string;
  /** The local end of the tunnel (ssh), or the server itself (local executor); changes across bot restarts. */
  url: string;
  username: string;
  password: string;
  /** The executor user's home, for `--dir ~/repo`. */
  home: string;
  remotePort: number;
  startedAt: number;
  restarts: number;
}

export interface ManagedServerStatus {
  executor: string;
  label: string;
  where: string;
  state: 'running' | 'failed' | 'unreachable' | 'not attached';
  url: string | null;
  remotePort: number | null;
  startedAt: number | null;
  restarts: number;
  lastError: string | null;
  /** False without SWITCHBOARD_SECRET: a bot restart means a server restart. */
  passwordKept: boolean;
}

export interface OpencodeHosts {
  /** The executor's server: attached if Switchboard already runs one there, started otherwise. */
  ensure(executor: string): Promise<ManagedServer>;
  /** ensure(), as the ServerRef the core keeps (see current()). */
  ref(executor: string): Promise<ServerRef>;
  /**
   * The server Switchboard already owns there, attached if this process has not yet (a one-shot CLI command);
   * never starts one that was stopped or given up on: that is a user's decision (`new … @x`, `servers restart`).
   */
  attached(executor: string): Promise<ServerRef>;
  /** Whether this executor can host a server (an ssh or local executor). */
  canHost(executor: string): boolean;
  /**
   * The connection to `@executor` as the core keeps it: one object per server for the life of the process, whose
   * password (and, for a local executor, URL) is updated in place when the server is restarted. Null for a server
   * Switchboard does not own. It may point at a server that is down: calls then fail as unreachable.
   */
  current(executor: string): ServerRef | null;
  /** Whether the server is up and attached in this process (using it costs nothing). */
  running(executor: string): boolean;
  /** The executor user's home directory, once known (for `--dir ~/repo`). */
  home(executor: string): string | null;
  /** Every password in memory, for the scrubber. */
  secrets(): string[];
  list(): ManagedServerStatus[];
  restart(executor: string, reason?: string): Promise<ManagedServer>;
  /** Stops the server on the host, removes its directory and forgets it. */
  stop(executor: string): Promise<void>;
  /** At bot start: attach to (or restart) every server Switchboard owns. */
  reattach(): Promise<HostEvent[]>;
  /** Probe every owned server once; restart the ones that died. */
  tick(): Promise<HostEvent[]>;
  /** Runs tick() every intervalMs until close(). */
  supervise(intervalMs: number): void;
  /** Closes tunnels and connections; the servers keep running on their hosts. */
  close(): Promise<void>;
}

