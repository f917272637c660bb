import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SwitchboardError, toSwitchboardError } from '../errors.js';
import { singleFlight } from '../core/single-flight.js';
import type { ExecutorStatus, Fleet, FleetDeps, StartSpec, TaskEvent } from './api.js';
import type { PendingAction } from './classify.js';
import { isValidModelName, resolveModel } from './config.js';
import { createExecutorHandles, type ExecutorHandle } from './executor.js';
import { executorNamed, homeDirOf } from './host/index.js';
import { claudePathFor, policyFrom, prepareWhere, refOf, type EventsCursor, type FleetContext } from './fleet-context.js';
import { tailHumanLog } from './human-log.js';
import { lastLines } from './protocol/ansi.js';
import { attachmentFiles, claudeArgv, promptWithAttachments, runFiles, staticTaskFiles, type TaskAttachment } from './protocol/task-files.js';
import { createRuns } from './runs.js';
import { scrubbingTaskStore } from './scrubbed-store.js';
import { ACTIVE_STATUSES, createTaskStore, isFinal, toTaskRecord, type TaskRecord, type TaskRow } from './task-store.js';
import { createTicker } from './ticker.js';
import type { FetchLike } from './webhook.js';

export type { ExecutorStatus, Fleet, FleetDeps, StartSpec, TaskEvent } from './api.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LOG_TAIL_KEEP_LINES = 200;

/**
 * The executor layer behind one object: executors from config, tasks in SQLite, and a tick that the core's
 * monitor calls on its schedule. Nothing runs by itself; every change happens in a call.
 */
