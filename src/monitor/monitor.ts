// Why this file is long: the watch loop is one state machine (check → assess → act → card → reschedule) over
// shared per-name memory; health, cards, the event hub and assessment already live in their own modules, and
// what is left shares that memory (about 590 lines; the stream holds for `send` live in the event hub).
// Further splits are part of issue 15.
import type { Config } from '../config/load.js';
import type { Clock } from '../core/clock.js';
import type { Choices } from '../core/choices.js';
import type { Logger } from '../core/logger.js';
import { reply, text, type Reply } from '../core/reply.js';
import { SwitchboardError } from '../errors.js';
import type { Outbox } from '../notify/outbox.js';
import type { OpencodeClient } from '../opencode/client.js';
import type { ServerEvent } from '../opencode/event-stream.js';
import type { MessageError, PermissionRequest, QuestionRequest } from '../opencode/schemas.js';
import type { ServerDirectory } from '../opencode/server-directory.js';
import type { ServerRef } from '../opencode/server-ref.js';
import type { Db } from '../sessions/database.js';
import type { NameRecord, OpencodeTarget, Registry } from '../sessions/registry.js';
import { assess, type Assessment, type CheckReason, type Observation } from './assess.js';
import type { MonitorControl, WatchInfo, WatchRequest } from './control.js';
import { createEventHub, serverKeyOf } from './event-hub.js';
import { createWatchIndex } from './watch-index.js';
import { cronMatches, parseDuration, parseInterval } from './interval.js';
import { createLimiter } from '../core/limiter.js';
import { finalReport, goneNotice, permissionAsk, questionAsk } from './reports.js';
import { createServerHealth } from './server-health.js';
import type { CardSink } from '../notify/card-sink.js';
import type { Scrubber } from '../core/scrub.js';
import { usageFacts, type CardState } from './card.js';
import { createOpencodeCards, opencodeCardKey } from './card-opencode.js';
import { budgetedCard, type BudgetGuard } from '../budgets/index.js';
import type { QueuedFor, ScheduleOf } from './card-runs.js';
import { createWatchStore, type Watch } from './watch-store.js';

export interface MonitorDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Config;
  registry: Registry;
  servers: ServerDirectory;
  outbox: Outbox;
  /** Buttons for a permission or a question; without it the ask is text alone (the one-shot CLI). */
  choices?: Choices;
  /** Requests in flight at most, across all servers. */
  maxInFlight?: number;
  /** Each run's live card: drawn as the run goes, instead of a message per change. */
  cards: CardSink;
  /** Prompts queued behind a name's run, shown on its card. */
  queuedFor?: QueuedFor;
  /** The schedule that started a run, for its card. */
  scheduleOf?: ScheduleOf;
  /** The branch of the worktree a session works in, for its card. */
  branchOf?: (name: string) => string | undefined;
  /** Who stopped a run with `send --now`, by the run's prompt id: its card and final say so instead of "aborted". */
  interruptedBy?: (promptId: number) => { actor: string; actorName?: string } | undefined;
  scrub?: Scrubber;
  /** How often a live card is drawn again so its elapsed time moves. */
  cardRefreshMs?: number;
  /** Use the servers' event streams (the benchmark measures polling alone with false). */
  streams?: boolean;
  /** How long a server's event stream stays open after its last watch ended (default 10 minutes). */
  streamLingerMs?: number;
  /** How long a prompt waits for its server's stream to relay before it is sent anyway (default 10 s). */
  streamReadyMs?: number;
  /**
   * When a check that an event or a (re)open asked for is repeated (default 300 ms, 1 s and 3 s later). A test
   * of polling alone sets none, so nothing but a tick can look at a run the stream has stopped reporting.
   */
  settleChecksMs?: readonly number[];
  /** For watched task names: whether the task is over (its card and result are the relay's). */
  taskReport?: (name: string) => { over: boolean };
  /** A watched run has ended and its final output (or why it ended) is posted: the next queued prompt may go. */
  onRunEnded?: (name: string, promptId: number | undefined) => void;
  /** Each run's limits: every look is reported (a run past a limit is stopped), and a stopped run's final says so. */
  budgets?: Pick<BudgetGuard, 'observe' | 'finish' | 'forget' | 'limitsFor'>;
}

