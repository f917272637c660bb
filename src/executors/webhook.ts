import { createHmac } from 'node:crypto';
import { retryDelayMs } from '../core/backoff.js';

/**
 * Delivering a completion record to `defaults.webhookUrl`. One POST per call; the fleet keeps the delivery
 * state in the task store and calls again later on failure, so retries survive a restart.
 *
 * Headers: `X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed with WEBHOOK_SECRET>`
 * (only when a secret is configured) and `X-Switchboard-Delivery: <task_id>:<attempt>`, the same on every try,
 * so a receiver can drop duplicates.
 */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal; redirect: 'manual' },
) => Promise<{ status: number }>;

export interface WebhookDelivery {
  url: string;
  body: string;
  deliveryId: string;
  secret?: string | undefined;
  timeoutMs: number;
}

export type WebhookOutcome = { ok: true; status: number } | { ok: false; error: string; retryable: boolean };

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function postWebhook(fetch: FetchLike, delivery: WebhookDelivery): Promise<WebhookOutcome> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'switchboard',
    'x-switchboard-delivery': delivery.deliveryId,
  };
  if (delivery.secret) headers['x-switchboard-signature'] = signBody(delivery.body, delivery.secret);
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers,
      body: delivery.body,
      signal: AbortSignal.timeout(delivery.timeoutMs),
      // A redirect would carry the signed completion record (and the bot's requests) wherever the receiver says.
      redirect: 'manual',
    });
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    if (response.status >= 300 && response.status < 400) return { ok: false, error: `HTTP ${response.status}: the webhook redirects, and redirects are not followed; set defaults.webhookUrl to the final address`, retryable: false };
    // 4xx other than 408/429 will not get better by retrying.
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    return { ok: false, error: `HTTP ${response.status}`, retryable };
  } catch (error) {
    const name = (error as Error).name;
    const message = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${delivery.timeoutMs} ms` : (error as Error).message;
    return { ok: false, error: message, retryable: true };
  }
}

/** Seconds before try n+1 (n ≥ 1): 2, 4, 8, … capped at 5 minutes. */
export function webhookRetryDelayMs(triesSoFar: number): number {
  return retryDelayMs(Math.max(1, triesSoFar) + 1, 1_000, 300_000);
}