export function createFleet(deps: FleetDeps): Fleet {
  const { clock, logger, defaults } = deps;
  const store = deps.scrub ? scrubbingTaskStore(createTaskStore(deps.db), deps.scrub) : createTaskStore(deps.db);
  const models = deps.models ?? {};
  const handles = createExecutorHandles(deps.executors, {
    clock,
    logger,
    runtimeEnv: deps.runtimeEnv,
    homeDir: homeDirOf(deps),
    readIdentity: deps.readIdentity ?? ((path) => readFileSync(path)),
    ...(deps.connectSsh ? { connectSsh: deps.connectSsh } : {}),
  });
  const byName = new Map(handles.map((h) => [h.name, h]));
  const parsers = new Map<string, EventsCursor>();
  const graceMs = defaults.killGraceSec * 1000;
  const ctx: FleetContext = {
    store,
    clock,
    logger,
    defaults,
    policy: policyFrom(defaults),
    graceMs,
    parsers,
    maxBudgetUsd: (task) => deps.maxBudgetUsd?.(task.name, task.executor),
    emit(events, event) {
      events.push(event);
      try {
        deps.onEvent?.(event);
      } catch (error) {
        logger.error('task event listener failed', { error: String(error) });
      }
    },
  };
  const fetchImpl: FetchLike = deps.fetch ?? ((url, init) => fetch(url, init));
  const runs = createRuns(ctx);
  const ticker = createTicker(ctx, runs, { fetch: fetchImpl, secret: deps.webhookSecret });

  function handle(name: string): ExecutorHandle {
    return byName.get(executorNamed(deps.executors, name).name)!;
  }

  function taskNamed(name: string): TaskRow {
    const task = store.byName(name);
    if (!task) throw new SwitchboardError('unknown_name', `no task named '${name}'`, { hint: 'tasks lists them.' });
    return task;
  }

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
      const claude = h.config.type === 'container' ? null : claudePathFor(h, defaults);
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
    if (spec.resumeSessionId !== undefined) {
      if (spec.kind !== 'claude') throw new SwitchboardError('usage', 'only claude tasks continue a session');
      if (!SESSION_ID.test(spec.resumeSessionId)) throw new SwitchboardError('usage', `'${spec.resumeSessionId.slice(0, 60)}' is not a Claude session id`);
    }
    for (const key of Object.keys(spec.env ?? {})) {
      if (!ENV_KEY.test(key)) throw new SwitchboardError('usage', `'${key.slice(0, 60)}' is not an environment variable name`);
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
          sessionId: spec.kind === 'claude' ? (spec.resumeSessionId ?? randomUUID()) : null,
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
        await runs.prepareTask(h, store.get(id)!, spec.text, {
          resume: spec.resumeSessionId !== undefined,
          ...(spec.env ? { env: spec.env } : {}),
          ...(spec.files?.length ? { files: spec.files } : {}),
        });
      } catch (error) {
        await runs.discard(h, store.get(id)!);
        const e = toSwitchboardError(error);
        const tryNext = spec.label !== undefined && ['executor_unreachable', 'ssh_auth_failed', 'host_key_unknown', 'host_key_mismatch', 'config_invalid'].includes(e.code);
        if (!tryNext) throw e;
        h.reachable = false;
        h.lastError = e;
        failures.push(e.message);
        continue;
      }
      const failure = await h.exclusive(() => runs.launchQueued(h, [], id));
      if (failure) {
        await runs.discard(h, store.get(id)!);
        throw failure;
      }
      return toTaskRecord(store.get(id)!);
    }
    throw new SwitchboardError('executor_unreachable', `no reachable executor with the label '${spec.label}': ${failures.join('; ')}`);
  }

  async function send(name: string, text: string, files: readonly TaskAttachment[] = []): Promise<TaskRecord> {
    const task = taskNamed(name);
    if (task.kind !== 'claude') throw new SwitchboardError('usage', `${name} is a shell task; send works on claude tasks`, { hint: `run a new command instead.` });
    if (!isFinal(task.status)) {
      throw new SwitchboardError('task_busy', `${name} is still ${task.status.replace('_', ' ')}; send a follow-up once it has finished`, { hint: `kill ${name} to stop it first.` });
    }
    if (text.trim() === '') throw new SwitchboardError('empty_prompt', 'the prompt is empty');
    const h = handle(task.executor);
    if (task.remoteDir === null) {
      const prepared = await h.runtime.prepare({ claudePath: claudePathFor(h, defaults), ...prepareWhere(h, task) });
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
    const argv = claudeArgv({ claudePath: fresh.claudePath ?? claudePathFor(h, defaults), sessionId: fresh.sessionId!, resume: true, model: fresh.model ?? undefined, maxTurns: fresh.maxTurns ?? undefined, maxBudgetUsd: ctx.maxBudgetUsd(fresh) });
    await h.runtime.writeFiles(fresh.remoteDir!, [
      ...attachmentFiles(files),
      ...runFiles({ kind: 'claude', text: promptWithAttachments(text, fresh.remoteDir!, files), argv }),
    ]);
    const queued = store.update(task.id, { status: 'queued', queueSeq: store.nextQueueSeq(), resumeReason: 'followup', reason: null }, task.status);
    if (!queued) throw new SwitchboardError('task_busy', `${name} changed state meanwhile; try again`);
    const failure = await h.exclusive(() => runs.launchQueued(h, [], task.id));
    if (failure) throw failure;
    return toTaskRecord(store.get(task.id)!);
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
        runs.finalize(h, task, { kind: 'killed', exitCode: null }, events);
      } else {
        const pending: PendingAction = { action: 'kill', since: clock.now() };
        store.update(task.id, { status: 'stopping', pending, reason: 'being killed' });
        const report = await h.runtime.stop(refOf(task), graceMs);
        if (report.survivors > 0) logger.warn('processes survived a kill', { task: name, survivors: report.survivors });
        const exitCode = report.done === task.attempt ? report.exitCode : null;
        runs.finalize(h, store.get(task.id)!, { kind: 'killed', exitCode }, events, report.survivors > 0 ? `${report.survivors} process(es) survived SIGKILL` : null);
      }
      await runs.launchQueued(h, events);
      return toTaskRecord(store.get(task.id)!);
    });
  }

  async function logs(name: string, lines = 50): Promise<string> {
    const task = taskNamed(name);
    if (task.remoteDir === null) return lastLines(task.logTail ?? '', lines).join('\n');
    return tailHumanLog(handle(task.executor).runtime, task, lines);
  }

  async function cleanup(name: string): Promise<TaskRecord> {
    const task = taskNamed(name);
    if (!isFinal(task.status)) throw new SwitchboardError('task_busy', `${name} is still ${task.status}; kill it before cleaning up`);
    if (task.remoteDir === null) return toTaskRecord(task);
    const h = handle(task.executor);
    const kept = await tailHumanLog(h.runtime, task, LOG_TAIL_KEEP_LINES);
    store.update(task.id, { logTail: kept });
    await h.runtime.release(refOf(task)).catch(() => undefined);
    await h.runtime.removeDir(refOf(task));
    store.update(task.id, { remoteDir: null });
    return toTaskRecord(store.get(task.id)!);
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

  // A tick that runs long is joined by the next, not stacked on it.
  const { run: tick } = singleFlight(async (): Promise<TaskEvent[]> => {
    const events: TaskEvent[] = [];
    await Promise.all(handles.map((h) => h.exclusive(() => ticker.tickExecutor(h, events))));
    // After the probes, so a record made in this tick goes out in this tick.
    await ticker.deliverWebhooks();
    return events;
  });

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
      return store.list(filter).map(toTaskRecord);
    },
    get(name) {
      const task = store.byName(name);
      return task ? toTaskRecord(task) : null;
    },
    attempts(name) {
      return store.attempts(taskNamed(name).id);
    },
    completion(name) {
      const task = taskNamed(name);
      const found = store.completion(task.id);
      return found ? { record: found.record, webhookState: found.webhookState } : null;
    },
    cleanup,
    forget,
    tick,
    async reattach() {
      const live = store.list({ status: ACTIVE_STATUSES });
      for (const task of live) parsers.delete(task.id);
      if (live.length > 0) logger.info('re-attaching to live tasks', { tasks: live.map((t) => t.name) });
      return live.map(toTaskRecord);
    },
    hostOf(executor) {
      const h = handle(executor);
      return { config: h.config, host: h.host };
    },
    async close() {
      const runtimes = new Set(handles.map((h) => h.runtime));
      await Promise.all([...runtimes].map((r) => r.close().catch(() => undefined)));
    },
  };
}

function newTaskId(): string {
  return `t${randomBytes(6).toString('hex')}`;
}
