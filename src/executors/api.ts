import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Db } from '../sessions/database.js';
import type { Todo, Usage } from './claude-events.js';
import type { ExecutorConfig, ExecutorDefaults, ModelAliases } from './config.js';
import type { TaskAttachment, TaskKind } from './protocol/task-files.js';
import type { AttemptRow, CompletionRecord, TaskRecord, TaskStatus } from './task-store.js';
import type { SshTarget } from './host/host-key.js';
import type { Host } from './host/host.js';
import type { Transport } from './transport/transport.js';
import type { FetchLike } from './webhook.js';

/**
 * The executor layer's contract with the core: what a Fleet needs, what it does, and the events it reports.
 * createFleet (fleet.ts) implements it.
 */
export interface FleetDeps {
  /** Opened with `taskMigrations` applied. */
  db: Db;
  clock: Clock;
  logger: Logger;
  executors: readonly ExecutorConfig[];
  defaults: ExecutorDefaults;
  models?: ModelAliases;
  /** The environment for work on this machine (PATH, HOME; SSH_AUTH_SOCK for agent auth). */
  runtimeEnv: Readonly<Record<string, string | undefined>>;
  /** For `~` in identityFile (default: runtimeEnv.HOME). */
  homeDir?: string;
  /** For webhooks (default: global fetch). */
  fetch?: FetchLike;
  /** WEBHOOK_SECRET: signs webhook bodies when set. */
  webhookSecret?: string;
  /** The core's scrubber: what a task printed is scrubbed before the task store writes it. */
  scrub?: (text: string) => string;
  /** Tests: make the transport for an ssh executor. */
  connectSsh?: (target: SshTarget) => Transport;
  readIdentity?: (path: string) => Buffer;
  /**
   * Called with every event, whichever call produced it: tick() (which also returns its own), and kill()
   * (the killed task's `finished`, and `started` for a queued task that got the freed slot).
   */
  onEvent?: (event: TaskEvent) => void;
  /** The cost limit of a claude run of this name on this executor (its budget), given to claude as --max-budget-usd. */
  maxBudgetUsd?: (name: string, executor: string) => number | undefined;
}

export interface StartSpec {
  name: string;
  /** An executor name, or a label (then the reachable executor with that label and the fewest tasks). */
  executor?: string;
  label?: string;
  kind: TaskKind;
  /** The prompt (claude) or the command (shell, run with bash -c). Delivered byte for byte, never on a command line. */
  text: string;
  workspace?: string;
  /** An alias from `models` or a full model name. */
  model?: string;
  maxTurns?: number;
  /**
   * Claude tasks: continue this existing conversation (its session file is already on the host, e.g. copied by
   * offload) with `--resume <id>` from the first run, instead of starting a new one with a fresh id.
   */
  resumeSessionId?: string;
  /** Extra variables for this task only, over the executor's `env`; they travel in the same 0600 env file. */
  env?: Readonly<Record<string, string>>;
  /** Claude tasks: files for the first run, written 0600 into `files/` of the task directory and named in the prompt. */
  files?: readonly TaskAttachment[];
  actor: string;
  channel: string;
}

export type TaskEvent =
  /** A queued task got a slot and started. */
  | { kind: 'started'; task: TaskRecord }
  /**
   * What the run shows changed: the todo list, the latest assistant text, the last tool call, the tokens used so
   * far in this run (claude), or the newest output line (shell).
   */
  | {
      kind: 'progress';
      task: TaskRecord;
      todos: Todo[];
      lastText: string | null;
      lastTool?: { name: string; input: Record<string, unknown> } | null;
      usage?: Usage | null;
      lastLine?: string | null;
    }
  | { kind: 'finished'; task: TaskRecord; record: CompletionRecord }
  /** The pane shows a prompt waiting for input; Switchboard never answers it. */
  | { kind: 'needs_attention'; task: TaskRecord; paneTail: string }
  /** A crashed or hung claude task was resumed (same session, --resume). */
  | { kind: 'resumed'; task: TaskRecord; reason: string; attempt: number }
  | { kind: 'unreachable'; executor: string; error: string }
  | { kind: 'back'; executor: string };

export interface ExecutorStatus {
  name: string;
  type: ExecutorConfig['type'];
  where: string;
  labels: string[];
  maxConcurrent: number;
  running: number;
  queued: number;
  reachable: boolean;
  /** Tools found on the host (absolute paths; null = missing). */
  tools: { tmux?: string | null; claude?: string | null; runtime?: string | null };
  /** Human sentences: what is wrong (unreachable, a missing tool). Empty when all is well. */
  problems: string[];
  error?: { code: string; message: string };
}

export interface Fleet {
  /** Every executor with reachability, tools and task counts (one check per executor, in parallel). */
  list(): Promise<ExecutorStatus[]>;
  check(executor: string): Promise<ExecutorStatus>;
  start(spec: StartSpec): Promise<TaskRecord>;
  /** A follow-up to a finished claude task: a new run in the same conversation (--resume). */
  send(name: string, text: string, files?: readonly TaskAttachment[]): Promise<TaskRecord>;
  /** Stops the whole process tree (TERM, grace, KILL) and the tmux session or container. */
  kill(name: string): Promise<TaskRecord>;
  /** The last `lines` lines of the human log, ANSI-stripped (claude: the rendered transcript). */
  logs(name: string, lines?: number): Promise<string>;
  tasks(filter?: { status?: TaskStatus | readonly TaskStatus[]; executor?: string }): TaskRecord[];
  get(name: string): TaskRecord | null;
  attempts(name: string): AttemptRow[];
  /** The completion record of the task's last finished run, with its webhook delivery state. */
  completion(name: string): { record: CompletionRecord; webhookState: string } | null;
  /** Keeps the log tail in the database, then removes the task directory on the host (finished tasks only). */
  cleanup(name: string): Promise<TaskRecord>;
  /** Cleans up (best effort) and drops the task, freeing its name (finished tasks only). */
  forget(name: string): Promise<void>;
  /** Probe every executor with live tasks once, act on what was found, start queued tasks, deliver webhooks. */
  tick(): Promise<TaskEvent[]>;
  /** At start-up: the tasks the store says are live; the next tick finds them (a live task is never failed). */
  reattach(): Promise<TaskRecord[]>;
  /**
   * The executor's config and its machine as the host layer opened it, sharing the fleet's connection (this
   * machine for a container executor): for work around tasks, such as git worktrees.
   */
  hostOf(executor: string): { config: ExecutorConfig; host: Host };
  /** Closes connections; tasks keep running on their hosts. */
  close(): Promise<void>;
}

