/**
 * How Slack retries an Events API delivery over HTTP: when the app has not answered 2xx within 3 s (or answered
 * an error, or could not be reached), Slack sends the same body again, up to three times (at once, after a
 * minute, after five), with `X-Slack-Retry-Num: n` and `X-Slack-Retry-Reason`. The `event_id` stays the same, so
 * an app can tell a retry from a new event. Slash commands and clicks are never retried: the person sees an
 * error instead.
 *
 * Tests shorten the deadline and the delays (`eventRetries` option); the shape stays Slack's. `loseNext` models
 * the network: a request lost before it reached the app, or the app's answer lost on the way back (Slack then
 * times out although the app did the work).
 */
export interface EventRetryPolicy {
  /** How long Slack waits for a 2xx (Slack: 3000 ms). */
  readonly ackDeadlineMs: number;
  /** The wait before each retry; its length is the number of retries (Slack: 0, 60 s, 300 s). */
  readonly retryDelaysMs: readonly number[];
}

export const SLACK_EVENT_RETRIES: EventRetryPolicy = Object.freeze({ ackDeadlineMs: 3_000, retryDelaysMs: Object.freeze([0, 60_000, 300_000]) });

export type RetryReason = 'http_timeout' | 'http_error' | 'connection_failed';

/** Where a delivery goes missing: before the app saw it, or its answer after the app did the work. */
export type LostStage = 'request' | 'response';

export interface EventAttempt {
  readonly eventId: string;
  /** 0 for the first delivery, then the X-Slack-Retry-Num sent. */
  readonly retryNum: number;
  /** The X-Slack-Retry-Reason sent with this attempt (undefined on the first). */
  readonly retryReason: RetryReason | undefined;
  /** What became of it: the status the app answered in time, or why Slack counted it as failed. */
  readonly outcome: number | RetryReason;
  readonly lost: LostStage | undefined;
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/** One attempt on the wire; rejects on a connection failure, resolves undefined when the deadline passed. */
export type PostOnce = (headers: Record<string, string>, deadlineMs: number) => Promise<HttpAnswer | undefined>;

export class EventRetries {
  private readonly losses: LostStage[] = [];
  readonly attempts: EventAttempt[] = [];

  constructor(
    private readonly policy: EventRetryPolicy,
    private readonly onAttempt: () => void = () => {},
  ) {}

  /** The next `count` event deliveries (first attempts and retries alike) go missing at `stage`. */
  loseNext(stage: LostStage, count = 1): void {
    for (let i = 0; i < count; i++) this.losses.push(stage);
  }

  /** Delivers until the app answers 2xx in time or the retries run out; resolves with the last answer seen. */
  async deliver(eventId: string, post: PostOnce): Promise<HttpAnswer | undefined> {
    let reason: RetryReason | undefined;
    let last: HttpAnswer | undefined;
    for (let retryNum = 0; retryNum <= this.policy.retryDelaysMs.length; retryNum++) {
      if (retryNum > 0) await sleep(this.policy.retryDelaysMs[retryNum - 1]!);
      const headers: Record<string, string> = retryNum > 0 ? { 'x-slack-retry-num': String(retryNum), 'x-slack-retry-reason': reason! } : {};
      const lost = this.losses.shift();
      const sentReason = retryNum > 0 ? reason : undefined;
      let outcome: number | RetryReason;
      if (lost === 'request') {
        // Nothing reaches the app; Slack waits out its deadline.
        await sleep(this.policy.ackDeadlineMs);
        outcome = 'http_timeout';
      } else {
        try {
          const answer = await post(headers, this.policy.ackDeadlineMs);
          if (answer) last = answer;
          outcome = !answer || lost === 'response' ? 'http_timeout' : answer.status >= 200 && answer.status < 300 ? answer.status : 'http_error';
        } catch {
          outcome = 'connection_failed';
        }
      }
      this.attempts.push(Object.freeze({ eventId, retryNum, retryReason: sentReason, outcome, lost }));
      this.onAttempt();
      if (typeof outcome === 'number') return last;
      reason = outcome;
    }
    return last;
  }
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? new Promise((resolve) => setImmediate(resolve)) : new Promise((resolve) => setTimeout(resolve, ms));
}