export type Monitor = MonitorControl & {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Starts the checks of every watch that is due now (the app's scheduler runs it every second). */
  tick(): Promise<void>;
  /** Checks the given watches (all when omitted) at once, as after a restart. */
  checkNow(names?: readonly string[], reason?: CheckReason): Promise<void>;
  /** The most HTTP requests that were ever in flight at once. */
  peakInFlight(): number;
};

interface Memory {
  idleStreak: number;
  sessionError?: MessageError;
  lastEventAt?: number;
  /** Failed checks in a row since the last answer, for retrying soon instead of at the next tick. */
  failedChecks: number;
}

interface GroupData {
  statuses: Record<string, { type: string; message?: unknown }>;
  permissions: PermissionRequest[];
  questions: QuestionRequest[];
}

// `forbidden`: the connection guard refused the server's address now (a name that rebinds to a metadata address).
const TRANSPORT_CODES = new Set(['unreachable', 'timeout', 'auth_failed', 'not_opencode', 'forbidden']);

/**
 * Watches names and tells their channels how the work goes: progress on each tick while busy, permission
 * requests and questions at once, one final output when the prompt is done, and one notice each when a
 * server goes away and comes back. Events make it quick; polling makes it right.
 */
export function createMonitor(deps: MonitorDeps): Monitor {
  const { db, clock, logger, config, registry, servers, outbox } = deps;
  const store = createWatchStore(db, clock);
  const limiter = createLimiter(deps.maxInFlight ?? 32);
  const stallAfterMs = parseDuration(config.monitor.stallAfter);
  const runCards = createOpencodeCards({
    cards: deps.cards,
    clock,
    logger,
    ...(deps.scrub ? { scrub: deps.scrub } : {}),
    ...(deps.queuedFor ? { queuedFor: deps.queuedFor } : {}),
    ...(deps.scheduleOf ? { scheduleOf: deps.scheduleOf } : {}),
    ...(deps.branchOf ? { branchOf: deps.branchOf } : {}),
    ...(deps.cardRefreshMs !== undefined ? { refreshMs: deps.cardRefreshMs } : {}),
  });
  const memory = new Map<string, Memory>();
  const running = new Map<string, Promise<void>>();
  const again = new Map<string, CheckReason>();
  const index = createWatchIndex();
  /** Every watch name the index has considered, OpenCode or not, to notice changes by other processes. */
  const known = new Set<string>();
  /** Until start(): a one-shot CLI process records watches but never checks, streams or posts. */
  let stopped = true;

  const { serverFailed, serverAnswered } = createServerHealth({
    db,
    unreachableAfter: config.monitor.unreachableAfter,
    namesOn: (server) => index.namesOn(serverKeyOf(server)).flatMap((name) => registry.get(name) ?? []),
    notify: (origin, message) => outbox.enqueue({ origin, reply: message }),
  });

  const hub = createEventHub({
    logger,
    guard: servers.guard,
    ...(deps.streamLingerMs !== undefined ? { lingerMs: deps.streamLingerMs } : {}),
    onEvent: (serverKey, event) => onServerEvent(serverKey, event),
    onConnected: (serverKey) => {
      // The stream relays from here on (its first frame came): one look now at each name covers whatever
      // happened while it was down; the looks shortly after catch a reply not yet readable at the first.
      for (const name of index.namesOn(serverKey)) requestSettled(name, 'reconcile');
    },
  });

  const memoryOf = (name: string): Memory => {
    let value = memory.get(name);
    if (!value) memory.set(name, (value = { idleStreak: 0, failedChecks: 0 }));
    return value;
  };

  function opencodeOf(record: NameRecord): { target: OpencodeTarget; server: ServerRef; client: OpencodeClient } | undefined {
    if (record.target.kind !== 'opencode') return undefined;
    const server = servers.forStored(record.target.server, record.target.serverUrl);
    return { target: record.target, server, client: servers.client(server) };
  }

  function syncStreams(): void {
    if (deps.streams !== false && !stopped) hub.want(index.servers());
  }

  /** Adds one watch to the index (OpenCode names only; tasks are followed by their executor). */
  function indexWatch(name: string): void {
    known.add(name);
    const record = registry.get(name);
    const found = record && opencodeOf(record);
    if (found) index.add(name, found.server, found.target.sessionId);
    else index.remove(name);
  }

  function unindex(name: string): void {
    known.delete(name);
    index.remove(name);
    memory.delete(name);
    // Nobody follows the name's run any more (it ended, its session is gone, it was unwatched): nor does its budget.
    deps.budgets?.forget(name);
    syncStreams();
  }

  /** Rebuilds the index from the database: at start, and when another process changed the watches. */
  function rebuild(): void {
    index.clear();
    known.clear();
    for (const watch of store.all()) indexWatch(watch.name);
    syncStreams();
  }

  /**
   * An idle or error event can arrive a moment before the reply it ends is readable over HTTP, so the
   * check is repeated shortly after; checks of a finished watch cost nothing.
   */
  function requestSettled(name: string, reason: CheckReason = 'event'): void {
    void request(name, reason);
    for (const delay of deps.settleChecksMs ?? [300, 1_000, 3_000]) {
      const timer = setTimeout(() => {
        if (!stopped && store.get(name)) void request(name, reason);
      }, delay);
      timer.unref();
    }
  }

  function onServerEvent(serverKey: string, event: ServerEvent): void {
    const sessionId = event.properties.sessionID;
    if (typeof sessionId !== 'string') return;
    const name = index.nameFor(serverKey, sessionId);
    if (!name) return;
    const mem = memoryOf(name);
    mem.lastEventAt = clock.now();
    switch (event.type) {
      case 'session.error': {
        const error = event.properties.error as MessageError | undefined;
        if (error && typeof error.name === 'string') mem.sessionError = error;
        requestSettled(name);
        return;
      }
      case 'session.status': {
        const status = event.properties.status as { type?: string } | undefined;
        if (status?.type === 'idle') requestSettled(name);
        return;
      }
      case 'session.idle':
        requestSettled(name);
        return;
      case 'permission.asked':
      case 'question.asked':
      case 'session.deleted':
        request(name, 'event');
        return;
      case 'todo.updated':
        request(name, 'todo');
        return;
      default:
        return;
    }
  }

  /** Runs one check per name at a time; a request during a check runs once more afterwards. */
  function request(name: string, reason: CheckReason, group?: Map<string, Promise<GroupData>>): Promise<void> {
    const current = running.get(name);
    if (current) {
      const queued = again.get(name);
      // A tick or a todo change is worth a report; keep the reason that may post more.
      if (!queued || queued === 'event' || queued === 'reconcile') again.set(name, reason);
      return current;
    }
    const run = (async () => {
      const started = clock.now();
      try {
        await check(name, reason, group);
        logger.debug('monitor: checked', { name, reason, ms: clock.now() - started });
      } catch (error) {
        logger.error('monitor: check failed', { name, error: error instanceof Error ? error.message : String(error) });
      } finally {
        running.delete(name);
        const next = again.get(name);
        if (next && !stopped) {
          again.delete(name);
          void request(name, next);
        }
      }
    })();
    running.set(name, run);
    return run;
  }

  function post(record: NameRecord, message: Reply): void {
    outbox.enqueue({ origin: record.origin, reply: message, threadKey: record.name });
  }

  async function fetchGroup(client: OpencodeClient, directory: string): Promise<GroupData> {
    const [statuses, permissions, questions] = await Promise.all([
      limiter.run(() => client.status(directory)),
      limiter.run(() => client.permissions(directory)),
      limiter.run(() => client.questions(directory)),
    ]);
    return { statuses, permissions, questions };
  }

  async function check(name: string, reason: CheckReason, group?: Map<string, Promise<GroupData>>): Promise<void> {
    const watch = store.get(name);
    if (!watch || stopped) return;
    const record = registry.get(name);
    if (!record) {
      store.remove(name);
      unindex(name);
      return;
    }
    const found = opencodeOf(record);
    if (!found) {
      checkTask(record);
      return;
    }
    const { target, server, client } = found;
    const groupKey = `${serverKeyOf(server)}\u0001${target.directory}`;
    let observation: Observation;
    try {
      let shared = group?.get(groupKey);
      if (!shared) {
        shared = fetchGroup(client, target.directory);
        group?.set(groupKey, shared);
      }
      const [data, todos, messages] = await Promise.all([
        shared,
        limiter.run(() => client.todo(target.sessionId)),
        limiter.run(() => client.messages(target.sessionId, { limit: 30 })),
      ]);
      const status = data.statuses[target.sessionId];
      observation = {
        state: status?.type === 'busy' ? 'busy' : status?.type === 'retry' ? 'retry' : 'idle',
        ...(status?.type === 'retry' && typeof status.message === 'string' ? { retryMessage: status.message } : {}),
        todos,
        messages,
        permissions: data.permissions.filter((p) => p.sessionID === target.sessionId),
        questions: data.questions.filter((q) => q.sessionID === target.sessionId),
      };
    } catch (error) {
      if (error instanceof SwitchboardError && error.code === 'session_gone') {
        store.transaction(() => {
          post(record, goneNotice(name, target.sessionId, server.label));
          store.remove(name);
        });
        runCards.end(name, 'the OpenCode session was deleted');
        unindex(name);
        deps.onRunEnded?.(name, watch.promptId);
        return;
      }
      if (error instanceof SwitchboardError && TRANSPORT_CODES.has(error.code)) {
        if (reason === 'tick' || reason === 'reconcile') serverFailed(server, error.message);
        // A slow or restarting server: look again soon rather than at the next tick, a few times.
        const mem = memoryOf(name);
        mem.failedChecks++;
        if (mem.failedChecks <= 4) {
          const timer = setTimeout(() => {
            if (!stopped && store.get(name)) void request(name, 'event');
          }, 2_000 * mem.failedChecks);
          timer.unref();
        }
        return;
      }
      throw error;
    }
    serverAnswered(server);
    const mem = memoryOf(name);
    mem.failedChecks = 0;
    mem.idleStreak = observation.state === 'idle' ? mem.idleStreak + 1 : 0;
    const prompt = watch.promptId !== undefined ? registry.prompt(watch.promptId) : undefined;
    const assessment = assess({
      name,
      watch,
      observation,
      ...(prompt ? { prompt: { digest: prompt.digest, sentAt: prompt.sentAt } } : {}),
      now: clock.now(),
      stallAfterMs,
      idleStreak: mem.idleStreak,
      ...(mem.sessionError ? { sessionError: mem.sessionError } : {}),
      ...(mem.lastEventAt !== undefined ? { lastEventAt: mem.lastEventAt } : {}),
    });
    const card = runCards.stateOf({
      name,
      watch,
      observation,
      assessment,
      startedAt: prompt?.sentAt ?? watch.since ?? watch.createdAt,
      serverKey: serverKeyOf(server),
      client,
    });
    act(record, watch, target, server, observation, assessment, card);
  }

  /** A watched task: its executor reports changes by itself onto the task's card; the watch ends with it. */
  function checkTask(record: NameRecord): void {
    const view = deps.taskReport?.(record.name);
    if (!view || view.over) {
      store.remove(record.name);
      unindex(record.name);
    }
  }

  function act(record: NameRecord, watch: Watch, target: OpencodeTarget, server: ServerRef, observation: Observation, a: Assessment, card: CardState): void {
    const name = record.name;
    const interrupt = a.finished && watch.promptId !== undefined ? deps.interruptedBy?.(watch.promptId) : undefined;
    if (interrupt && a.finished) {
      const why = `interrupted by ${interrupt.actorName ?? interrupt.actor}`;
      a = { ...a, finished: { ...a.finished, ok: false, problem: why } };
      card = { ...card, phase: 'failed', detail: why };
    }
    // The run's budget: a live look may stop it; an ended run that was stopped (or passed a limit) says so. A
    // hand-made watch of an idle session has no run yet, so nothing to judge.
    const stage = a.finished ? 'ended' : watch.promptId === undefined && observation.state === 'idle' ? 'waiting' : 'live';
    const budgeted = deps.budgets && budgetedCard(deps.budgets, { key: opencodeCardKey(watch), name, place: { kind: 'server', server: target.server } }, card, stage);
    const stopped = budgeted?.stop?.line;
    if (budgeted) card = budgeted.card;
    if (budgeted?.stop && a.finished) a = { ...a, finished: { ...a.finished, ok: false, problem: budgeted.stop.reason } };
    const drawCard = () => runCards.draw(record, watch, card);
    if (a.finished) {
      const finished = a.finished;
      let done = false;
      store.transaction(() => {
        const claimed = store.claimFinal(`${serverKeyOf(server)}\u0001${target.sessionId}`, finished.userMessageId, name);
        logger.debug('monitor: turn finished', { name, userMessageId: finished.userMessageId, ok: finished.ok, claimed });
        if (claimed) {
          post(
            record,
            finalReport({
              name,
              ok: finished.ok,
              ...(finished.output !== undefined ? { output: finished.output } : {}),
              ...(finished.error ? { error: finished.error } : {}),
              ...(finished.finish ? { finish: finished.finish } : {}),
              ...(finished.problem ? { problem: finished.problem } : {}),
              todos: observation.todos,
              ...(finished.elapsedMs !== undefined ? { elapsedMs: finished.elapsedMs } : {}),
              facts: usageFacts(card.usage),
              ...(stopped ? { stopped } : {}),
            }),
          );
        }
        // A watch started by `send` ends with its prompt; a hand-made watch waits for a turn not yet reported.
        if (claimed || watch.promptId !== undefined) {
          store.remove(name);
          done = true;
        }
      });
      if (done) {
        drawCard();
        unindex(name);
        deps.onRunEnded?.(name, watch.promptId);
        return;
      }
    }
    const asked = [...watch.asked];
    for (const ask of a.asks) {
      asked.push(ask.request.id);
      post(record, askReply(record, watch, ask));
    }
    // Only what changed is written: a steady tick over thousands of quiet watches writes nothing.
    const patch: Partial<Watch> = {};
    if (a.activityHash !== watch.activityHash) patch.activityHash = a.activityHash;
    if (a.activityAt !== watch.lastActivityAt) patch.lastActivityAt = a.activityAt;
    if (a.asks.length) patch.asked = asked;
    if (a.stall) patch.stallNoticed = true;
    else if (watch.stallNoticed && a.activityAt > watch.lastActivityAt) patch.stallNoticed = false;
    store.update(name, patch);
    // A hand-made watch of an idle name has no run to show; one started by `send` shows its run from the start.
    const live = runCards.live(name);
    if (a.finished ? live : live || watch.promptId !== undefined || observation.state !== 'idle') drawCard();
  }

  function askReply(record: NameRecord, watch: Watch, ask: Assessment['asks'][number]): Reply {
    const name = record.name;
    const sender = watch.sender ?? record.owner;
    const offeredTo = { id: sender };
    if (ask.kind === 'permission') {
      const { prompt, note } = permissionAsk(name, ask.request, sender);
      const block = deps.choices
        ? deps.choices.offer(offeredTo, record.origin, prompt, [
            { label: 'Approve once', command: `approve ${name} once`, style: 'primary' },
            { label: 'Always', command: `approve ${name} always` },
            { label: 'Deny', command: `deny ${name}`, style: 'danger' },
          ], `answer the permission requests of ${name}`)
        : text(prompt);
      return reply([block, text(note)], { tone: 'warning' });
    }
    const { prompt, note } = questionAsk(name, ask.request);
    const options = ask.request.questions[0]?.options ?? [];
    const block =
      deps.choices && options.length && ask.request.questions.length === 1
        ? deps.choices.offer(
            offeredTo,
            record.origin,
            prompt,
            options.map((o) => ({ label: o.label, ...(o.description ? { description: o.description } : {}), command: `answer ${name} ${o.label}` })),
            `answer the questions of ${name}`,
          )
        : text(prompt);
    return reply([block, text(note)], { tone: 'warning' });
  }

  async function checkMany(names: readonly string[], reason: CheckReason): Promise<void> {
    const group = new Map<string, Promise<GroupData>>();
    await Promise.all(names.map((name) => request(name, reason, group)));
  }

  function isDue(watch: Watch, now: number): boolean {
    const interval = parseInterval(watch.interval);
    if (interval.kind === 'every') return watch.nextTickAt <= now;
    return cronMatches(interval.expression, new Date(now));
  }

  function nextTickAt(intervalText: string, now: number): number {
    const interval = parseInterval(intervalText);
    return interval.kind === 'every' ? now + interval.ms : now + 1_000;
  }

  const info = (name: string): WatchInfo | undefined => {
    const watch = store.get(name);
    if (!watch) return undefined;
    return {
      name,
      interval: watch.interval,
      ...(watch.promptId !== undefined ? { promptId: watch.promptId } : {}),
      ...(watch.sender !== undefined ? { sender: watch.sender } : {}),
    };
  };

  async function tick(): Promise<void> {
    runCards.refresh();
    const now = clock.now();
    const watches = store.all();
    // Another process (the `switchboard` CLI) may have added or removed watches in the same database.
    if (watches.length !== known.size || watches.some((w) => !known.has(w.name))) rebuild();
    const due = watches.filter((watch) => isDue(watch, now));
    for (const watch of due) store.update(watch.name, { nextTickAt: nextTickAt(watch.interval, now) });
    // Not awaited: one slow server must not hold back the ticks of every other name (each name still
    // has at most one check running).
    if (due.length) void checkMany(due.map((w) => w.name), 'tick');
  }

  return {
    watch(watchRequest: WatchRequest) {
      const interval = parseInterval(watchRequest.interval ?? config.monitor.interval);
      const now = clock.now();
      const stored = store.put({
        name: watchRequest.name,
        interval: interval.text,
        ...(watchRequest.promptId !== undefined ? { promptId: watchRequest.promptId } : {}),
        ...(watchRequest.sender !== undefined ? { sender: watchRequest.sender } : {}),
        ...(watchRequest.since !== undefined ? { since: watchRequest.since } : {}),
        firstTickAt: nextTickAt(interval.text, now),
      });
      if (watchRequest.promptId !== undefined && !stopped) {
        // After the command's own reply (the prompt's echo), which is queued when this call has returned.
        setTimeout(() => {
          const opened = registry.get(watchRequest.name);
          if (opened && !stopped && store.get(watchRequest.name)?.promptId === watchRequest.promptId) runCards.open(opened, stored, watchRequest.since ?? now);
        }, 0).unref();
      }
      const mem = memoryOf(watchRequest.name);
      mem.idleStreak = 0;
      delete mem.sessionError;
      indexWatch(watchRequest.name);
      syncStreams();
      // The watch needs the stream now: the hold taken while its prompt was sent has done its job.
      hub.release(watchRequest.name);
      // Events between the prompt being sent and this watch (a permission ask, even the end of a quick turn)
      // reached the stream but were not routed to this name yet: look now, and a few times early on.
      if (!stopped) requestSettled(watchRequest.name, 'reconcile');
      return info(watchRequest.name)!;
    },
    unwatch(name) {
      const removed = store.remove(name);
      runCards.leave(name, 'no longer watched: `watch` follows it again');
      unindex(name);
      return removed;
    },
    watching: info,
    async prepare(name) {
      const record = registry.get(name);
      const found = record && opencodeOf(record);
      // A one-shot CLI process streams nothing: the running bot notices its watch and reconciles by polling.
      if (!found || stopped || deps.streams === false) return;
      await hub.hold(name, found.server, deps.streamReadyMs ?? 10_000);
    },
    async start() {
      stopped = false;
      rebuild();
      // Whatever finished while Switchboard was down is reported now, once.
      await checkMany(store.all().map((w) => w.name), 'reconcile');
    },
    async stop() {
      stopped = true;
      hub.stop();
      await Promise.allSettled([...running.values()]);
    },
    tick,
    async checkNow(names, reason = 'reconcile') {
      await checkMany(names ?? store.all().map((w) => w.name), reason);
    },
    peakInFlight: () => limiter.peak(),
  };
}
