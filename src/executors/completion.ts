import type { AttemptSummary, Usage } from './claude-events.js';
import { addUsage, zeroUsage } from './claude-events.js';
import type { CompletionRecord, TaskRow } from './task-store.js';

/**
 * The completion record of a run, from the task and the event summaries of the run's attempts. Pure.
 *
 * Cost: claude's `total_cost_usd` is the session's running total (a `--resume` restores it: measured 0.0008,
 * 0.0016, 0.0024 over three runs of one session), so a run costs the last total it reported minus the total
 * the session had when the run began (`costBase`). Usage is per invocation, so it is summed over the attempts
 * (an attempt that crashed before its `result` still counts, from its assistant messages).
 */
export function completionRecord(input: {
  task: TaskRow;
  status: CompletionRecord['status'];
  exitCode: number | null;
  reason: string | null;
  terminalReason: string | null;
  /** Summaries of this run's attempts (claude tasks), oldest first. */
  attempts: readonly AttemptSummary[];
  /** The session's running cost when this run began. */
  costBase: number;
  finishedAt: number;
}): CompletionRecord {
  const { task, attempts } = input;
  const last = attempts[attempts.length - 1];
  const total = sessionCost(attempts);
  const usage = attempts.length === 0 ? null : attempts.map(attemptUsage).reduce(addUsage, zeroUsage());
  return {
    task_id: task.id,
    name: task.name,
    executor: task.executor,
    type: task.kind,
    status: input.status,
    exit_code: input.exitCode,
    attempts: task.attempt - task.runFirstAttempt + 1,
    attempt: task.attempt,
    session_id: task.sessionId,
    result: last?.result?.result ?? null,
    terminal_reason: input.terminalReason ?? last?.result?.terminalReason ?? null,
    reason: input.reason,
    total_cost_usd: total === null ? null : round(Math.max(0, total - input.costBase)),
    usage,
    started_at: task.startedAt === null ? null : new Date(task.startedAt).toISOString(),
    finished_at: new Date(input.finishedAt).toISOString(),
  };
}

/** The session's running cost as last reported by these attempts (null: none reported one). */
export function sessionCost(attempts: readonly AttemptSummary[]): number | null {
  const reported = attempts.map((a) => a.result?.totalCostUsd).filter((c): c is number => typeof c === 'number');
  return reported.length > 0 ? reported[reported.length - 1]! : null;
}

/** An attempt's tokens: the result's usage when it has one, else the sum of its messages. */
export function attemptUsage(attempt: AttemptSummary): Usage {
  return attempt.result?.usage ?? attempt.usage;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
