import { retryDelayMs } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { TaskEvent } from './api.js';
import type { ClassifyPolicy } from './classify.js';
import type { ClaudeEventsParser } from './claude-events.js';
import type { ExecutorDefaults } from './config.js';
import type { ExecutorHandle } from './executor.js';
import type { TaskRef } from './runtime/runtime.js';
import type { TaskRow, TaskStore } from './task-store.js';
import { resolveWorkspace } from './workspace.js';

/** What the fleet's parts share: the store, the time, the policy, and where events go. */
export interface FleetContext {
  store: TaskStore;
  clock: Clock;
  logger: Logger;
  defaults: ExecutorDefaults;
  policy: ClassifyPolicy;
  /** Between SIGTERM and SIGKILL. */
  graceMs: number;
  /** Per live claude task: its events parser and how far events.jsonl has been read. */
  parsers: Map<string, EventsCursor>;
  /** The cost limit of a claude run (the name's budget), read when its argv is written so a new limit holds from the next run. */
  maxBudgetUsd(task: { name: string; executor: string }): number | undefined;
  /** Adds the event to this call's list and hands it to the core's listener. */
  emit(events: TaskEvent[], event: TaskEvent): void;
}

export interface EventsCursor {
  parser: ClaudeEventsParser;
  offset: number;
}

/** After a launch, how long processes may take to show up before their absence means something. */
const START_GRACE_MS = 15_000;

export function policyFrom(defaults: ExecutorDefaults): ClassifyPolicy {
  return {
    staleMs: defaults.staleAfterSec * 1000,
    toolStaleMs: defaults.toolStaleAfterSec * 1000,
    attentionMs: defaults.attentionAfterSec * 1000,
    startGraceMs: START_GRACE_MS,
    killGraceMs: defaults.killGraceSec * 1000,
  };
}

export function refOf(task: TaskRow): TaskRef {
  return { taskId: task.id, dir: task.remoteDir ?? '', session: task.session, workspace: task.workspace ?? '' };
}

export function claudePathFor(h: ExecutorHandle, defaults: ExecutorDefaults): string {
  return h.config.claudePath ?? defaults.claudePath;
}

/** Where a task's directory goes and where it runs: the task's workspace (a relative one under the executor's), else the executor's. */
export function prepareWhere(h: ExecutorHandle, task: TaskRow): { workspace?: string; tasksDir?: string } {
  const workspace = resolveWorkspace(h.config, task.workspace ?? undefined);
  return { ...(workspace ? { workspace } : {}), ...(h.config.tasksDir ? { tasksDir: h.config.tasksDir } : {}) };
}

/** Before resume n+1: base · 2^n, capped. */
export function backoffMs(defaults: ExecutorDefaults, retries: number): number {
  return retryDelayMs(retries + 1, defaults.retryBackoffSec * 1000, defaults.retryBackoffMaxSec * 1000);
}
