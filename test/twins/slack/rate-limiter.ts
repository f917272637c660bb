/**
 * Failure injection and Slack's per-channel posting limit.
 *
 * About `Retry-After`: @slack/web-api 8.2.0 reads it with `Number.parseInt(header, 10)`, so a fractional value is
 * truncated: "0.2" waits 0 s (the retry then only waits for p-retry's own backoff, `retryConfig.minTimeout`), and
 * "1.5" waits 1 s. Real Slack always sends whole seconds. The twin writes `retryAfterSec` into the header as given,
 * so `retryAfterSec: 0` (or 0.2) keeps a 429 test fast while still exercising web-api's RATE_LIMITED path, and
 * `retryAfterSec: 1` proves the client really pauses.
 */
export interface FailureSpec {
  /** HTTP status; 429 by default. With `error` set the status is 200 and the body is `{ok:false,error}`. */
  readonly status?: number;
  /** Seconds written to the Retry-After header of a 429 (default 1). */
  readonly retryAfterSec?: number;
  /** How many consecutive calls fail (default 1). */
  readonly count?: number;
  /** Answer with a Slack platform error such as `channel_not_found` instead of an HTTP failure. */
  readonly error?: string;
}

export interface InjectedFailure {
  readonly status: number;
  readonly retryAfterSec: number | undefined;
  readonly error: string | undefined;
}

interface PendingFailure {
  readonly method: string;
  readonly failure: InjectedFailure;
  remaining: number;
}

export class RateLimiter {
  /** Minimum gap between two successful chat.postMessage calls in one channel; 0 disables the check. */
  channelMinIntervalMs = 0;
  /**
   * chat.update is a Tier 3 method: about 50 calls per minute per workspace (bursts allowed). Past it the twin
   * answers 429 with Retry-After, as Slack does. Tests may shrink the window; `updateLimit = 0` switches it off.
   */
  updateLimit = 50;
  updateWindowMs = 60_000;
  private readonly pending: PendingFailure[] = [];
  private readonly lastPostAt = new Map<string, number>();
  private updates: number[] = [];

  /** `method` may be `*` to fail whatever comes next. */
  failNext(method: string, spec: FailureSpec = {}): void {
    const status = spec.error !== undefined ? 200 : (spec.status ?? 429);
    this.pending.push({
      method,
      remaining: spec.count ?? 1,
      failure: {
        status,
        retryAfterSec: status === 429 ? (spec.retryAfterSec ?? 1) : undefined,
        error: spec.error,
      },
    });
  }

  /** Consumes one injected failure for this method, oldest first. */
  takeFailure(method: string): InjectedFailure | undefined {
    const entry = this.pending.find((p) => p.method === method || p.method === '*');
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.pending.splice(this.pending.indexOf(entry), 1);
    return entry.failure;
  }

  /** Slack sends whole seconds, so the wait is rounded up; see the note above on why fractions would not help. */
  checkChannel(channel: string, nowMs: number): { retryAfterSec: number } | undefined {
    if (this.channelMinIntervalMs <= 0) return undefined;
    const last = this.lastPostAt.get(channel);
    if (last === undefined) return undefined;
    const remainingMs = last + this.channelMinIntervalMs - nowMs;
    if (remainingMs <= 0) return undefined;
    return { retryAfterSec: Math.max(1, Math.ceil(remainingMs / 1000)) };
  }

  notePost(channel: string, nowMs: number): void {
    this.lastPostAt.set(channel, nowMs);
  }

  /** A chat.update now: counted and allowed, or refused with the whole seconds until the window has room. */
  takeUpdate(nowMs: number): { retryAfterSec: number } | undefined {
    if (this.updateLimit <= 0) return undefined;
    this.updates = this.updates.filter((at) => at > nowMs - this.updateWindowMs);
    if (this.updates.length >= this.updateLimit) {
      return { retryAfterSec: Math.max(1, Math.ceil((this.updates[0]! + this.updateWindowMs - nowMs) / 1000)) };
    }
    this.updates.push(nowMs);
    return undefined;
  }

  /** Drops injected failures that were never consumed (e.g. between tests sharing a twin). */
  clear(): void {
    this.pending.length = 0;
    this.lastPostAt.clear();
    this.updates = [];
  }
}
