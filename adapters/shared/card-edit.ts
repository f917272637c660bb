import { DeliveryError, type DeliveryResult, type OutgoingMessage } from '../../src/core/adapter.js';
import type { Logger } from '../../src/core/logger.js';

/**
 * A card edit, the same on every platform: the reply is rendered as one message (a card that outgrew one message
 * keeps its first part; the card layer's producers keep cards short), sent as an edit of `messageId`, and a
 * "this message is gone" answer becomes DeliveryError `message_gone`, so the card layer posts a fresh card.
 * Each adapter supplies only its rendering, its API call and its reading of errors.
 */
export interface CardEditPort<Draft> {
  platform: string;
  logger: Logger;
  render(message: OutgoingMessage): Draft[];
  send(message: OutgoingMessage, messageId: string, draft: Draft): Promise<void>;
  /** The platform said the message (or the channel or thread holding it) no longer exists. */
  isGone(error: unknown): boolean;
  toDeliveryError(error: unknown, what: string): DeliveryError;
}

export function createCardEdit<Draft>(port: CardEditPort<Draft>) {
  return async function edit(message: OutgoingMessage, messageId: string): Promise<DeliveryResult> {
    const drafts = port.render(message);
    const draft = drafts[0];
    if (draft === undefined) throw new DeliveryError(`${port.platform} card ${message.id}: nothing to show`, { permanent: true });
    if (drafts.length > 1) port.logger.warn(`${port.platform}: a card needs more than one message; the edit shows the first`, { id: message.id, parts: drafts.length });
    try {
      await port.send(message, messageId, draft);
      return { messageId };
    } catch (error) {
      if (port.isGone(error)) {
        throw new DeliveryError(`${port.platform} card ${message.id}: the message was deleted`, { messageGone: true, cause: error });
      }
      throw port.toDeliveryError(error, `${port.platform} card ${message.id}`);
    }
  };
}
