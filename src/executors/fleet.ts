import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SwitchboardError, toSwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Db } from '../sessions/database.js';
import { classify, type ClassifyPolicy, type PendingAction, type Verdict } from './classify.js';
import { createClaudeEventsParser, renderTranscript, type AttemptSummary, type ClaudeEventsParser, type Todo } from './claude-events.js';
import { completionRecord, sessionCost } from './completion.js';
import { isValidModelName, resolveModel, type ExecutorConfig, type ExecutorDefaults, type ModelAliases } from './config.js';
import { createExecutorHandles, type ExecutorHandle } from './executor.js';
import { lastLines, stripAnsi } from './protocol/ansi.js';
import type { TaskProbe } from './protocol/probe.js';
import { claudeArgv, FILE, resumeFiles, runFiles, staticTaskFiles, type TaskKind } from './protocol/task-files.js';
import type { TaskRef } from './runtime/runtime.js';
import {
  ACTIVE_STATUSES,
  createTaskStore,
  isFinal,
  type AttemptReason,
  type AttemptRow,
  type CompletionRecord,
  type TaskRecord,
  type TaskRow,
  type TaskStatus,
  type TaskStore,
} from './task-store.js';
import type { SshTarget } from './transport/ssh.js';
import type { Transport } from './transport/transport.js';
import { postWebhook, webhookRetryDelayMs, type FetchLike } from './webhook.js';

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
  /** Tests: make the transport for an ssh executor. */
  connectSsh?: (target: SshTarget) => Transport;
  readIdentity?: (path: string) => Buffer;
  /** Called with each event as tick() produces it (tick also returns them). */
  onEvent?: (event: TaskEvent) => void;
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
  actor: string;
  channel: string;
}

export type TaskEvent =
  /** A queued task got a slot and started. */
  | { kind: 'started'; task: TaskRecord }
  /** The todo list or the latest assistant text changed. */
  | { kind: 'progress'; task: TaskRecord; todos: Todo[]; lastText: string | null }
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
  send(name: string, text: string): Promise<TaskRecord>;
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
  /** Closes connections; tasks keep running on their hosts. */
  close(): Promise<void>;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const EVENTS_TAIL_BYTES = 512 * 1024;
const OUTPUT_TAIL_BYTES = 256 * 1024;
const LOG_TAIL_KEEP_LINES = 200;
const START_GRACE_MS = 15_000;

/** What a resumed claude reads first; the wrapper appends the run's prompt after it. */
export function resumePreamble(reason: string): string {
  return (
    `[Switchboard] This session was interrupted (${reason}) and has been resumed. If you had already started on ` +
    'the request below, continue from where you left off instead of starting over. The request was:\n\n'
  );
}

