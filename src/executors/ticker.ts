import { createHash } from 'node:crypto';
import type { SwitchboardError } from '../errors.js';
import { toSwitchboardError } from '../errors.js';
import type { TaskEvent } from './api.js';
import { classify, type Verdict } from './classify.js';
import { addUsage, createClaudeEventsParser, zeroUsage, type ClaudeEventsParser } from './claude-events.js';
import type { ExecutorHandle } from './executor.js';
import { backoffMs, refOf, type FleetContext } from './fleet-context.js';
import type { TaskProbe } from './protocol/probe.js';
import { FILE } from './protocol/task-files.js';
import { attemptCost, type Runs } from './runs.js';
import { ACTIVE_STATUSES, toTaskRecord, type TaskRow } from './task-store.js';
import { postWebhook, webhookRetryDelayMs, type FetchLike } from './webhook.js';

/**
 * One tick's work on one executor: one probe for all its live tasks, a verdict for each (classify.ts), and
 * the action it calls for (progress, attention, SIGTERM on a hang, a resume after a crash, the end of a run),
 * then resumes that are due and queued tasks that now fit. Plus webhook deliveries that are due.
 */
export interface Ticker {
  tickExecutor(h: ExecutorHandle, events: TaskEvent[]): Promise<void>;
  deliverWebhooks(): Promise<void>;
}

