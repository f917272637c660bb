import { SwitchboardError, toSwitchboardError } from '../errors.js';
import type { TaskEvent } from './api.js';
import type { Verdict } from './classify.js';
import type { AttemptSummary } from './claude-events.js';
import { completionRecord, sessionCost } from './completion.js';
import type { ExecutorHandle } from './executor.js';
import { claudePathFor, prepareWhere, refOf, type FleetContext } from './fleet-context.js';
import { attachmentFiles, claudeArgv, promptWithAttachments, resumeFiles, runFiles, staticTaskFiles, type TaskAttachment } from './protocol/task-files.js';
import { ACTIVE_STATUSES, toTaskRecord, type AttemptReason, type TaskRow } from './task-store.js';

/**
 * Starting and ending runs and attempts: prepare a task directory, launch queued tasks while there is room,
 * resume a crashed or hung claude task, and end a run with its completion record (exactly once).
 */
export interface Runs {
  prepareTask(h: ExecutorHandle, task: TaskRow, text: string, options?: PrepareOptions): Promise<void>;
  discard(h: ExecutorHandle, task: TaskRow): Promise<void>;
  launchQueued(h: ExecutorHandle, events: TaskEvent[], own?: string): Promise<SwitchboardError | null>;
  resume(h: ExecutorHandle, task: TaskRow, events: TaskEvent[]): Promise<void>;
  finalize(
    h: ExecutorHandle,
    task: TaskRow,
    verdict: Extract<Verdict, { kind: 'succeeded' | 'failed' | 'killed' | 'abandoned' }>,
    events: TaskEvent[],
    note?: string | null,
    crashExitCode?: number | null,
  ): void;
}

export interface PrepareOptions {
  /** The first run continues the task's session (`--resume`) instead of creating it (`--session-id`). */
  resume?: boolean;
  /** Over the executor's env, for this task only. */
  env?: Readonly<Record<string, string>>;
  /** Files for the first run (claude): into `files/` of the task directory, named after the prompt. */
  files?: readonly TaskAttachment[];
}

/** What a resumed claude reads first; the wrapper appends the run's prompt after it. */
export function resumePreamble(reason: string): string {
  return (
    `[Switchboard] This session was interrupted (${reason}) and has been resumed. If you had already started on ` +
    'the request below, continue from where you left off instead of starting over. The request was:\n\n'
  );
}

