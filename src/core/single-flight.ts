/**
 * Work that runs once at a time: a call made while a run is under way gets that run's promise instead of
 * starting a second one (a periodic tick that runs long is joined, not stacked).
 */
export function singleFlight<T>(work: () => Promise<T>) {
  let current: Promise<T> | undefined;
  return {
    run(): Promise<T> {
      if (current) return current;
      const run = work().finally(() => {
        if (current === run) current = undefined;
      });
      current = run;
      return run;
    },
    /** Resolves once the run under way (if any) has ended, however it ended. */
    async settled(): Promise<void> {
      await current?.catch(() => undefined);
    },
  };
}
