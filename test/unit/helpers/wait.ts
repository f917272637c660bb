/**
 * Waits until `condition` holds, checking after each turn of the event loop (no timed sleeps). Fails with
 * `what` after `timeoutMs` of real time, so a broken expectation cannot hang the run.
 */
export async function until(condition: () => boolean, what = 'condition', timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Lets every queued callback and microtask run once (for checking that nothing happened). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Rejects after `ms` unless `promise` settles first: a guard against hangs, not a synchronisation. */
export function within<T>(promise: Promise<T>, ms = 5_000, what = 'promise'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** A clock and a timer function driven by hand: `advance` moves time and fires the timers that are due. */
export function manualTime(start = 1_000_000) {
  let now = start;
  const timers: Array<{ at: number; fn: () => void }> = [];
  return {
    clock: { now: () => now },
    setTimer: (fn: () => void, ms: number) => {
      timers.push({ at: now + ms, fn });
      return {};
    },
    /** Due times of the timers not yet fired. */
    pending: () => timers.map((t) => t.at).sort((a, b) => a - b),
    advance(ms: number): void {
      now += ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > now) break;
        timers.shift();
        next.fn();
      }
    },
    get now() {
      return now;
    },
  };
}
