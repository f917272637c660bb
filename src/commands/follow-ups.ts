import type { Logger } from '../core/logger.js';
import { reply, type Reply } from '../core/reply.js';
import { SwitchboardError, type ErrorCode } from '../errors.js';
import { isFinal } from '../executors/index.js';
import type { Message } from '../opencode/schemas.js';
import type { PromptQueue, QueuedPrompt } from '../sessions/prompt-queue.js';
import { promptDigest, type NameRecord } from '../sessions/registry.js';
import type { Services } from './context.js';
import { postPrompt, recordPrompt, startRun } from './deliver.js';
import { opencodeName } from './targets.js';

export interface FollowUpsDeps {
  queue: PromptQueue;
  logger: Logger;
  /** Timers are injected: tests run a retry by hand. */
  setTimer?: (run: () => void, ms: number) => void;
  /** How long after a failed send it is tried again. */
  retryMs?: number;
}

export type FollowUps = ReturnType<typeof createFollowUps>;

/** Failures that may pass (a server or host away, a task still finishing): the send is tried again later. */
const TRANSIENT = new Set<ErrorCode>(['unreachable', 'timeout', 'auth_failed', 'not_opencode', 'executor_unreachable', 'task_busy', 'rate_limited']);

/** How far the server's clock may lag ours when we look for a prompt it may already have. */
const CLOCK_SKEW_MS = 5_000;

const defaultTimer = (run: () => void, ms: number) => {
  setTimeout(run, ms).unref();
};

/** `dropped 3 queued prompts (bob, carol ×2)`, or nothing when none were dropped. */
export function droppedNote(entries: readonly QueuedPrompt[]): string {
  if (entries.length === 0) return '';
  return `dropped ${entries.length} queued prompt${entries.length === 1 ? '' : 's'} (${whoQueued(entries)})`;
}

/** Who queued these prompts, for a message: `bob, carol ×2`. */
function whoQueued(entries: readonly QueuedPrompt[]): string {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    const who = entry.actorName ?? entry.actor;
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  return [...counts].map(([who, n]) => (n > 1 ? `${who} ×${n}` : who)).join(', ');
}

function hasUserPrompt(messages: readonly Message[], digest: string, since: number): boolean {
  return messages.some(
    (m) =>
      m.info.role === 'user' &&
      m.info.time.created >= since - CLOCK_SKEW_MS &&
      m.parts.some((p) => p.type === 'text' && typeof p.text === 'string' && promptDigest(p.text) === digest),
  );
}

/**
 * Follow-ups while a name is busy. OpenCode folds a prompt sent to a busy session into the running loop (one
 * reply for both, the first answer never reported), so a prompt for a busy name waits here instead and is
 * sent when the current run has ended and its final output is posted: in order, each its own run.
 */