export function createTicker(ctx: FleetContext, runs: Runs, webhook: { fetch: FetchLike; secret?: string | undefined }): Ticker {
  const { store, clock, logger, defaults, policy, graceMs, parsers, emit } = ctx;

  function setReachable(h: ExecutorHandle, reachable: boolean, error: SwitchboardError | null, events: TaskEvent[]): void {
    const before = h.reachable;
    h.reachable = reachable;
    h.lastError = error;
    if (!reachable && before !== false) {
      logger.warn('executor unreachable', { executor: h.name, error: error?.message });
      emit(events, { kind: 'unreachable', executor: h.name, error: error?.message ?? 'unreachable' });
    } else if (reachable && before === false) {
      logger.info('executor reachable again', { executor: h.name });
      emit(events, { kind: 'back', executor: h.name });
    }
  }

  async function tickExecutor(h: ExecutorHandle, events: TaskEvent[]): Promise<void> {
    const live = store.list({ executor: h.name, status: ACTIVE_STATUSES });
    // Tasks waiting out a resume backoff have nothing to probe yet.
    const waiting = live.filter((t) => t.status === 'retrying' && t.pending === null);
    const probed = live.filter((t) => !(t.status === 'retrying' && t.pending === null) && t.remoteDir !== null);
    if (probed.length > 0) {
      let probes: TaskProbe[];
      try {
        probes = await h.runtime.probe(probed.map(refOf));
        setReachable(h, true, null, events);
      } catch (error) {
        // Unreachable is not failed: the tasks keep their status until the host answers again.
        setReachable(h, false, toSwitchboardError(error), events);
        return;
      }
      for (const [i, task] of probed.entries()) {
        try {
          await handleProbe(h, task, probes[i]!, events);
        } catch (error) {
          logger.error('task check failed', { task: task.name, error: toSwitchboardError(error).message });
        }
      }
    }
    for (const task of waiting) {
      if (task.deadlineAt !== null && clock.now() >= task.deadlineAt) {
        runs.finalize(h, task, { kind: 'abandoned', reason: 'it ran past its deadline (while waiting to resume)' }, events);
        continue;
      }
      if ((task.resumeAt ?? 0) > clock.now()) continue;
      try {
        await runs.resume(h, task, events);
      } catch (error) {
        const e = toSwitchboardError(error);
        logger.warn('resume failed; will try again', { task: task.name, error: e.message });
        store.update(task.id, { resumeAt: clock.now() + backoffMs(defaults, task.retries), reason: `resume failed: ${e.message}` });
      }
    }
    try {
      await runs.launchQueued(h, events);
    } catch (error) {
      logger.error('starting a queued task failed', { executor: h.name, error: toSwitchboardError(error).message });
    }
  }

  async function readEvents(h: ExecutorHandle, task: TaskRow, probe: TaskProbe): Promise<ClaudeEventsParser> {
    let state = parsers.get(task.id);
    const size = probe.events?.size ?? 0;
    if (!state || size < state.offset) {
      state = { parser: createClaudeEventsParser(), offset: 0 };
      parsers.set(task.id, state);
    }
    while (size > state.offset) {
      const read = await h.runtime.readFile(refOf(task), FILE.events, { fromOffset: state.offset });
      if (!read || read.data.length === 0) break;
      state.parser.feed(read.data);
      state.offset = read.offset + read.data.length;
    }
    return state.parser;
  }

  async function handleProbe(h: ExecutorHandle, task: TaskRow, probe: TaskProbe, events: TaskEvent[]): Promise<void> {
    const parser = task.kind === 'claude' ? await readEvents(h, task, probe) : null;
    const summary = parser ? parser.attempt(task.attempt) : null;
    const verdict = classify({
      task: { kind: task.kind, attempt: task.attempt, attemptStartedAt: task.attemptStartedAt ?? task.startedAt ?? 0, deadlineAt: task.deadlineAt, pending: task.pending },
      probe,
      events: summary,
      now: clock.now(),
      policy,
    });
    if (parser) reportProgress(task, parser, events);
    else if (task.kind === 'shell') reportShellProgress(task, probe, events);

    switch (verdict.kind) {
      case 'starting':
        return;
      case 'running':
        if (task.status === 'needs_attention') store.update(task.id, { status: 'running', reason: null }, 'needs_attention');
        return;
      case 'stopping':
        if (verdict.overdue) {
          const report = await h.runtime.stop(refOf(task), graceMs);
          logger.warn('task did not stop after SIGTERM; killed its process tree', { task: task.name, ...report });
        }
        return;
      case 'needs_attention':
        if (task.status !== 'needs_attention' && store.update(task.id, { status: 'needs_attention', reason: verdict.reason }, task.status)) {
          emit(events, { kind: 'needs_attention', task: toTaskRecord(store.get(task.id)!), paneTail: verdict.paneTail });
        }
        return;
      case 'hung':
        return onHung(h, task, verdict.reason);
      case 'crashed':
        return onCrashed(h, task, verdict, events);
      case 'abandoned':
        if (probeAlive(probe)) {
          store.update(task.id, { status: 'stopping', pending: { action: 'abandon', since: clock.now(), reason: verdict.reason }, reason: verdict.reason });
          await h.runtime.stop(refOf(task), graceMs);
        }
        runs.finalize(h, store.get(task.id)!, verdict, events);
        return;
      default:
        runs.finalize(h, task, verdict, events);
    }
  }

  function reportProgress(task: TaskRow, parser: ClaudeEventsParser, events: TaskEvent[]): void {
    const state = parser.state();
    // The run's tokens so far: its attempts' message usage (an attempt's `result` replaces it once written).
    const usage = state.attempts
      .filter((a) => a.attempt >= task.runFirstAttempt)
      .reduce((sum, a) => addUsage(sum, a.result?.usage ?? a.usage), zeroUsage());
    const key = progressKeyOf({ todos: state.todos, text: state.lastAssistantText, tool: state.lastTool, usage });
    if (key === task.progressKey || (state.todos.length === 0 && state.lastAssistantText === null && state.lastTool === null)) return;
    store.update(task.id, { progressKey: key });
    emit(events, {
      kind: 'progress',
      task: toTaskRecord(store.get(task.id)!),
      todos: state.todos,
      lastText: state.lastAssistantText,
      lastTool: state.lastTool,
      usage,
    });
  }

  /** A shell task has no events: its newest output line is its progress. */
  function reportShellProgress(task: TaskRow, probe: TaskProbe, events: TaskEvent[]): void {
    const lastLine = probe.paneTail.split('\n').filter((l) => l.trim() !== '').pop() ?? null;
    const key = progressKeyOf({ lastLine });
    if (lastLine === null || key === task.progressKey) return;
    store.update(task.id, { progressKey: key });
    emit(events, { kind: 'progress', task: toTaskRecord(store.get(task.id)!), todos: [], lastText: null, lastLine });
  }

  async function onHung(h: ExecutorHandle, task: TaskRow, reason: string): Promise<void> {
    if (task.retries >= defaults.maxRetries) {
      const why = `hung (${reason}) and out of retries (${defaults.maxRetries})`;
      store.update(task.id, { status: 'stopping', pending: { action: 'abandon', since: clock.now(), reason: why }, reason: why });
      await h.runtime.stop(refOf(task), graceMs);
      return;
    }
    // claude cleans up its tool processes on SIGTERM; the next ticks see it gone and resume it.
    logger.warn('task hung; sending SIGTERM', { task: task.name, reason });
    store.update(task.id, { status: 'retrying', pending: { action: 'hang', since: clock.now(), reason: `hung: ${reason}` }, reason: `hung: ${reason}; stopping it to resume` });
    await h.runtime.signal(refOf(task), 'TERM');
  }

  function onCrashed(h: ExecutorHandle, task: TaskRow, verdict: Extract<Verdict, { kind: 'crashed' }>, events: TaskEvent[]): void {
    const summary = parsers.get(task.id)?.parser.attempt(task.attempt);
    if (task.retries >= defaults.maxRetries) {
      const reason = `gave up after ${task.retries} resume(s): ${verdict.reason}`;
      runs.finalize(h, task, { kind: 'abandoned', reason }, events, null, verdict.exitCode);
      return;
    }
    const delay = backoffMs(defaults, task.retries);
    const retry = task.retries + 1;
    const done = store.transaction(() => {
      const ok = store.update(
        task.id,
        {
          status: 'retrying',
          retries: retry,
          resumeAt: clock.now() + delay,
          resumeReason: verdict.cause,
          pending: null,
          sessionCostUsd: Math.max(summary?.result?.totalCostUsd ?? 0, task.sessionCostUsd ?? 0),
          reason: `${verdict.reason}; resuming in ${Math.round(delay / 1000)} s (retry ${retry} of ${defaults.maxRetries})`,
        },
        ACTIVE_STATUSES,
      );
      if (ok) {
        store.endAttempt(task.id, task.attempt, {
          finishedAt: clock.now(),
          exitCode: verdict.exitCode,
          outcome: verdict.cause,
          detail: verdict.reason,
          costUsd: attemptCost(task, summary),
          usage: summary ? (summary.result?.usage ?? summary.usage) : null,
        });
      }
      return ok;
    });
    if (done) logger.warn('task crashed; resume scheduled', { task: task.name, reason: verdict.reason, inMs: delay });
  }

  async function deliverWebhooks(): Promise<void> {
    const due = store.dueDeliveries(clock.now());
    await Promise.all(
      due.map(async (d) => {
        const outcome = await postWebhook(webhook.fetch, {
          url: d.url,
          body: d.body,
          deliveryId: `${d.taskId}:${d.attempt}`,
          secret: webhook.secret,
          timeoutMs: defaults.webhookTimeoutSec * 1000,
        });
        if (outcome.ok) {
          store.markDelivery(d.taskId, d.attempt, { delivered: true, at: clock.now() });
          return;
        }
        const tries = d.tries + 1;
        const giveUp = !outcome.retryable || tries >= defaults.webhookMaxAttempts;
        logger.warn('webhook delivery failed', { task: d.taskId, attempt: d.attempt, error: outcome.error, giveUp });
        store.markDelivery(d.taskId, d.attempt, { delivered: false, error: outcome.error, nextAt: giveUp ? null : clock.now() + webhookRetryDelayMs(tries) });
      }),
    );
  }

  return { tickExecutor, deliverWebhooks };
}

function probeAlive(probe: TaskProbe): boolean {
  return probe.child?.alive === true || probe.wrapper?.alive === true || (probe.pane !== null && !probe.pane.dead) || probe.container?.running === true;
}

/**
 * The last progress reported, as a digest: the key is only compared, and what it covers is an agent's output
 * (a token it printed included), which must not be written to the database.
 */
function progressKeyOf(state: unknown): string {
  return createHash('sha256').update(JSON.stringify(state)).digest('base64url');
}
