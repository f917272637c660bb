import type { Origin } from './origin.js';
import type { Reply } from './reply.js';

/** One message on its way out, as the outbox hands it to an adapter. */
export interface OutgoingMessage {
  id: number;
  origin: Origin;
  reply: Reply;
  /** The actor whose command caused this message, for attribution ("requested by …"). */
  actor?: string;
  /** The name this message is about; with per-name threads, it lands in that name's thread. */
  threadKey?: string;
  /** This message starts the name's thread when there is none yet (the prompt echo). */
  opensThread?: boolean;
  /** Only this actor should see it: an ephemeral message where the platform has them (refusals, errors). */
  privateTo?: string;
  /** On an edit of a live card: this is the card's last state (the console keeps it in the scrollback). */
  final?: boolean;
  /**
   * An earlier attempt began and the bot stopped before it was known to be sent: some of it may already be in
   * the channel. Adapters render `replyToShow(message)`, which says so, so a reader can tell a cut copy from a second message.
   */
  repeat?: boolean;
  /**
   * Stable across attempts and restarts for this message, and unique to it: an adapter whose platform drops a
   * repeated create carrying the same key (Discord's `nonce` with `enforce_nonce`) posts it exactly once.
   */
  deliveryKey?: string;
}

/** What an adapter shows above a message delivered again after a crash cut an attempt short. */
export const REPEAT_NOTICE = '(repeated: the bot stopped while writing this)';

/** The reply an adapter renders for a message: with `REPEAT_NOTICE` on top when it is a repeat. */
export function replyToShow(message: Pick<OutgoingMessage, 'reply' | 'repeat'>): Reply {
  return message.repeat ? { ...message.reply, blocks: [{ type: 'text', text: REPEAT_NOTICE }, ...message.reply.blocks] } : message.reply;
}

export interface DeliveryResult {
  messageId?: string;
  /** Set when the adapter opened a thread for `threadKey`; later messages about the name go there. */
  threadId?: string;
}

/**
 * Stable reasons a delivery failed: `rate_limited` (wait `retryAfterMs`), `message_gone` (the message an edit
 * targets was deleted in chat: the caller may post a fresh one), `rejected` (permanent), `failed` (retry later).
 */
export type DeliveryErrorCode = 'rate_limited' | 'message_gone' | 'rejected' | 'failed';

/** Thrown by adapters. `retryAfterMs` honours the platform's Retry-After; `permanent` stops retrying. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  readonly retryAfterMs?: number;
  readonly permanent: boolean;
  readonly code: DeliveryErrorCode;

  constructor(
    message: string,
    options: { retryAfterMs?: number; permanent?: boolean; messageGone?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    // A message that is gone cannot be edited by any retry.
    this.permanent = (options.permanent ?? false) || options.messageGone === true;
    this.code = options.messageGone
      ? 'message_gone'
      : options.retryAfterMs !== undefined
        ? 'rate_limited'
        : this.permanent
          ? 'rejected'
          : 'failed';
  }
}

/**
 * How many card edits a platform accepts, and over what: one channel (Discord's per-channel message bucket) or
 * the whole adapter (Slack's chat.update tier is counted per workspace). The card layer stays under it.
 */
export interface EditBudget {
  edits: number;
  perMs: number;
  scope: 'channel' | 'adapter';
}

/**
 * A chat platform, as the core sees it. Inbound events become calls to the core's `execute`/`press`;
 * outbound messages arrive through `deliver`, in order per channel.
 */
export interface Adapter {
  readonly name: string;
  /** Smallest spacing between two messages to one channel (Slack: about one per second). */
  readonly minIntervalMs?: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  deliver(message: OutgoingMessage): Promise<DeliveryResult>;
  /** Whether the platform connection is up now, for `switchboard health`; an adapter without one is always up. */
  connected?(): boolean;
  /**
   * Replaces the message `messageId` (posted earlier by `deliver` for the same origin) with `message.reply`,
   * rendered as one message. Throws a DeliveryError with code `message_gone` when it was deleted in chat.
   * Adapters without it get no live cards edited: the first state stays.
   */
  edit?(message: OutgoingMessage, messageId: string): Promise<DeliveryResult>;
  /** The edit rate the platform documents, with headroom; the card layer keeps below it. */
  readonly editBudget?: EditBudget;
  /** Resolves when the adapter stops on its own (the console at end of input). */
  readonly finished?: Promise<void>;
}
