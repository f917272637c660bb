import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { executorDefaultsSchema, type ExecutorConfig } from '../../src/executors/config.js';
import { createFleet, type Fleet, type TaskEvent } from '../../src/executors/fleet.js';
import { taskMigrations, type TaskRecord } from '../../src/executors/task-store.js';
import { createOffloader, type Offloader, type OffloaderDeps } from '../../src/offload/offloader.js';
import { offloadMigrations } from '../../src/offload/store.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { CLAUDE_PATH } from '../helpers/claude-env.js';
import { recordingLogger, TEST_DEFAULTS } from '../executors/harness.js';

/** A fleet and an offloader over one temp SQLite file, as the app wires them. */
export interface OffloadHarness {
  fleet: Fleet;
  offloader: Offloader;
  db: Db;
  events: TaskEvent[];
  logs: string[];
  /** Ticks the fleet until the task has finished, or fails after timeoutMs. */
  finished(name: string, timeoutMs?: number): Promise<TaskRecord>;
  close(): Promise<void>;
}

export function createOffloadHarness(options: {
  dir: string;
  executors: ExecutorConfig[];
  runtimeEnv: Record<string, string | undefined>;
  deps?: Partial<OffloaderDeps>;
}): OffloadHarness {
  const db = openDatabase(join(options.dir, 'switchboard.db'), [...taskMigrations, ...offloadMigrations]);
  const events: TaskEvent[] = [];
  const logs: string[] = [];
  const logger = recordingLogger(logs);
  const fleet = createFleet({
    db,
    clock: systemClock,
    logger,
    executors: options.executors,
    defaults: executorDefaultsSchema.parse(TEST_DEFAULTS),
    runtimeEnv: options.runtimeEnv,
    onEvent: (event) => events.push(event),
  });
  const offloader = createOffloader({
    db,
    fleet,
    executors: options.executors,
    clock: systemClock,
    logger,
    runtimeEnv: options.runtimeEnv,
    cwd: options.dir,
    backupDir: join(options.dir, 'offload-backups'),
    tmpDir: options.dir,
    compress: false,
    progressIntervalMs: 0,
    ...options.deps,
  });
  return {
    fleet,
    offloader,
    db,
    events,
    logs,
    async finished(name, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await fleet.tick();
        const task = fleet.get(name);
        if (task && ['succeeded', 'failed', 'killed', 'abandoned'].includes(task.status)) return task;
        if (Date.now() > deadline) throw new Error(`${name} did not finish within ${timeoutMs} ms (status ${task?.status})\n${logs.slice(-15).join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async close() {
      await fleet.close();
      db.close();
    },
  };
}

/** Runs the real claude CLI once in `cwd` (a local conversation to offload later); resolves with its stdout. */
export function runClaude(cwd: string, env: Record<string, string>, sessionId: string, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      CLAUDE_PATH,
      ['-p', '--session-id', sessionId, '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions'],
      { cwd, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, timeout: 120_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`claude failed: ${error.message}\n${stderr}`)) : resolve(stdout)),
    );
    child.stdin?.end(prompt);
  });
}
