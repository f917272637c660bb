import type { Clock } from '../core/clock.js';
import type { ExecutorStatus } from '../executors/index.js';

export interface ServerView {
  name: string;
  /** Configured in switchboard.yaml, or run by Switchboard on an executor (`@executor`). */
  managed: boolean;
  healthy: boolean;
  version?: string;
  problem?: string;
}

export interface ExecutorView {
  name: string;
  type: string;
  reachable: boolean;
  running: number;
  queued: number;
  max: number;
  problems: string[];
}

export interface FleetProbeDeps {
  clock: Clock;
  /** Every OpenCode server with its health (one request per server). */
  servers(): Promise<ServerView[]>;
  executors(): Promise<ExecutorStatus[]>;
  /** A probe older than this is made again on the next look (default 15 s). */
  maxAgeMs?: number;
  /** How long a look waits for the first probe before answering without it (default 3 s). */
  firstWaitMs?: number;
}

/**
 * Server health and executor reachability cost a request or an SSH exec each, so the page never asks per view:
 * one probe at a time, kept for `maxAgeMs`; a look at a stale probe answers with it and starts the next one.
 */
export function createFleetProbe(deps: FleetProbeDeps) {
  const maxAgeMs = deps.maxAgeMs ?? 15_000;
  let last: { at: number; servers: ServerView[]; executors: ExecutorView[] } | undefined;
  let running: Promise<void> | undefined;

  function probe(): Promise<void> {
    running ??= (async () => {
      const [servers, executors] = await Promise.all([
        deps.servers().catch(() => last?.servers ?? []),
        deps.executors().then(
          (list) => list.map((e) => ({ name: e.name, type: e.type, reachable: e.reachable, running: e.running, queued: e.queued, max: e.maxConcurrent, problems: e.problems })),
          () => last?.executors ?? [],
        ),
      ]);
      last = { at: deps.clock.now(), servers, executors };
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    async look(): Promise<{ servers: ServerView[]; executors: ExecutorView[] }> {
      if (!last) {
        const wait = deps.firstWaitMs ?? 3_000;
        await Promise.race([probe(), new Promise((resolve) => setTimeout(resolve, wait).unref())]);
      } else if (deps.clock.now() - last.at > maxAgeMs) void probe();
      return { servers: last?.servers ?? [], executors: last?.executors ?? [] };
    },
    /** Waits for a probe in flight (tests, shutdown). */
    settled: () => running ?? Promise.resolve(),
  };
}

export type FleetProbe = ReturnType<typeof createFleetProbe>;
