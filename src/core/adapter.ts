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
}

export interface DeliveryResult {
  messageId?: string;
  /** Set when the adapter opened a thread for `threadKey`; later messages about the name go there. */
  threadId?: string;
}

/** Thrown by adapters. `retryAfterMs` honours the platform's Retry-After; `permanent` stops retrying. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  readonly retryAfterMs?: number;
  readonly permanent: boolean;

  constructor(message: string, options: { retryAfterMs?: number; permanent?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    this.permanent = options.permanent ?? false;
  }
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
  /** Resolves when the adapter stops on its own (the console at end of input). */
  readonly finished?: Promise<void>;
}