export function createFleet(deps: FleetDeps): Fleet {
  const { clock, logger, defaults } = deps;
  const store: TaskStore = createTaskStore(deps.db);
  const models = deps.models ?? {};
  const fetchImpl: FetchLike = deps.fetch ?? ((url, init) => fetch(url, init));
  const handles = createExecutorHandles(deps.executors, {
    clock,
    logger,
    runtimeEnv: deps.runtimeEnv,
    homeDir: deps.homeDir ?? deps.runtimeEnv['HOME'] ?? '/',
    readIdentity: deps.readIdentity ?? ((path) => readFileSync(path)),
    ...(deps.connectSsh ? { connectSsh: deps.connectSsh } : {}),
  });
  const byName = new Map(handles.map((h) => [h.name, h]));
  const parsers = new Map<string, { parser: ClaudeEventsParser; offset: number }>();
  const graceMs = defaults.killGraceSec * 1000;
  const policy: ClassifyPolicy = {
    staleMs: defaults.staleAfterSec * 1000,
    toolStaleMs: defaults.toolStaleAfterSec * 1000,
    attentionMs: defaults.attentionAfterSec * 1000,
    startGraceMs: START_GRACE_MS,
    killGraceMs: graceMs,
  };
  let ticking: Promise<TaskEvent[]> | undefined;

  // ── lookups ────────────────────────────────────────────────────────────────────────────────────────────
  function handle(name: string): ExecutorHandle {
    const found = byName.get(name);
    if (found) return found;
    const known = handles.map((h) => h.name).join(', ') || 'none configured';
    throw new SwitchboardError('unknown_executor', `no executor named '${name}' (known: ${known})`, {
      hint: 'executors lists them; add one under executors: in switchboard.yaml.',
    });
  }

  function taskNamed(name: string): TaskRow {
    const task = store.byName(name);
    if (!task) throw new SwitchboardError('unknown_name', `no task named '${name}'`, { hint: 'tasks lists them.' });
    return task;
  }

  function refOf(task: TaskRow): TaskRef {
    return { taskId: task.id, dir: task.remoteDir ?? '', session: task.session, workspace: task.workspace ?? '' };
  }

  function claudePathFor(h: ExecutorHandle): string {
    return h.config.claudePath ?? defaults.claudePath;
  }

  function emit(events: TaskEvent[], event: TaskEvent): void {
    events.push(event);
    try {
      deps.onEvent?.(event);
    } catch (error) {
      logger.error('task event listener failed', { error: String(error) });
    }
  }

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

  // ── executors ──────────────────────────────────────────────────────────────────────────────────────────
  async function status(h: ExecutorHandle): Promise<ExecutorStatus> {
    const base = {
      name: h.name,
      type: h.config.type,
      where: h.where,
      labels: [...h.config.labels],
      maxConcurrent: h.config.maxConcurrent,
      running: store.countActive(h.name),
      queued: store.queued(h.name).length,
    };
    try {
      const claude = h.config.type === 'container' ? null : claudePathFor(h);
      const check = await h.runtime.check({ claudePath: claude });
      h.reachable = true;
      h.lastError = null;
      const problems: string[] = [];
      if (check.tmux === null) problems.push(`tmux not found on ${h.where} (PATH=${check.path})`);
      if (check.claude === null) problems.push(`claude not found on ${h.where}: looked for '${claude}' (PATH=${check.path})`);
      if (check.runtime === null) problems.push(`${h.config.type === 'container' ? h.config.runtime : 'runtime'} not found on this machine for ${h.where}`);
      const tools: ExecutorStatus['tools'] = {};
      if (check.tmux !== undefined) tools.tmux = check.tmux;
      if (check.claude !== undefined) tools.claude = check.claude;
      if (check.runtime !== undefined) tools.runtime = check.runtime;
      return { ...base, reachable: true, tools, problems };
    } catch (error) {
      const e = toSwitchboardError(error);
      h.reachable = false;
      h.lastError = e;
      return { ...base, reachable: false, tools: {}, problems: [e.message], error: { code: e.code, message: e.message } };
    }
  }

  /** Named executor, or the label's candidates by fewest active tasks (ties: config order). */
  function candidates(spec: StartSpec): ExecutorHandle[] {
    if (spec.executor !== undefined) return [handle(spec.executor)];
    if (spec.label === undefined) throw new SwitchboardError('usage', 'start needs an executor name or --label');
    const withLabel = handles.filter((h) => h.config.labels.includes(spec.label!));
    if (withLabel.length === 0) {
      throw new SwitchboardError('unknown_executor', `no executor has the label '${spec.label}'`, { hint: 'executors lists executors and their labels.' });
    }
    const load = (h: ExecutorHandle) => store.countActive(h.name) + store.queued(h.name).length;
    return withLabel
      .map((h, order) => ({ h, order, load: load(h), known: h.reachable === false ? 1 : 0 }))
      .sort((a, b) => a.known - b.known || a.load - b.load || a.order - b.order)
      .map((c) => c.h);
  }

  // ── starting ───────────────────────────────────────────────────────────────────────────────────────────
  function validate(spec: StartSpec): void {
    if (!NAME.test(spec.name)) {
      throw new SwitchboardError('invalid_name', `'${spec.name}' is not a valid name`, { hint: 'Names are lowercase letters, digits and -, starting with a letter or digit, at most 32.' });
    }
    if (spec.text.trim() === '') {
      throw new SwitchboardError('empty_prompt', spec.kind === 'claude' ? 'the prompt is empty' : 'the command is empty');
    }
    if (spec.maxTurns !== undefined && (!Number.isInteger(spec.maxTurns) || spec.maxTurns < 1)) {
      throw new SwitchboardError('usage', `--max-turns must be a whole number ≥ 1 (got ${spec.maxTurns})`);
    }
    const existing = store.byName(spec.name);
    if (existing) throw nameTaken(existing);
  }

  function nameTaken(existing: TaskRow): SwitchboardError {
    return new SwitchboardError('name_taken', `a task named '${existing.name}' already exists (${existing.status} on ${existing.executor})`, {
      hint: isFinal(existing.status) ? `Pick another name, or forget ${existing.name} first.` : 'Pick another name.',
    });
  }

  async function start(spec: StartSpec): Promise<TaskRecord> {
    validate(spec);
    const model = spec.kind === 'claude' ? resolveModel(spec.model ?? defaults.model, models) : undefined;
    if (model !== undefined && !isValidModelName(model)) throw new SwitchboardError('usage', `'${model}' is not a model name`);
    const maxTurns = spec.kind === 'claude' ? (spec.maxTurns ?? defaults.maxTurns) : undefined;

    const failures: string[] = [];
    for (const h of candidates(spec)) {
      const id = newTaskId();
      try {
        store.insert({
          id,
          name: spec.name,
          executor: h.name,
          kind: spec.kind,
          status: 'queued',
          workspace: spec.workspace ?? null,
          model: model ?? null,
          maxTurns: maxTurns ?? null,
          sessionId: spec.kind === 'claude' ? randomUUID() : null,
          session: `sb-${id}`,
          actor: spec.actor,
          channel: spec.channel,
          createdAt: clock.now(),
        });
        store.update(id, { queueSeq: store.nextQueueSeq() });
      } catch (error) {
        if (/UNIQUE constraint failed: executor_tasks.name/.test(String(error))) throw nameTaken(store.byName(spec.name)!);
        throw error;
      }
      try {
        await prepareTask(h, store.get(id)!, spec.text);
      } catch (error) {
        await discard(h, store.get(id)!);
        const e = toSwitchboardError(error);
        const tryNext = spec.label !== undefined && ['executor_unreachable', 'ssh_auth_failed', 'host_key_unknown', 'host_key_mismatch', 'config_invalid'].includes(e.code);
        if (!tryNext) throw e;
        h.reachable = false;
        h.lastError = e;
        failures.push(e.message);
        continue;
      }
      const failure = await h.exclusive(() => launchQueued(h, [], id));
      if (failure) {
        await discard(h, store.get(id)!);
        throw failure;
      }
      return publicRecord(store.get(id)!);
    }
    throw new SwitchboardError('executor_unreachable', `no reachable executor with the label '${spec.label}': ${failures.join('; ')}`);
  }

  /** A start that did not happen leaves nothing: no row (the name is free again), no directory. */
  async function discard(h: ExecutorHandle, task: TaskRow): Promise<void> {
    store.delete(task.id);
    if (task.remoteDir) await h.runtime.removeDir(refOf(task)).catch(() => undefined);
  }

  /** Makes the task directory and uploads everything the first attempt needs; the task stays queued. */
  async function prepareTask(h: ExecutorHandle, task: TaskRow, text: string): Promise<void> {
    const claudePath = task.kind === 'claude' ? claudePathFor(h) : null;
    const prepared = await h.runtime.prepare({ claudePath, ...(task.workspace ? { workspace: task.workspace } : h.config.workspace ? { workspace: h.config.workspace } : {}) });
    h.reachable = true;
    store.update(task.id, { remoteDir: prepared.dir, workspace: prepared.workspace, claudePath: prepared.claudePath });
    const files = staticTaskFiles({
      taskId: task.id,
      name: task.name,
      executor: h.name,
      kind: task.kind,
      workspace: prepared.workspace,
      env: h.config.env,
      envStyle: h.config.type === 'container' ? 'docker' : 'shell',
      sessionId: task.sessionId,
    });
    const argv =
      task.kind === 'claude'
        ? claudeArgv({ claudePath: prepared.claudePath ?? claudePathFor(h), sessionId: task.sessionId!, resume: false, model: task.model ?? undefined, maxTurns: task.maxTurns ?? undefined })
        : undefined;
    await h.runtime.writeFiles(prepared.dir, [...files, ...runFiles({ kind: task.kind, text, ...(argv ? { argv } : {}) })]);
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
        if (next.id !== own) emit(events, { kind: 'started', task: publicRecord(store.get(next.id)!) });
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

  // ── follow-ups, kill, logs, cleanup ────────────────────────────────────────────────────────────────────
  async function send(name: string, text: string): Promise<TaskRecord> {
    const task = taskNamed(name);
    if (task.kind !== 'claude') throw new SwitchboardError('usage', `${name} is a shell task; send works on claude tasks`, { hint: `run a new command instead.` });
    if (!isFinal(task.status)) {
      throw new SwitchboardError('task_busy', `${name} is still ${task.status.replace('_', ' ')}; send a follow-up once it has finished`, { hint: `kill ${name} to stop it first.` });
    }
    if (text.trim() === '') throw new SwitchboardError('empty_prompt', 'the prompt is empty');
    const h = handle(task.executor);
    if (task.remoteDir === null) {
      const prepared = await h.runtime.prepare({ claudePath: claudePathFor(h), ...(task.workspace ? { workspace: task.workspace } : {}) });
      store.update(task.id, { remoteDir: prepared.dir, claudePath: prepared.claudePath ?? task.claudePath });
      await h.runtime.writeFiles(
        prepared.dir,
        staticTaskFiles({
          taskId: task.id,
          name: task.name,
          executor: h.name,
          kind: 'claude',
          workspace: prepared.workspace,
          env: h.config.env,
          envStyle: h.config.type === 'container' ? 'docker' : 'shell',
          sessionId: task.sessionId,
        }),
      );
    }
    const fresh = store.get(task.id)!;
    const argv = claudeArgv({ claudePath: fresh.claudePath ?? claudePathFor(h), sessionId: fresh.sessionId!, resume: true, model: fresh.model ?? undefined, maxTurns: fresh.maxTurns ?? undefined });
    await h.runtime.writeFiles(fresh.remoteDir!, runFiles({ kind: 'claude', text, argv }));
    const queued = store.update(task.id, { status: 'queued', queueSeq: store.nextQueueSeq(), resumeReason: 'followup', reason: null }, task.status);
    if (!queued) throw new SwitchboardError('task_busy', `${name} changed state meanwhile; try again`);
    const failure = await h.exclusive(() => launchQueued(h, [], task.id));
    if (failure) throw failure;
    return publicRecord(store.get(task.id)!);
  }

  async function kill(name: string): Promise<TaskRecord> {
    const first = taskNamed(name);
    if (isFinal(first.status)) {
      const when = first.finishedAt ? ` at ${new Date(first.finishedAt).toISOString()}` : '';
      throw new SwitchboardError('task_not_running', `${name} is not running: it already ${first.status === 'killed' ? 'was killed' : first.status}${when}`, {
        hint: `logs ${name} shows its output.`,
      });
    }
    const h = handle(first.executor);
    return h.exclusive(async () => {
      const task = store.get(first.id)!;
      if (isFinal(task.status)) throw new SwitchboardError('task_not_running', `${name} finished while being killed (${task.status})`);
      const events: TaskEvent[] = [];
      if (task.status === 'queued') {
        finalize(h, task, { kind: 'killed', exitCode: null }, events);
      } else {
        const pending: PendingAction = { action: 'kill', since: clock.now() };
        store.update(task.id, { status: 'stopping', pending, reason: 'being killed' });
        const report = await h.runtime.stop(refOf(task), graceMs);
        if (report.survivors > 0) logger.warn('processes survived a kill', { task: name, survivors: report.survivors });
        const exitCode = report.done === task.attempt ? report.exitCode : null;
        finalize(h, store.get(task.id)!, { kind: 'killed', exitCode }, events, report.survivors > 0 ? `${report.survivors} process(es) survived SIGKILL` : null);
      }
      await launchQueued(h, events);
      return publicRecord(store.get(task.id)!);
    });
  }

  async function readLog(h: ExecutorHandle, task: TaskRow): Promise<string[]> {
    const ref = refOf(task);
    const output = await h.runtime.readFile(ref, FILE.output, { tailBytes: OUTPUT_TAIL_BYTES });
    const outputLines = output ? dropPartialFirstLine(stripAnsi(output.data.toString('utf8')), output.offset > 0) : [];
    if (task.kind === 'shell') return outputLines;
    const events = await h.runtime.readFile(ref, FILE.events, { tailBytes: EVENTS_TAIL_BYTES });
    const transcript = events ? renderTranscript(dropPartialFirstLine(events.data.toString('utf8'), events.offset > 0).join('\n')) : [];
    return outputLines.some((l) => l.trim() !== '') ? [...transcript, '── stderr ──', ...outputLines] : transcript;
  }

  async function logs(name: string, lines = 50): Promise<string> {
    const task = taskNamed(name);
    if (task.remoteDir === null) return lastLines(task.logTail ?? '', lines).join('\n');
    return lastLines((await readLog(handle(task.executor), task)).join('\n'), lines).join('\n');
  }

  async function cleanup(name: string): Promise<TaskRecord> {
    const task = taskNamed(name);
    if (!isFinal(task.status)) throw new SwitchboardError('task_busy', `${name} is still ${task.status}; kill it before cleaning up`);
    if (task.remoteDir === null) return publicRecord(task);
    const h = handle(task.executor);
    const kept = lastLines((await readLog(h, task)).join('\n'), LOG_TAIL_KEEP_LINES).join('\n');
    store.update(task.id, { logTail: kept });
    await h.runtime.release(refOf(task)).catch(() => undefined);
    await h.runtime.removeDir(refOf(task));
    store.update(task.id, { remoteDir: null });
    return publicRecord(store.get(task.id)!);
  }

  async function forget(name: string): Promise<void> {
    const task = taskNamed(name);
    if (!isFinal(task.status)) throw new SwitchboardError('task_busy', `${name} is still ${task.status}; kill it before forgetting it`);
    try {
      await cleanup(name);
    } catch (error) {
      logger.warn('cleanup before forget failed; the task directory stays on the host', { task: name, error: String(error) });
    }
    store.delete(task.id);
    parsers.delete(task.id);
  }

  // ── the tick ───────────────────────────────────────────────────────────────────────────────────────────
  async function tick(): Promise<TaskEvent[]> {
    if (ticking) return ticking;
    ticking = (async () => {
      const events: TaskEvent[] = [];
      await Promise.all(handles.map((h) => h.exclusive(() => tickExecutor(h, events))));
      // After the probes, so a record made in this tick goes out in this tick.
      await deliverWebhooks();
      return events;
    })();
    try {
      return await ticking;
    } finally {
      ticking = undefined;
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
        finalize(h, task, { kind: 'abandoned', reason: 'it ran past its deadline (while waiting to resume)' }, events);
        continue;
      }
      if ((task.resumeAt ?? 0) > clock.now()) continue;
      try {
        await resume(h, task, events);
      } catch (error) {
        const e = toSwitchboardError(error);
        logger.warn('resume failed; will try again', { task: task.name, error: e.message });
        store.update(task.id, { resumeAt: clock.now() + backoffMs(task.retries), reason: `resume failed: ${e.message}` });
      }
    }
    try {
      await launchQueued(h, events);
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
          emit(events, { kind: 'needs_attention', task: publicRecord(store.get(task.id)!), paneTail: verdict.paneTail });
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
        finalize(h, store.get(task.id)!, verdict, events);
        return;
      default:
        finalize(h, task, verdict, events);
    }
  }

  function reportProgress(task: TaskRow, parser: ClaudeEventsParser, events: TaskEvent[]): void {
    const state = parser.state();
    const key = JSON.stringify({ todos: state.todos, text: state.lastAssistantText });
    if (key === task.progressKey || (state.todos.length === 0 && state.lastAssistantText === null)) return;
    store.update(task.id, { progressKey: key });
    emit(events, { kind: 'progress', task: publicRecord(store.get(task.id)!), todos: state.todos, lastText: state.lastAssistantText });
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
      finalize(h, task, { kind: 'abandoned', reason }, events, null, verdict.exitCode);
      return;
    }
    const delay = backoffMs(task.retries);
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

  async function resume(h: ExecutorHandle, task: TaskRow, events: TaskEvent[]): Promise<void> {
    const attempt = task.attempt + 1;
    const cause = task.resumeReason ?? 'crash';
    const why = task.reason?.split('; resuming in')[0] ?? cause;
    const args = { claudePath: task.claudePath ?? claudePathFor(h), sessionId: task.sessionId!, model: task.model ?? undefined, maxTurns: task.maxTurns ?? undefined };
    await h.runtime.writeFiles(task.remoteDir!, resumeFiles({ preamble: resumePreamble(why), argv: claudeArgv({ ...args, resume: true }), freshArgv: claudeArgv({ ...args, resume: false }) }));
    const now = clock.now();
    store.update(task.id, { status: 'running', attempt, attemptStartedAt: now, resumeAt: null, reason: null, pending: null });
    store.startAttempt(task.id, attempt, cause, now);
    await h.runtime.launch(refOf(task), attempt, graceMs);
    logger.info('task resumed', { task: task.name, attempt, reason: why });
    emit(events, { kind: 'resumed', task: publicRecord(store.get(task.id)!), reason: why, attempt });
  }

  function backoffMs(retries: number): number {
    return Math.min(defaults.retryBackoffMaxSec * 1000, defaults.retryBackoffSec * 1000 * 2 ** retries);
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
    emit(events, { kind: 'finished', task: publicRecord(store.get(task.id)!), record });
    parsers.delete(task.id);
    if (task.remoteDir !== null && task.attempt > 0) {
      h.runtime.release(refOf(task)).catch((error: unknown) => logger.debug('release failed', { task: task.name, error: String(error) }));
    }
  }

  async function deliverWebhooks(): Promise<void> {
    const due = store.dueDeliveries(clock.now());
    await Promise.all(
      due.map(async (d) => {
        const outcome = await postWebhook(fetchImpl, {
          url: d.url,
          body: d.body,
          deliveryId: `${d.taskId}:${d.attempt}`,
          secret: deps.webhookSecret,
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

  return {
    async list() {
      return Promise.all(handles.map(status));
    },
    async check(executor) {
      return status(handle(executor));
    },
    start,
    send,
    kill,
    logs,
    tasks(filter = {}) {
      return store.list(filter).map(publicRecord);
    },
    get(name) {
      const task = store.byName(name);
      return task ? publicRecord(task) : null;
    },
    attempts(name) {
      return store.attempts(taskNamed(name).id);
    },
    completion(name) {
      const task = taskNamed(name);
      const found = store.completion(task.id, task.attempt);
      return found ? { record: found.record, webhookState: found.webhookState } : null;
    },
    cleanup,
    forget,
    tick,
    async reattach() {
      const live = store.list({ status: ACTIVE_STATUSES });
      for (const task of live) parsers.delete(task.id);
      if (live.length > 0) logger.info('re-attaching to live tasks', { tasks: live.map((t) => t.name) });
      return live.map(publicRecord);
    },
    async close() {
      const runtimes = new Set(handles.map((h) => h.runtime));
      await Promise.all([...runtimes].map((r) => r.close().catch(() => undefined)));
    },
  };
}

/** What one attempt cost: its reported running total minus the session's total before it. */
function attemptCost(task: TaskRow, summary: AttemptSummary | null | undefined): number | null {
  const total = summary?.result?.totalCostUsd;
  if (typeof total !== 'number') return null;
  return Math.max(0, Math.round((total - (task.sessionCostUsd ?? task.runCostBase ?? 0)) * 1e6) / 1e6);
}

function probeAlive(probe: TaskProbe): boolean {
  return probe.child?.alive === true || probe.wrapper?.alive === true || (probe.pane !== null && !probe.pane.dead) || probe.container?.running === true;
}

function dropPartialFirstLine(text: string, partial: boolean): string[] {
  const lines = text.split('\n');
  if (partial) lines.shift();
  return lines;
}

function newTaskId(): string {
  return `t${randomBytes(6).toString('hex')}`;
}

/** The record without the executor layer's own bookkeeping. */
export function publicRecord(task: TaskRow): TaskRecord {
  return {
    id: task.id,
    name: task.name,
    executor: task.executor,
    kind: task.kind,
    status: task.status,
    reason: task.reason,
    workspace: task.workspace,
    model: task.model,
    maxTurns: task.maxTurns,
    sessionId: task.sessionId,
    remoteDir: task.remoteDir,
    attempt: task.attempt,
    retries: task.retries,
    exitCode: task.exitCode,
    terminalReason: task.terminalReason,
    result: task.result,
    totalCostUsd: task.totalCostUsd,
    usage: task.usage,
    actor: task.actor,
    channel: task.channel,
    queuePosition: task.queuePosition,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    deadlineAt: task.deadlineAt,
  };
}
