/**
 * The requests a scripted fake received, and a wait for the first one whose latest user text contains a
 * marker (already-arrived ones count). Shared by the fake LLM and the fake Messages API.
 */
export function createRequestLog<T extends { lastUserText: string }>(label: string) {
  const requests: T[] = [];
  const listeners = new Set<(request: T) => void>();
  return {
    requests,
    record(request: T): void {
      requests.push(request);
      for (const listener of [...listeners]) listener(request);
    },
    waitFor(marker: string, timeoutMs = 30_000): Promise<T> {
      const seen = requests.find((r) => r.lastUserText.includes(marker));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const onRequest = (request: T) => {
          if (!request.lastUserText.includes(marker)) return;
          clearTimeout(timer);
          listeners.delete(onRequest);
          resolve(request);
        };
        const timer = setTimeout(() => {
          listeners.delete(onRequest);
          reject(new Error(`${label}: no request containing ${JSON.stringify(marker)} within ${timeoutMs} ms`));
        }, timeoutMs);
        listeners.add(onRequest);
      });
    },
  };
}
