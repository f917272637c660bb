/**
 * The one backoff formula: exponential with a cap, base · 2^(attempt-1). Every retry in Switchboard (outbox,
 * cards, event streams, SSH reconnects, task resumes, webhook deliveries) waits this long, each with its own base
 * and cap. Pure, so it is unit-tested on its own.
 */
export function retryDelayMs(attempt: number, baseMs = 1_000, capMs = 300_000): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(capMs, baseMs * 2 ** exponent);
}
