import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { DeliveryError } from '../../src/core/adapter.js';

/**
 * What a failed REST call means for the outbox. @discordjs/rest already waits out short rate limits and retries
 * 5xx and network errors a few times; what reaches us is either a long rate limit (wait exactly that long, for
 * this channel only), a request Discord will never accept (permanent, so it cannot block the channel), or a
 * failure worth retrying with backoff.
 */

/** Discord JSON error codes that no retry can fix. */
const PERMANENT_CODES = new Set([
  10003, // Unknown channel
  10004, // Unknown guild
  10008, // Unknown message
  10015, // Unknown webhook (the interaction token is not ours or is gone)
  50001, // Missing access
  50005, // Cannot edit a message authored by another user
  50006, // Cannot send an empty message
  50007, // Cannot send messages to this user
  50008, // Cannot send messages in a non-text channel
  50013, // Missing permissions
  50027, // Invalid webhook token (an interaction token older than 15 minutes)
  50035, // Invalid form body (too long, bad components: our bug, and resending will not change it)
  40005, // Request entity too large
  160002, // Cannot reply without permission to read message history
  160005, // Thread is locked
  220003, // Maximum active threads
]);

/** Codes meaning "this interaction token can no longer be used": answer in the channel instead. */
const STALE_INTERACTION_CODES = new Set([10015, 50027, 10062]);

export function discordErrorCode(error: unknown): number | undefined {
  return error instanceof DiscordAPIError && typeof error.code === 'number' ? error.code : undefined;
}

export function isStaleInteraction(error: unknown): boolean {
  const code = discordErrorCode(error);
  return code !== undefined && STALE_INTERACTION_CODES.has(code);
}

export function toDeliveryError(error: unknown, what: string): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof RateLimitError) {
    return new DeliveryError(`${what}: rate limited by Discord (retry after ${Math.ceil(error.retryAfter)} ms)`, {
      retryAfterMs: Math.max(error.retryAfter, 250),
      cause: error,
    });
  }
  if (error instanceof DiscordAPIError) {
    // The message is Discord's; the URL is left out because a webhook URL carries the interaction token.
    const permanent = (typeof error.code === 'number' && PERMANENT_CODES.has(error.code)) || error.status === 403 || error.status === 404;
    return new DeliveryError(`${what}: Discord answered ${error.status} (code ${error.code}): ${error.message}`, { permanent, cause: error });
  }
  if (error instanceof HTTPError) {
    return new DeliveryError(`${what}: Discord answered HTTP ${error.status}`, { permanent: error.status === 413, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DeliveryError(`${what}: ${message}`, { cause: error });
}
