/** Exponential backoff with a cap: 1 s, 2 s, 4 s … 5 min. Pure, so it is unit-tested on its own. */
export function retryDelayMs(attempt: number, baseMs = 1_000, capMs = 300_000): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(capMs, baseMs * 2 ** exponent);
}
