/** A sliding one-minute window per key. Pure state in memory: a restart forgives everyone, which is fine. */
export function createRateLimiter(perMinute: number, now: () => number) {
  const hits = new Map<string, number[]>();
  return {
    /** Records a hit and returns how many ms to wait when over the limit, or 0. */
    hit(key: string): number {
      const t = now();
      const recent = (hits.get(key) ?? []).filter((at) => at > t - 60_000);
      if (recent.length >= perMinute) {
        hits.set(key, recent);
        return recent[0]! + 60_000 - t;
      }
      recent.push(t);
      hits.set(key, recent);
      return 0;
    },
  };
}
