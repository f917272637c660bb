import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { openDatabase } from '../../src/sessions/database.js';
import type { Db } from '../../src/sessions/database.js';
import { executorDefaultsSchema, type ExecutorConfig, type ExecutorDefaults } from '../../src/executors/config.js';
import { createFleet, type Fleet, type FleetDeps, type TaskEvent } from '../../src/executors/fleet.js';
import { taskMigrations } from '../../src/executors/task-store.js';

/**
 * A Fleet over a temp SQLite file, with every event it emits collected, and waits that poll a condition with a
 * deadline (ticking the fleet between polls) instead of sleeping.
 */
export interface FleetHarness {
  fleet: Fleet;
  db: Db;
  dbPath: string;
  events: TaskEvent[];
  logs: string[];
  /** Ticks until `predicate` holds (checked after each tick), or fails after `timeoutMs`. */
  tickUntil<T>(what: string, predicate: () => T | undefined | false | null, timeoutMs?: number): Promise<T>;
  /** The events of one task, by name. */
  eventsFor(name: string): TaskEvent[];
  close(): Promise<void>;
}

export const TEST_DEFAULTS: Partial<ExecutorDefaults> = {
  maxRetries: 3,
  staleAfterSec: 120,
  toolStaleAfterSec: 120,
  killGraceSec: 1,
  retryBackoffSec: 0.2,
  retryBackoffMaxSec: 1,
  attentionAfterSec: 1,
  webhookTimeoutSec: 5,
};

let databases = 0;

export function createHarness(options: {
  executors: ExecutorConfig[];
  /** The test's temp dir: the database goes there (the test removes it). */
  dir: string;
  defaults?: Partial<ExecutorDefaults>;
  /** Reopen an earlier harness's database (a restart). */
  dbPath?: string;
  deps?: Partial<FleetDeps>;
}): FleetHarness {
  const dbPath = options.dbPath ?? join(options.dir, `switchboard-${++databases}.db`);
  const db = openDatabase(dbPath, taskMigrations);
  const events: TaskEvent[] = [];
  const logs: string[] = [];
  const logger = recordingLogger(logs);
  const fleet = createFleet({
    db,
    clock: systemClock,
    logger,
    executors: options.executors,
    defaults: executorDefaultsSchema.parse({ ...TEST_DEFAULTS, ...options.defaults }),
    runtimeEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
    onEvent: (event) => events.push(event),
    ...options.deps,
  });
  return {
    fleet,
    db,
    dbPath,
    events,
    logs,
    async tickUntil(what, predicate, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await fleet.tick();
        const value = predicate();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nlog:\n${logs.slice(-20).join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    },
    eventsFor(name) {
      return events.filter((e) => 'task' in e && e.task.name === name);
    },
    async close() {
      await fleet.close();
      db.close();
    },
  };
}

export function recordingLogger(lines: string[]): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${fields ? JSON.stringify(fields) : ''}`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** Stops a test's dedicated tmux server (never the user's own: a test always names its socket) and removes the socket file tmux leaves. */
export function killTmuxServer(socket: string): void {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // no server was running
  }
  rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
}

/** Processes whose environment carries the task's marker (the wrapper, claude, tool processes, orphans). */
export function processesOfTask(taskId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (environ.split('\0').includes(`SWITCHBOARD_TASK=${taskId}`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

export interface WebhookSink {
  url: string;
  received: Array<{ headers: IncomingMessage['headers']; body: string }>;
  /** Answer the next n requests with this status (to exercise retries). */
  failNext(n: number, status?: number): void;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const received: WebhookSink['received'] = [];
  let failures = 0;
  let failStatus = 500;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures > 0) {
        failures -= 1;
        res.writeHead(failStatus).end();
        return;
      }
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    failNext(n, status = 500) {
      failures = n;
      failStatus = status;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
