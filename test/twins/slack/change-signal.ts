/**
 * The twin's only waiting primitive. Every state change calls `notify()`, and each pending wait re-runs its probe,
 * so tests wait on what Slack would show instead of sleeping. Probes are cheap reads over small in-memory lists.
 */
export class TwinClosedError extends Error {
  override name = 'TwinClosedError';
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

interface Waiter {
  check(): void;
  fail(error: Error): void;
}

export interface WaitUntilOptions {
  timeoutMs: number;
  /** Builds the timeout message lazily, so it can list what did arrive. */
  describeTimeout: () => string;
}

export class ChangeSignal {
  private readonly waiters = new Set<Waiter>();
  private closedWith: Error | undefined;

  notify(): void {
    // Copy first: a satisfied waiter removes itself while we iterate.
    for (const waiter of [...this.waiters]) waiter.check();
  }

  waitUntil<R>(probe: () => R | undefined, options: WaitUntilOptions): Promise<R> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<R>((resolve, reject) => {
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
        reject(new WaitTimeoutError(options.describeTimeout()));
      }, options.timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  /** Rejects every pending wait, so a test that forgot to await does not hang past close(). */
  close(error: Error = new TwinClosedError('The Slack twin was closed while a wait was pending')): void {
    this.closedWith = error;
    for (const waiter of [...this.waiters]) waiter.fail(error);
  }
}
