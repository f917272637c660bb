import type { Origin } from '../core/origin.js';
import type { Reply } from '../core/reply.js';
import type { CardState } from '../monitor/card.js';

/**
 * The seam between what a run looks like (the monitor and the task relay render a card) and how it reaches a
 * channel (one message per run, posted once and then edited in place through the outbox). Producers call
 * `update` as often as they like: only the newest state of a card is kept, edits are coalesced and
 * rate-limited per card and per channel, and the final state is always written.
 */
export interface CardUpdate {
  /** Stable for one run (for example `kumo#<run id>`): the same key edits the same message, across restarts. */
  key: string;
  origin: Origin;
  /** The name the run belongs to, so the card lands in that name's thread. */
  threadKey?: string;
  /** Whose command started the run. */
  actor?: string;
  reply: Reply;
  /** The run is over: this state is written last and later updates of the key are ignored. */
  final?: boolean;
  /** The state the reply was drawn from, for listeners that show it another way (the fleet page); never posted. */
  state?: CardState;
}

export interface CardSink {
  update(card: CardUpdate): void;
}
