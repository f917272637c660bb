import type { Logger } from '../core/logger.js';
import type { OpencodeClient } from '../opencode/client.js';
import { finalOutput } from '../opencode/turns.js';
import type { NameRecord } from '../sessions/registry.js';
import type { Assessment, Observation } from './assess.js';
import type { CardState } from './card.js';
import { lastOpencodeTool, opencodeModel, opencodeUsage } from './card-facts.js';
import { createRunCards, type CardTarget, type RunCardsDeps } from './card-runs.js';
import { formatDuration } from '../core/format.js';
import { failureOf } from './reports.js';
import type { Watch } from './watch-store.js';

/** The card key of a watch's run: its prompt when `send` started it, else the watch itself (both persisted). */
export function opencodeCardKey(watch: Pick<Watch, 'name' | 'promptId' | 'createdAt'>): string {
  return watch.promptId !== undefined ? `${watch.name}#p${watch.promptId}` : `${watch.name}#w${watch.createdAt}`;
}

export interface OpencodeCardInput {
  name: string;
  observation: Observation;
  assessment: Assessment;
  /** When the run began: the prompt's send time, or when the watch began. */
  startedAt: number;
  now: number;
  /** The stall watchdog noticed a quiet spell that has not ended. */
  stalled: boolean;
  contextLimit?: number;
}

/** What one look at a session says about its run, as a card. Pure. */
export function opencodeCardState(input: OpencodeCardInput): CardState {
  const { observation, assessment } = input;
  const turn = assessment.turn;
  const assistant = turn?.assistant ?? [];
  const usage = opencodeUsage(assistant, input.contextLimit);
  const base = { name: input.name, startedAt: input.startedAt, todos: observation.todos, ...(usage ? { usage } : {}) };
  const finished = assessment.finished;
  if (finished) {
    const problem = finished.problem ?? (finished.ok ? undefined : failureOf(finished.error, finished.finish));
    return {
      ...base,
      phase: finished.ok ? 'finished' : 'failed',
      endedAt: finished.elapsedMs !== undefined ? input.startedAt + finished.elapsedMs : input.now,
      ...(problem ? { detail: problem } : {}),
    };
  }
  const tool = lastOpencodeTool(assistant);
  const text = turn ? finalOutput(turn) : undefined;
  const live = { ...base, ...(tool ? { tool } : {}), ...(text ? { text } : {}) };
  if (observation.permissions.length) return { ...live, phase: 'approval' };
  if (observation.questions.length) return { ...live, phase: 'question' };
  if (observation.state === 'retry') return { ...live, phase: 'retrying', detail: observation.retryMessage ?? 'the provider asked to try again' };
  if (input.stalled) return { ...live, phase: 'stalled', detail: `no activity for ${formatDuration(input.now - assessment.activityAt)}` };
  return { ...live, phase: 'working' };
}

/**
 * Context limits per server and model, from `GET /config/providers` (`limit.context`), read once per server
 * and kept: a check never waits for it, so the first card of a server may lack its context %.
 */
export function createContextLimits(logger: Logger, ttlMs = 3_600_000) {
  const byServer = new Map<string, { at: number; limits?: Map<string, number> }>();
  return {
    limitFor(serverKey: string, client: OpencodeClient, assistant: Parameters<typeof opencodeModel>[0], now: number): number | undefined {
      const model = opencodeModel(assistant);
      const entry = byServer.get(serverKey);
      if (!entry || now - entry.at >= ttlMs) {
        const next = { at: now, ...(entry?.limits ? { limits: entry.limits } : {}) };
        byServer.set(serverKey, next);
        client
          .providers()
          .then(({ providers }) => {
            const limits = new Map<string, number>();
            for (const provider of providers) {
              for (const [id, m] of Object.entries(provider.models)) {
                if (m.limit?.context) limits.set(`${provider.id}/${id}`, m.limit.context);
              }
            }
            next.limits = limits;
          })
          .catch((error: unknown) => logger.debug('monitor: no model limits', { server: serverKey, error: String(error) }));
      }
      return model ? byServer.get(serverKey)?.limits?.get(`${model.providerID}/${model.modelID}`) : undefined;
    },
  };
}

/** Where a name's cards go: its channel, in its thread, for whoever sent the prompt. */
export function cardTarget(record: NameRecord, watch: Watch): CardTarget {
  const actor = watch.sender ?? record.owner;
  return { key: opencodeCardKey(watch), origin: record.origin, threadKey: record.name, ...(actor ? { actor } : {}) };
}

export interface OpencodeCardsDeps extends RunCardsDeps {
  logger: Logger;
}

/** The monitor's cards: one per watched run of an OpenCode session. */
export function createOpencodeCards(deps: OpencodeCardsDeps) {
  const { clock } = deps;
  const cards = createRunCards(deps);
  const contextLimits = createContextLimits(deps.logger);

  return {
    /** The card of a watch's run from one observation (final when the run is over); not drawn yet. */
    stateOf(input: Omit<OpencodeCardInput, 'now' | 'stalled' | 'contextLimit'> & { watch: Watch; serverKey: string; client: OpencodeClient }): CardState {
      const now = clock.now();
      const { watch, assessment: a } = input;
      const contextLimit = a.turn ? contextLimits.limitFor(input.serverKey, input.client, a.turn.assistant, now) : undefined;
      return opencodeCardState({
        ...input,
        now,
        // The watchdog's notice holds until the session shows activity again.
        stalled: a.stall || (watch.stallNoticed && a.activityAt <= watch.lastActivityAt),
        ...(contextLimit ? { contextLimit } : {}),
      });
    },
    draw(record: NameRecord, watch: Watch, state: CardState): void {
      cards.show(cardTarget(record, watch), state);
    },
    /**
     * A prompt was sent: its card appears at once, before the first look at the session. A live card of an
     * earlier run of the name ends here, since its watch was replaced and nobody will report that run.
     */
    open(record: NameRecord, watch: Watch, startedAt: number): void {
      const target = cardTarget(record, watch);
      const earlier = cards.get(record.name);
      // A first look at the session may have drawn this run already, with more than an empty card would say.
      if (earlier?.target.key === target.key) return;
      if (earlier) {
        const by = watch.sender ? ` from ${watch.sender}` : '';
        cards.show(earlier.target, { ...earlier.state, phase: 'failed', endedAt: clock.now(), detail: `interrupted by a new prompt${by}` });
      }
      cards.show(target, { name: record.name, phase: 'working', startedAt, todos: [] });
    },
    /** A run that ends with no observation to draw (its session is gone): the card says why. */
    end(name: string, why: string): void {
      const live = cards.get(name);
      if (live) cards.show(live.target, { ...live.state, phase: 'failed', endedAt: clock.now(), detail: why });
    },
    /** Nobody follows the run any more: the card says so once and is no longer drawn (the run may go on). */
    leave(name: string, why: string): void {
      const live = cards.get(name);
      if (!live) return;
      cards.show(live.target, { ...live.state, detail: why });
      cards.drop(name);
    },
    live: (name: string) => cards.get(name) !== undefined,
    refresh: cards.refresh,
  };
}
