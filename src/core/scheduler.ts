import type { Logger } from './logger.js';

/**
 * The app's one beat. Every periodic job (the monitor's tick, the executor fleet's probe, the outbox's look for
 * messages another process queued) is named here and run on it, so no part is the hidden driver of another and
 * a test or a benchmark can stop the beat and call `beat()` by hand. A job still running when the next beat
 * comes is skipped for that beat, never run twice at once; one job's failure is logged and hurts no other.
 */
export interface Scheduler {
  add(name: string, run: () => void | Promise<void>): void;
  start(): void;
  /** Stops the beat and waits for the jobs under way. */
  stop(): Promise<void>;
  /** Runs every job once now (what each beat does). */
  beat(): Promise<void>;
}

export interface SchedulerOptions {
  logger: Logger;
  everyMs?: number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const everyMs = options.everyMs ?? 1_000;
  const every = options.setInterval ?? ((fn: () => void, ms: number) => setInterval(fn, ms));
  const clear = options.clearInterval ?? ((handle: unknown) => clearInterval(handle as NodeJS.Timeout));
  const jobs: Array<{ name: string; run: () => void | Promise<void>; running?: Promise<void> }> = [];
  let handle: unknown;

  function runJob(job: (typeof jobs)[number]): Promise<void> {
    if (job.running) return job.running;
    // Through a promise chain, so even a job that throws at once clears its mark after the mark is set.
    job.running = Promise.resolve()
      .then(() => job.run())
      .catch((error: unknown) => {
        options.logger.error(`scheduler: the ${job.name} job failed`, { error: error instanceof Error ? error.message : String(error) });
      })
      .finally(() => {
        job.running = undefined;
      });
    return job.running;
  }

  const beat = async () => {
    await Promise.all(jobs.map((job) => (job.running ? undefined : runJob(job))));
  };

  return {
    add(name, run) {
      jobs.push({ name, run });
    },
    start() {
      if (handle !== undefined) return;
      handle = every(() => void beat(), everyMs);
      (handle as { unref?: () => void }).unref?.();
    },
    async stop() {
      if (handle !== undefined) clear(handle);
      handle = undefined;
      await Promise.all(jobs.map((job) => job.running));
    },
    beat,
  };
}
