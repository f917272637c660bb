import type { TaskFile } from '../protocol/task-files.js';
import type { TaskProbe } from '../protocol/probe.js';
import type { ReadRange, ReadResult } from '../transport/transport.js';

/**
 * How tasks run on one executor. The tmux runtime serves local and ssh executors (over their Transport); the
 * container runtime runs the same wrapper under docker/podman. The fleet only talks to this interface.
 */
export interface TaskRuntime {
  /** For messages: `ssh executor 'box' (root@10.0.0.5:22)`. */
  readonly where: string;
  /** Which tools are there (and where), without creating anything. */
  check(options: { claudePath: string | null; workspace?: string }): Promise<HostCheck>;
  /** Checks tools and workspace, then makes the task directory (mktemp -d, 0700). Throws missing_tool / workspace_missing. */
  prepare(options: { claudePath: string | null; workspace?: string; tasksDir?: string }): Promise<PreparedTask>;
  writeFiles(dir: string, files: readonly TaskFile[]): Promise<void>;
  /** Starts (or restarts) the wrapper for this attempt; returns once it runs. */
  launch(ref: TaskRef, attempt: number, graceMs: number): Promise<void>;
  /** One exec for all the given tasks. */
  probe(refs: readonly TaskRef[]): Promise<TaskProbe[]>;
  readFile(ref: TaskRef, name: string, range?: ReadRange): Promise<ReadResult | null>;
  /** Signals the task's main process (claude or bash -c); false when it is already gone. */
  signal(ref: TaskRef, signal: 'TERM' | 'KILL'): Promise<boolean>;
  /** Stops everything of the task: TERM, grace, KILL, then its tmux session or container. */
  stop(ref: TaskRef, graceMs: number): Promise<StopReport>;
  /** After a task finished: its tmux session or container goes; the directory (logs) stays. */
  release(ref: TaskRef): Promise<void>;
  removeDir(ref: TaskRef): Promise<void>;
  close(): Promise<void>;
}

export interface TaskRef {
  taskId: string;
  /** The task directory on the executor host. */
  dir: string;
  /** The tmux session or container name. */
  session: string;
  /** Where the task runs (absolute path on the host / in the container; '' = the container's default). */
  workspace: string;
}

export interface HostCheck {
  home: string;
  path: string;
  /** Absolute path, null when not found; undefined when this runtime does not use it. */
  tmux?: string | null;
  claude?: string | null;
  /** The container runtime binary (container executors). */
  runtime?: string | null;
  /** Absolute workspace, or null when it does not exist. */
  workspace: string | null;
}

export interface PreparedTask {
  dir: string;
  workspace: string;
  /** Absolute claude path on the host (tmux runtimes); the configured one for containers. */
  claudePath: string | null;
}

export interface StopReport {
  stopped: number;
  forced: number;
  /** Processes still alive after TERM and KILL (reported, never hidden). */
  survivors: number;
  /** The attempt number in `done` and the exit code the wrapper recorded, if it got to. */
  done: number | null;
  exitCode: number | null;
}
