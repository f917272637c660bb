import type { TwinClock } from '../ids.js';
import { describeMatcher, matchesRequest, type RequestInfo, type RouteMatcher, type RouteResult } from './routing.js';

/**
 * Injected failures: 429s with the header set @discordjs/rest 2.6 reads to schedule its retry, or any other
 * status (5xx for retry paths, a Discord error code for the bot's error handling).
 *
 * About Retry-After: Discord writes whole seconds in the header and a float in the body; @discordjs/rest reads the
 * header with Number(), so a fractional `retryAfterSec` (0.2) keeps tests fast and still takes the real retry path.
 */
export interface FailureSpec {
  /** 429 (default) or any other HTTP status. */
  status?: number;
  /** Seconds before the client may retry a 429 (default 0.2). */
  retryAfterSec?: number;
  /** How many consecutive matching requests fail (default 1). */
  count?: number;
  /** A global rate limit: discord.js then pauses every route, not just this bucket. */
  global?: boolean;
  /** X-RateLimit-Scope: `user` (default), `shared` (a per-resource limit, e.g. a busy channel) or `global`. */
  scope?: 'user' | 'shared' | 'global';
  /** Discord error code and message for non-429 statuses. */
  code?: number;
  message?: string;
}

/** Live view of one injected failure, for asserting that it was used up. */
export interface InjectedFailure {
  readonly matcher: string;
  readonly spec: Readonly<FailureSpec>;
  /** How many requests it answered so far. */
  readonly hits: number;
  readonly remaining: number;
}

interface Pending {
  matcher: RouteMatcher;
  spec: FailureSpec;
  remaining: number;
  hits: number;
  bucket: string;
}

export class FailureInjector {
  private readonly pending: Pending[] = [];
  private nextBucket = 0;

  constructor(private readonly clock: TwinClock) {}

  add(matcher: RouteMatcher, spec: FailureSpec = {}): InjectedFailure {
    const entry: Pending = { matcher, spec, remaining: spec.count ?? 1, hits: 0, bucket: `twin-bucket-${++this.nextBucket}` };
    this.pending.push(entry);
    return {
      matcher: describeMatcher(matcher),
      spec,
      get hits() {
        return entry.hits;
      },
      get remaining() {
        return entry.remaining;
      },
    };
  }

  /** The failure response for this request, consuming one use; oldest injection first. */
  take(request: RequestInfo): RouteResult | null {
    const entry = this.pending.find((p) => p.remaining > 0 && matchesRequest(p.matcher, request));
    if (!entry) return null;
    entry.remaining--;
    entry.hits++;
    if (entry.remaining === 0) this.pending.splice(this.pending.indexOf(entry), 1);
    return this.respond(entry);
  }

  private respond(entry: Pending): RouteResult {
    const status = entry.spec.status ?? 429;
    if (status !== 429) {
      return { status, body: { message: entry.spec.message ?? `${status}: injected by the Discord twin`, code: entry.spec.code ?? 0 } };
    }
    const retryAfter = entry.spec.retryAfterSec ?? 0.2;
    const global = entry.spec.global ?? false;
    const scope = entry.spec.scope ?? (global ? 'global' : 'user');
    const headers: Record<string, string> = { 'Retry-After': String(retryAfter), 'X-RateLimit-Scope': scope };
    if (global) {
      headers['X-RateLimit-Global'] = 'true';
    } else {
      Object.assign(headers, {
        'X-RateLimit-Limit': '5',
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': ((this.clock.now() + retryAfter * 1000) / 1000).toFixed(3),
        'X-RateLimit-Reset-After': String(retryAfter),
        'X-RateLimit-Bucket': entry.bucket,
      });
    }
    return { status: 429, headers, body: { message: 'You are being rate limited.', retry_after: retryAfter, global } };
  }
}
