/** At most `limit` promises in flight; the rest wait their turn in order. */
export function createLimiter(limit: number) {
  let active = 0;
  let peak = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    if (active >= limit) return;
    const start = queue.shift();
    if (start) start();
  };
  return {
    run<T>(work: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push(() => {
          active++;
          peak = Math.max(peak, active);
          work()
            .then(resolve, reject)
            .finally(() => {
              active--;
              next();
            });
        });
        next();
      });
    },
    /** The most promises that were ever in flight at once (for the benchmark). */
    peak: () => peak,
    resetPeak: () => (peak = active),
  };
}