export function createFollowUps(deps: FollowUpsDeps) {
  const { queue, logger } = deps;
  const setTimer = deps.setTimer ?? defaultTimer;
  const retryMs = deps.retryMs ?? 30_000;
  let services: Services | undefined;
  /** Names with a send under way in this process: a second `send` meanwhile must queue, not race it. */
  const sending = new Set<string>();
  /** Queue rows whose failed send was already reported: retries stay quiet. */
  const warned = new Set<number>();
  /** One pump per name at a time. */
  const pumps = new Map<string, Promise<void>>();
  let starting: Promise<void> = Promise.resolve();

  const need = (): Services => {
    if (!services) throw new SwitchboardError('internal', 'follow-ups used before the services were attached');
    return services;
  };

  function notify(record: NameRecord, message: Reply): void {
    need().notify(record.origin, message, record.name);
  }

  /** A run of this name is in progress: an OpenCode prompt still watched, or a task not finished. */
  function runInProgress(record: NameRecord): boolean {
    const s = need();
    if (record.target.kind === 'task') {
      const task = s.fleet.get(record.name);
      return task !== null && !isFinal(task.status);
    }
    return s.monitor.watching(record.name)?.promptId !== undefined;
  }

  /** A new prompt must wait: a run is in progress, being sent, or others already wait (order is kept). */
  function mustWait(record: NameRecord): boolean {
    return sending.has(record.name) || runInProgress(record) || queue.all(record.name).length > 0;
  }

  /** Sends the next queued prompt of `name` if nothing is running; one pump per name at a time. */
  function pump(name: string): Promise<void> {
    const previous = pumps.get(name) ?? Promise.resolve();
    const next = previous
      .then(() => pumpOnce(name))
      .catch((error: unknown) => logger.error('follow-ups: pump failed', { name, error: String(error) }))
      .finally(() => {
        if (pumps.get(name) === next) pumps.delete(name);
      });
    pumps.set(name, next);
    return next;
  }

  async function pumpOnce(name: string): Promise<void> {
    const s = need();
    const record = s.registry.get(name);
    if (!record) {
      const dropped = queue.drop(name);
      if (dropped.length) logger.warn('follow-ups: name forgotten; queued prompts dropped', { name, dropped: dropped.length });
      return;
    }
    // A row left `sending` is settled first (by its own retry); nothing overtakes it.
    if (sending.has(name) || runInProgress(record) || queue.all(name).some((e) => e.state === 'sending')) return;
    const next = queue.queued(name)[0];
    if (!next) return;
    if (await foreignRun(record)) {
      waitForForeign(name);
      return;
    }
    // Asked again after that await: a `send` may have started a run meanwhile.
    if (sending.has(name) || runInProgress(record)) return;
    await dispatch(record, next);
  }

  /** Someone else's turn is running: a watch reports its end (its final output too), and that end pumps again. */
  function waitForForeign(name: string): void {
    const s = need();
    if (!s.monitor.watching(name)) s.monitor.watch({ name });
  }

  /** The OpenCode session is running a turn we did not start: a prompt now would be folded into it. */
  async function foreignRun(record: NameRecord): Promise<boolean> {
    if (record.target.kind !== 'opencode' || runInProgress(record)) return false;
    const target = opencodeName({ services: need() }, record, 'send');
    try {
      const type = (await target.client.status(target.target.directory))[target.target.sessionId]?.type;
      return type === 'busy' || type === 'retry';
    } catch {
      // An unreachable server refuses the send itself, with its own message.
      return false;
    }
  }

  async function dispatch(record: NameRecord, entry: QueuedPrompt): Promise<void> {
    const s = need();
    sending.add(record.name);
    let taken = false;
    try {
      // Why these three steps: the row turns `sending` in the same transaction that records the prompt and its
      // baseline (id, digest of the exact text, time sent). A crash before the server answered leaves a
      // `sending` row that start-up settles by looking for that prompt in the session after that time: there →
      // follow it, absent → send it. So a queued prompt is neither lost nor sent twice. The watch starts only
      // once the server has the prompt: a watch started earlier can take the previous run's turn, which ended
      // moments before, for this prompt's (seen against the real server) and end before this run begins.
      const promptId = queue.transaction(() => {
        const id = recordPrompt(s, record, entry);
        if (queue.markSending(entry.id, id)) return id;
        // Another process (the CLI, sharing the database) took the row first: it sends it, not us. The
        // transaction is rolled back, prompt record and all.
        taken = true;
        throw new SwitchboardError('internal', `queued prompt ${entry.id} was taken by another process`);
      });
      const left = queue.queued(record.name).length;
      notify(
        record,
        reply(`▶️ **${record.name}**: running the prompt ${entry.actorName ?? entry.actor} queued${left ? ` (${left} more queued)` : ''}`),
      );
      await send(record, entry);
      follow(record, { ...entry, promptId });
      logger.info('follow-ups: queued prompt sent', { name: record.name, promptId });
    } catch (error) {
      if (!taken) failed(record, entry, error);
    } finally {
      sending.delete(record.name);
    }
  }

  /** The server has the prompt: watch its run and forget the row, in one step. */
  function follow(record: NameRecord, entry: QueuedPrompt & { promptId: number }): void {
    const s = need();
    const sentAt = s.registry.prompt(entry.promptId)?.sentAt ?? s.clock.now();
    queue.transaction(() => {
      startRun(s, record, entry, entry.promptId, sentAt);
      queue.remove(entry.id);
    });
    warned.delete(entry.id);
  }

  async function send(record: NameRecord, entry: Pick<QueuedPrompt, 'text' | 'agent'>): Promise<void> {
    const s = need();
    if (record.target.kind === 'task') await s.fleet.send(record.name, entry.text);
    else await postPrompt(s, record, entry);
  }

  function failed(record: NameRecord, entry: QueuedPrompt, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SwitchboardError && error.code === 'session_gone') {
      queue.remove(entry.id);
      const dropped = [entry, ...queue.drop(record.name)];
      notify(record, reply(`❌ ${message}; ${droppedNote(dropped)}`, { tone: 'error' }));
      return;
    }
    if (!(error instanceof SwitchboardError && TRANSIENT.has(error.code))) {
      // Refused for what it is (a bad agent, a task that cannot take follow-ups): trying again changes nothing.
      queue.remove(entry.id);
      warned.delete(entry.id);
      notify(record, reply(`❌ the prompt ${entry.actorName ?? entry.actor} queued for **${record.name}** was refused (${message}); it was dropped`, { tone: 'error' }));
      void pump(record.name);
      return;
    }
    logger.warn('follow-ups: a queued prompt could not be sent yet', { name: record.name, error: message });
    setTimer(() => void settleOne(entry.id), retryMs);
    if (warned.has(entry.id)) return;
    warned.add(entry.id);
    notify(
      record,
      reply(`⚠️ could not send the prompt ${entry.actorName ?? entry.actor} queued for **${record.name}** yet (${message}); trying again`, { tone: 'warning' }),
    );
  }

  /**
   * A `sending` row: did the server get the prompt? Yes → the run is already watched, drop the row. No → send
   * it now. Unreachable → try again later.
   */
  async function settleOne(id: number): Promise<void> {
    const s = need();
    const entry = queue.sending().find((e) => e.id === id);
    if (!entry) return;
    const record = s.registry.get(entry.name);
    const prompt = entry.promptId !== undefined ? s.registry.prompt(entry.promptId) : undefined;
    if (!record || !prompt || entry.promptId === undefined) {
      queue.remove(entry.id);
      return;
    }
    sending.add(record.name);
    try {
      if (!(await arrived(record, prompt.digest, prompt.sentAt))) await send(record, entry);
      follow(record, { ...entry, promptId: entry.promptId });
    } catch (error) {
      failed(record, entry, error);
      return;
    } finally {
      sending.delete(record.name);
    }
    void pump(record.name);
  }

  async function arrived(record: NameRecord, digest: string, sentAt: number): Promise<boolean> {
    const s = need();
    if (record.target.kind === 'task') {
      const task = s.fleet.get(record.name);
      return task !== null && (!isFinal(task.status) || (task.finishedAt ?? 0) >= sentAt);
    }
    const target = opencodeName({ services: s }, record, 'send');
    return hasUserPrompt(await target.client.messages(target.target.sessionId, { limit: 30 }), digest, sentAt);
  }

  return {
    attachServices(value: Services): void {
      services = value;
    },
    mustWait,
    runInProgress,
    foreignRun,
    waitForForeign,
    /** Reserves the name for a direct send, so a second `send` arriving meanwhile queues behind it. */
    async exclusive<T>(name: string, run: () => Promise<T>): Promise<T> {
      sending.add(name);
      try {
        return await run();
      } finally {
        sending.delete(name);
        // Someone may have queued behind this send and found nothing running when it failed.
        if (queue.all(name).length) void pump(name);
      }
    },
    /** Queues a prompt; with `interrupt` it goes ahead of the others. Starts it at once if the name is free. */
    enqueue(entry: Parameters<PromptQueue['add']>[0]): { entry: QueuedPrompt; position: number } {
      const added = queue.add(entry);
      void pump(entry.name);
      return added;
    },
    /** The run of `name` has ended and its final output is posted: the next prompt may go. */
    runEnded(name: string, _promptId?: number): void {
      void pump(name);
    },
    /**
     * At start-up, after the monitor reported what finished meanwhile: settle half-sent rows, start idle names.
     * Not awaited by the caller's start: a server that is away must not hold up the bot (a pump never
     * overtakes a row still `sending`, so the order holds); `idle()` waits for it.
     */
    async start(): Promise<void> {
      starting = (async () => {
        for (const entry of queue.sending()) await settleOne(entry.id);
        await Promise.all(queue.names().map((name) => pump(name)));
      })().catch((error: unknown) => logger.error('follow-ups: start-up settling failed', { error: String(error) }));
    },
    /** Takes back one queued prompt (its `send --now` could not stop the current run). */
    cancel: (id: number) => queue.remove(id),
    /** Drops every prompt waiting for `name`. */
    drop: (name: string) => queue.drop(name),
    /** `⏳ 2 prompts queued (bob, carol)` for `status`, or nothing when none wait. */
    queuedNote(name: string): string | undefined {
      const waiting = queue.queued(name);
      if (waiting.length === 0) return undefined;
      return `⏳ ${waiting.length} prompt${waiting.length === 1 ? '' : 's'} queued (${whoQueued(waiting)})`;
    },
    /** For the card: who queued what, in the order it will run. */
    queuedFor(name: string): { actor: string; position: number }[] {
      return queue.queued(name).map((e, i) => ({ actor: e.actorName ?? e.actor, position: i + 1 }));
    },
    recordInterrupt: queue.recordInterrupt,
    clearInterrupt: queue.clearInterrupt,
    /** Who interrupted the run of `promptId` with `send --now`, for its final state. */
    interruptedBy: queue.interruptedBy,
    /** Resolves when start-up settling and every pump have run (tests). */
    async idle(): Promise<void> {
      await starting;
      while (pumps.size) await Promise.all([...pumps.values()]);
    },
  };
}
