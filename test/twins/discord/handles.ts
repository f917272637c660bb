import type { APIApplicationCommandOptionChoice } from 'discord-api-types/v10';
import type { InteractionService } from './domain/interactions.js';
import type { MessageContext } from './payloads/messages.js';
import { interactionSnapshot, messageSnapshot, type TwinInteractionState, type TwinMessage } from './snapshots.js';
import { truncate, type ChangeSignal, type WaitOptions } from './waiting.js';
import type { CallbackRecord, InteractionRecord } from './world.js';

/**
 * What `slash()`, `clickButton()` and `autocomplete()` return: a live handle on one interaction, with waits for
 * the things a user would notice (an acknowledgement, the reply, follow-ups, autocomplete choices).
 */

export class InteractionFailedError extends Error {
  override name = 'InteractionFailedError';
}

export interface HandleDeps {
  ctx: MessageContext;
  signal: ChangeSignal;
  interactions: InteractionService;
}

export interface ReplyWaitOptions extends WaitOptions {
  /** Keep waiting until the reply also satisfies this (e.g. a later edit). */
  predicate?: (message: TwinMessage) => boolean;
}

export interface FollowUpWaitOptions extends ReplyWaitOptions {
  /** Which follow-up, in order of creation (default 0). */
  index?: number;
}

export class TwinInteraction {
  constructor(
    protected readonly deps: HandleDeps,
    protected readonly record: InteractionRecord,
  ) {}

  get id(): string {
    return this.record.id;
  }

  get token(): string {
    return this.record.token;
  }

  /** A copy of the interaction's state right now: callbacks, acknowledgement, reply and follow-up ids. */
  state(): TwinInteractionState {
    return interactionSnapshot(this.record, this.deps.interactions.isExpired(this.record));
  }

  /** The original response as the user sees it now, if there is one. */
  reply(): TwinMessage | undefined {
    const message = this.deps.ctx.world.messages.get(this.record.originalMessageId ?? '');
    return message ? messageSnapshot(this.deps.ctx, message) : undefined;
  }

  followUps(): TwinMessage[] {
    return this.record.followUpIds.flatMap((id) => {
      const message = this.deps.ctx.world.messages.get(id);
      return message ? [messageSnapshot(this.deps.ctx, message)] : [];
    });
  }

  /**
   * Resolves once the window for the first callback has closed (the twin's `interactionDeadlineMs`), so a test
   * can let a bot act "too late" without sleeping a guessed amount.
   */
  waitForDeadline(options: WaitOptions = {}): Promise<void> {
    return this.deps.signal.waitUntil(() => (this.deps.interactions.isPastDeadline(this.record) ? (true as const) : undefined), {
      timeoutMs: options.timeoutMs,
      describeTimeout: (ms) => `Timed out after ${ms} ms waiting for the deadline of ${this.label()}`,
    }).then(() => undefined);
  }

  /** Resolves with the first accepted callback (defer, reply, update …). */
  waitForAck(options: WaitOptions = {}): Promise<CallbackRecord> {
    return this.deps.signal.waitUntil(
      () => {
        const accepted = this.record.callbacks.find((c) => c.status >= 200 && c.status < 300);
        if (accepted) return structuredClone(accepted);
        this.failIfUnanswerable();
        return undefined;
      },
      { timeoutMs: options.timeoutMs, describeTimeout: (ms) => this.describe(`an acknowledgement`, ms) },
    );
  }

  /**
   * Resolves with what the user finally sees as the answer: the reply (type 4), the updated message (type 7), or
   * a deferred reply once it was edited or filled by the first follow-up. Fails at once if the bot missed the
   * deadline, like the "The application did not respond" a user would see.
   */
  waitForReply(options: ReplyWaitOptions = {}): Promise<TwinMessage> {
    return this.deps.signal.waitUntil(
      () => {
        const message = this.deps.ctx.world.messages.get(this.record.originalMessageId ?? '');
        if (message && (this.record.answered || this.editedAfterDeferredUpdate(message.editedAt))) {
          if (message.deleted) throw new InteractionFailedError(`${this.label()}: the reply was deleted`);
          const snapshot = messageSnapshot(this.deps.ctx, message);
          if (!options.predicate || options.predicate(snapshot)) return snapshot;
        }
        if (this.record.modal !== null) throw new InteractionFailedError(`${this.label()}: the bot answered with a modal, not a message`);
        this.failIfUnanswerable();
        return undefined;
      },
      { timeoutMs: options.timeoutMs, describeTimeout: (ms) => this.describe('a reply', ms) },
    );
  }

  waitForFollowUp(options: FollowUpWaitOptions = {}): Promise<TwinMessage> {
    const index = options.index ?? 0;
    return this.deps.signal.waitUntil(
      () => {
        const message = this.deps.ctx.world.messages.get(this.record.followUpIds[index] ?? '');
        if (message) {
          const snapshot = messageSnapshot(this.deps.ctx, message);
          if (!options.predicate || options.predicate(snapshot)) return snapshot;
        }
        this.failIfUnanswerable();
        return undefined;
      },
      { timeoutMs: options.timeoutMs, describeTimeout: (ms) => this.describe(`follow-up #${index}`, ms) },
    );
  }

  /** After deferUpdate (type 6) the bot may edit the message through the channel route instead of @original. */
  private editedAfterDeferredUpdate(editedAt: number | null): boolean {
    const ack = this.record.callbacks.find((c) => c.status >= 200 && c.status < 300);
    return ack?.type === 6 && editedAt !== null && editedAt >= ack.at;
  }

  protected failIfUnanswerable(): void {
    if (this.record.acknowledged) return;
    const late = this.record.callbacks.find((c) => c.errorCode === 10062);
    if (late || this.deps.interactions.isExpired(this.record)) {
      throw new InteractionFailedError(
        `${this.label()}: the bot did not acknowledge in time; the user sees "The application did not respond". ${this.callbackSummary()}`,
      );
    }
  }

  protected label(): string {
    return `Interaction ${this.record.id} (${this.record.kind} ${this.record.summary})`;
  }

  protected callbackSummary(): string {
    if (this.record.callbacks.length === 0) return 'No callbacks arrived.';
    return `Callbacks: ${this.record.callbacks.map((c) => `type ${c.type} → ${c.status}${c.errorCode !== null ? ` (code ${c.errorCode})` : ''}`).join(', ')}.`;
  }

  protected describe(what: string, timeoutMs: number): string {
    const original = this.deps.ctx.world.messages.get(this.record.originalMessageId ?? '');
    const state = original
      ? `Original response: ${original.loading ? 'still "thinking…"' : JSON.stringify(truncate(original.content))}${original.deleted ? ' (deleted)' : ''}.`
      : 'No original response.';
    return `Timed out after ${timeoutMs} ms waiting for ${what} to ${this.label()}. ${this.callbackSummary()} ${state} Follow-ups: ${this.record.followUpIds.length}.`;
  }
}

export class TwinAutocomplete extends TwinInteraction {
  /** The choices the bot answered with (callback type 8). */
  waitForChoices(options: WaitOptions = {}): Promise<APIApplicationCommandOptionChoice[]> {
    return this.deps.signal.waitUntil(
      () => {
        if (this.record.choices) return structuredClone(this.record.choices);
        this.failIfUnanswerable();
        return undefined;
      },
      { timeoutMs: options.timeoutMs, describeTimeout: (ms) => this.describe('autocomplete choices', ms) },
    );
  }
}
