import { DeliveryError } from '../../src/core/adapter.js';

/**
 * What a failed Web API call means for the outbox. A 429 waits exactly as long as Slack asked; a message Slack
 * will never accept (gone channel, content it rejects) is permanent, so it cannot block the channel's lane;
 * anything else (network, 5xx, a revoked token that an operator can fix) is retried with backoff.
 */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'channel_is_archived',
  'msg_too_long',
  'msg_blocks_too_long',
  'no_text',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_arguments',
  'too_many_attachments',
  'user_not_found',
  'user_not_in_channel',
  'cannot_dm_bot',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'ekm_access_denied',
  'duplicate_channel_not_found',
  'file_not_found',
  'cant_update_message',
  'edit_window_closed',
]);

/** Slack's error code of a platform error (`ok: false`), if that is what this is. */
export function platformErrorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { code?: unknown; data?: { error?: unknown } };
  return e.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string' ? e.data.error : undefined;
}

/** Seconds Slack asked us to wait, for a 429 (web-api's `rejectRateLimitedCalls` error). */
export function rateLimitRetryAfterSec(error: unknown): number | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { code?: unknown; retryAfter?: unknown };
  return e.code === 'slack_webapi_rate_limited_error' && typeof e.retryAfter === 'number' ? e.retryAfter : undefined;
}

export function toDeliveryError(error: unknown, what: string): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const retryAfter = rateLimitRetryAfterSec(error);
  if (retryAfter !== undefined) {
    // Slack sends whole seconds; 0 (or a fraction web-api truncated) still deserves a short pause.
    return new DeliveryError(`${what}: rate limited by Slack (retry after ${retryAfter} s)`, {
      retryAfterMs: Math.max(retryAfter * 1000, 250),
      cause: error,
    });
  }
  const code = platformErrorCode(error);
  if (code === 'ratelimited') return new DeliveryError(`${what}: rate limited by Slack`, { retryAfterMs: 1_000, cause: error });
  if (code !== undefined) {
    return new DeliveryError(`${what}: Slack answered ${code}`, { permanent: PERMANENT.has(code), cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DeliveryError(`${what}: ${message}`, { cause: error });
}
