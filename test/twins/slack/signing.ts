import { createHmac } from 'node:crypto';

/**
 * Slack's request signing (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `x-slack-signature: v0=` + hex HMAC-SHA256(signingSecret, `v0:{timestamp}:{rawBody}`).
 * Bolt rejects a timestamp more than five minutes old, which is what the `stale-timestamp` tamper relies on.
 */
export function computeSlackSignature(signingSecret: string, timestampSec: number, rawBody: string): string {
  const hmac = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return `v0=${hmac}`;
}

/** How to sign an inbound request; anything but `valid` exists to prove the app rejects it. */
export type Signing = 'valid' | 'bad-signature' | 'stale-timestamp' | 'wrong-secret' | 'unsigned';

/** Seconds past Bolt's five-minute replay window, so the stale case is unambiguous. */
const STALE_AGE_SEC = 6 * 60;

export function slackSignatureHeaders(
  signingSecret: string,
  rawBody: string,
  nowMs: number,
  signing: Signing = 'valid',
): Record<string, string> {
  if (signing === 'unsigned') return {};
  const nowSec = Math.floor(nowMs / 1000);
  const timestamp = signing === 'stale-timestamp' ? nowSec - STALE_AGE_SEC : nowSec;
  const secret = signing === 'wrong-secret' ? `${signingSecret}-wrong` : signingSecret;
  let signature = computeSlackSignature(secret, timestamp, rawBody);
  if (signing === 'bad-signature') {
    // Flip the last hex digit: a well-formed signature that does not match, the way a tampered body would look.
    const last = signature.at(-1) === '0' ? '1' : '0';
    signature = signature.slice(0, -1) + last;
  }
  return { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(timestamp) };
}
