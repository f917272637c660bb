import type { AttemptSummary, Usage } from './claude-events.js';
import { addUsage, zeroUsage } from './claude-events.js';
import type { CompletionRecord, TaskRow } from './task-store.js';

/**
 * The completion record of a run, from the task and the event summaries of the run's attempts. Pure.
 * Cost is summed over the attempts' `result` events (an attempt that crashed before its result has no cost
 * figure; its tokens still count in usage, summed from its assistant messages).
 */
export function completionRecord(input: {
  task: TaskRow;
  status: CompletionRecord['status'];
  exitCode: number | null;
  reason: string | null;
  terminalReason: string | null;
  /** Summaries of this run's attempts (claude tasks), oldest first. */
  attempts: readonly AttemptSummary[];
  finishedAt: number;
}): CompletionRecord {
  const { task, attempts } = input;
  const last = attempts[attempts.length - 1];
  const costs = attempts.map((a) => a.result?.totalCostUsd).filter((c): c is number => typeof c === 'number');
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
    total_cost_usd: costs.length > 0 ? round(costs.reduce((a, b) => a + b, 0)) : null,
    usage,
    started_at: task.startedAt === null ? null : new Date(task.startedAt).toISOString(),
    finished_at: new Date(input.finishedAt).toISOString(),
  };
}

/** An attempt's tokens: the result's usage when it has one, else the sum of its messages. */
export function attemptUsage(attempt: AttemptSummary): Usage {
  return attempt.result?.usage ?? attempt.usage;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
