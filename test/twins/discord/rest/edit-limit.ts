import type { TwinClock } from '../ids.js';
import type { RouteResult } from './routing.js';

/**
 * Discord's limit on editing messages: five edits per five seconds per channel (the per-channel message bucket,
 * `PATCH /channels/:id/messages/:id`). Like Discord, every answer carries the bucket's headers, so
 * @discordjs/rest can queue before the limit; an edit past it gets a 429 with Retry-After and the same headers.
 * Tests may shrink `windowMs` (or raise `limit`) to keep long scenarios quick; `limit: 0` switches it off.
 */
export class EditLimit {
  limit = 5;
  windowMs = 5_000;
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly clock: TwinClock) {}

  /** A 429 for an edit in this channel now, or null (the edit is counted and may go ahead). */
  take(channelId: string): { rejected: RouteResult | null; headers: Record<string, string> } {
    if (this.limit <= 0) return { rejected: null, headers: {} };
    const now = this.clock.now();
    const list = (this.recent.get(channelId) ?? []).filter((at) => at > now - this.windowMs);
    this.recent.set(channelId, list);
    if (list.length >= this.limit) {
      const resetAfter = (list[0]! + this.windowMs - now) / 1000;
      const headers = { ...this.headers(0, resetAfter, now), 'Retry-After': String(Math.max(0.001, resetAfter)), 'X-RateLimit-Scope': 'user' };
      return { rejected: { status: 429, headers, body: { message: 'You are being rate limited.', retry_after: resetAfter, global: false } }, headers };
    }
    list.push(now);
    const resetAfter = (list[0]! + this.windowMs - now) / 1000;
    return { rejected: null, headers: this.headers(this.limit - list.length, resetAfter, now) };
  }

  clear(): void {
    this.recent.clear();
  }

  private headers(remaining: number, resetAfterSec: number, now: number): Record<string, string> {
    return {
      'X-RateLimit-Limit': String(this.limit),
      'X-RateLimit-Remaining': String(remaining),
      'X-RateLimit-Reset': ((now + resetAfterSec * 1000) / 1000).toFixed(3),
      'X-RateLimit-Reset-After': resetAfterSec.toFixed(3),
      // One hash for the route, as on Discord; @discordjs/rest keys its queue by hash and channel.
      'X-RateLimit-Bucket': 'twin-message-edit',
    };
  }
}