export function createRuns(ctx: FleetContext): Runs {
  const { store, clock, logger, defaults, graceMs, parsers, emit } = ctx;

  /** A start that did not happen leaves nothing: no row (the name is free again), no directory. */
  async function discard(h: ExecutorHandle, task: TaskRow): Promise<void> {
    store.delete(task.id);
    if (task.remoteDir) await h.runtime.removeDir(refOf(task)).catch(() => undefined);
  }

  /** Makes the task directory and uploads everything the first attempt needs; the task stays queued. */
  async function prepareTask(h: ExecutorHandle, task: TaskRow, text: string, options: PrepareOptions = {}): Promise<void> {
    const claudePath = task.kind === 'claude' ? claudePathFor(h, defaults) : null;
    const prepared = await h.runtime.prepare({ claudePath, ...prepareWhere(h, task) });
    h.reachable = true;
    const files = staticTaskFiles({
      taskId: task.id,
      name: task.name,
      executor: h.name,
      kind: task.kind,
      workspace: prepared.workspace,
      env: { ...h.config.env, ...options.env },
      envStyle: h.config.type === 'container' ? 'docker' : 'shell',
      sessionId: task.sessionId,
    });
    const argv =
      task.kind === 'claude'
        ? claudeArgv({ claudePath: prepared.claudePath ?? claudePathFor(h, defaults), sessionId: task.sessionId!, resume: options.resume === true, model: task.model ?? undefined, maxTurns: task.maxTurns ?? undefined, maxBudgetUsd: ctx.maxBudgetUsd(task) })
        : undefined;
    try {
      const attached = options.files ?? [];
      await h.runtime.writeFiles(prepared.dir, [
        ...files,
        ...attachmentFiles(attached),
        ...runFiles({ kind: task.kind, text: promptWithAttachments(text, prepared.dir, attached), ...(argv ? { argv } : {}) }),
      ]);
    } catch (error) {
      await h.runtime.removeDir({ ...refOf(task), dir: prepared.dir }).catch(() => undefined);
      throw error;
    }
    // Only now is the queued task launchable (a directory is what launchQueued looks for): a tick running meanwhile
    // (the core ticks every second) would otherwise start it before wrapper.sh is there (execve ENOENT, seen).
    store.update(task.id, { remoteDir: prepared.dir, workspace: prepared.workspace, claudePath: prepared.claudePath });
  }

  /**
   * Starts queued tasks (whose directories are ready) while the executor has room. Call inside exclusive().
   * `own` is the task a start/send call is waiting for: its launch error is returned to that caller instead of
   * ending the task as failed, and it gets no `started` event (the caller answers for it).
   */
  async function launchQueued(h: ExecutorHandle, events: TaskEvent[], own?: string): Promise<SwitchboardError | null> {
    let ownFailure: SwitchboardError | null = null;
    for (;;) {
      if (store.countActive(h.name) >= h.config.maxConcurrent) return ownFailure;
      const next = store.queued(h.name).find((t) => t.remoteDir !== null);
      if (!next) return ownFailure;
      const attempt = next.attempt + 1;
      const reason: AttemptReason = next.resumeReason === 'followup' ? 'followup' : 'start';
      const now = clock.now();
      // Marked running before the launch, so a restart in between probes it instead of launching it twice.
      store.update(next.id, {
        status: 'running',
        reason: null,
        attempt,
        runFirstAttempt: attempt,
        retries: 0,
        queueSeq: null,
        startedAt: now,
        attemptStartedAt: now,
        finishedAt: null,
        deadlineAt: now + defaults.deadlineMin * 60_000,
        exitCode: null,
        terminalReason: null,
        result: null,
        totalCostUsd: null,
        runCostBase: next.sessionCostUsd ?? 0,
        usage: null,
        resumeAt: null,
        resumeReason: null,
        pending: null,
      });
      store.startAttempt(next.id, attempt, reason, now);
      try {
        await h.runtime.launch(refOf(next), attempt, graceMs);
        logger.info('task started', { task: next.name, executor: h.name, attempt });
        if (next.id !== own) emit(events, { kind: 'started', task: toTaskRecord(store.get(next.id)!) });
      } catch (error) {
        const e = toSwitchboardError(error);
        logger.error('task launch failed', { task: next.name, executor: h.name, error: e.message });
        if (next.id === own) {
          // The caller reports it; a failed follow-up leaves the task failed (its conversation is intact).
          ownFailure = e;
          store.update(next.id, { status: 'failed', reason: `could not start: ${e.message}`, finishedAt: clock.now(), pending: null });
          continue;
        }
        finalize(h, store.get(next.id)!, { kind: 'failed', exitCode: null, reason: `could not start: ${e.message}`, terminalReason: null }, events);
      }
    }
  }

  async function resume(h: ExecutorHandle, task: TaskRow, events: TaskEvent[]): Promise<void> {
    const attempt = task.attempt + 1;
    const cause = task.resumeReason ?? 'crash';
    const why = task.reason?.split('; resuming in')[0] ?? cause;
    const args = { claudePath: task.claudePath ?? claudePathFor(h, defaults), sessionId: task.sessionId!, model: task.model ?? undefined, maxTurns: task.maxTurns ?? undefined, maxBudgetUsd: ctx.maxBudgetUsd(task) };
    await h.runtime.writeFiles(task.remoteDir!, resumeFiles({ preamble: resumePreamble(why), argv: claudeArgv({ ...args, resume: true }), freshArgv: claudeArgv({ ...args, resume: false }) }));
    const now = clock.now();
    store.update(task.id, { status: 'running', attempt, attemptStartedAt: now, resumeAt: null, reason: null, pending: null });
    store.startAttempt(task.id, attempt, cause, now);
    await h.runtime.launch(refOf(task), attempt, graceMs);
    logger.info('task resumed', { task: task.name, attempt, reason: why });
    emit(events, { kind: 'resumed', task: toTaskRecord(store.get(task.id)!), reason: why, attempt });
  }

  /** Ends the run: final status, attempt row, completion record (once: the status update is conditional). */
  function finalize(
    h: ExecutorHandle,
    task: TaskRow,
    verdict: Extract<Verdict, { kind: 'succeeded' | 'failed' | 'killed' | 'abandoned' }>,
    events: TaskEvent[],
    note: string | null = null,
    crashExitCode: number | null = null,
  ): void {
    const now = clock.now();
    const status = verdict.kind;
    const exitCode = 'exitCode' in verdict ? verdict.exitCode : crashExitCode;
    const reason = [verdict.kind === 'failed' || verdict.kind === 'abandoned' ? verdict.reason : null, note].filter(Boolean).join('; ') || null;
    const terminalReason = verdict.kind === 'failed' ? verdict.terminalReason : null;
    const parser = parsers.get(task.id)?.parser;
    const runAttempts: AttemptSummary[] = [];
    if (parser && task.kind === 'claude') for (let n = task.runFirstAttempt; n <= task.attempt; n++) runAttempts.push(parser.attempt(n));
    const record = completionRecord({ task, status, exitCode, reason, terminalReason, attempts: runAttempts, costBase: task.runCostBase ?? 0, finishedAt: now });
    const cumulative = sessionCost(runAttempts);
    const last = runAttempts[runAttempts.length - 1];

    const finished = store.transaction(() => {
      const ok = store.update(
        task.id,
        {
          status,
          reason,
          exitCode,
          terminalReason: record.terminal_reason,
          result: record.result,
          totalCostUsd: record.total_cost_usd,
          // A running total never goes down; an error result may report 0.
          sessionCostUsd: Math.max(cumulative ?? 0, task.sessionCostUsd ?? 0),
          usage: record.usage,
          finishedAt: now,
          pending: null,
          resumeAt: null,
          queueSeq: null,
        },
        [...ACTIVE_STATUSES, 'queued'],
      );
      if (!ok) return false;
      if (task.attempt > 0) {
        store.endAttempt(task.id, task.attempt, {
          finishedAt: now,
          exitCode,
          outcome: status,
          detail: reason,
          costUsd: attemptCost(task, last ?? null),
          usage: last ? (last.result?.usage ?? last.usage) : null,
        });
        store.recordCompletion(task.id, task.attempt, record, defaults.webhookUrl ?? null, now);
      }
      return true;
    });
    if (!finished) return;
    logger.info('task finished', { task: task.name, status, exitCode, reason });
    emit(events, { kind: 'finished', task: toTaskRecord(store.get(task.id)!), record });
    parsers.delete(task.id);
    if (task.remoteDir !== null && task.attempt > 0) {
      h.runtime.release(refOf(task)).catch((error: unknown) => logger.debug('release failed', { task: task.name, error: String(error) }));
    }
  }

  return { prepareTask, discard, launchQueued, resume, finalize };
}

/** What one attempt cost: its reported running total minus the session's total before it. */
export function attemptCost(task: TaskRow, summary: AttemptSummary | null | undefined): number | null {
  const total = summary?.result?.totalCostUsd;
  if (typeof total !== 'number') return null;
  return Math.max(0, Math.round((total - (task.sessionCostUsd ?? task.runCostBase ?? 0)) * 1e6) / 1e6);
}
