/**
 * The twin's one waiting primitive. Every state change calls `notify()` and each pending wait re-runs its probe,
 * so tests wait for what Discord would show instead of sleeping. A probe returns the value to resolve with, or
 * undefined to keep waiting, or throws to fail at once (an interaction that can no longer be answered).
 */

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

export class TwinClosedError extends Error {
  override name = 'TwinClosedError';
}

export interface WaitOptions {
  /** Defaults to the twin's `defaultTimeoutMs` (5 s). */
  timeoutMs?: number;
}

interface Waiter {
  check(): void;
  fail(error: Error): void;
}

export class ChangeSignal {
  private readonly waiters = new Set<Waiter>();
  private closedWith: Error | undefined;

  constructor(private readonly defaultTimeoutMs: number) {}

  private flushScheduled = false;

  /**
   * Probes run on the next turn of the event loop, not inside the change: a REST handler records its call after
   * it changed the world, and a test woken by the change must see that record too.
   */
  notify(): void {
    if (this.flushScheduled || this.waiters.size === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      // Copy first: a satisfied waiter removes itself while we iterate.
      for (const waiter of [...this.waiters]) waiter.check();
    });
  }

  waitUntil<R>(
    probe: () => R | undefined,
    options: { timeoutMs?: number | undefined; describeTimeout: (timeoutMs: number) => string },
  ): Promise<R> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<R>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter: Waiter = {
        check: () => {
          let found: R | undefined;
          try {
            found = probe();
          } catch (error) {
            finish();
            reject(error);
            return;
          }
          if (found !== undefined) {
            finish();
            resolve(found);
          }
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        finish();
        reject(new WaitTimeoutError(options.describeTimeout(timeoutMs)));
      }, timeoutMs);
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  /** Rejects every pending wait, so a test that forgot to await does not hang past close(). */
  close(error: Error = new TwinClosedError('The Discord twin was closed while a wait was pending')): void {
    this.closedWith = error;
    for (const waiter of [...this.waiters]) waiter.fail(error);
  }
}

/** "3 messages arrived:\n  - …" for timeout errors; the last 20 are enough to see what went wrong. */
export function describeList<T>(items: readonly T[], describe: (item: T) => string, noun: string): string {
  if (items.length === 0) return `No ${noun} arrived at all.`;
  const shown = items.slice(-20).map((item) => `  - ${describe(item)}`);
  const hidden = items.length > 20 ? [`  … and ${items.length - 20} earlier`] : [];
  return [`${items.length} ${noun} arrived:`, ...hidden, ...shown].join('\n');
}

export function truncate(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}

/** `{channel: "1", text: /done/, predicate: <fn>}` — for timeout messages. */
export function describeFilter(filter: object): string {
  const parts = Object.entries(filter)
    .filter(([key, v]) => v !== undefined && key !== 'timeoutMs')
    .map(([k, v]) => `${k}: ${typeof v === 'function' ? '<fn>' : v instanceof RegExp ? String(v) : JSON.stringify(v)}`);
  return `{${parts.join(', ')}}`;
}
