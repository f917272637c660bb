import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { allMigrations, createApp } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { silentLogger } from '../src/core/logger.js';
import { systemClock } from '../src/core/clock.js';
import { openDatabase } from '../src/sessions/database.js';
import { createRegistry } from '../src/sessions/registry.js';
import { compiled, SHIPPED_NODE_FLAGS } from './build.js';
import { percentile, round } from './machine.js';

export interface StartupFigure {
  names: number;
  runs: number;
  /** `npm start`: node + tsx compiling the sources on the fly, config, database, core, console banner. */
  tsxP50Ms: number;
  /** The built bot (`npm run build`, as in the Docker image): plain node. */
  compiledP50Ms: number;
  compiledMaxMs: number;
  /** The core alone, in this process: open the database, build the app, start it (re-attach, reconcile). */
  coreP50Ms: number;
}

const ROOT = resolve(import.meta.dirname, '..');

/** `npm start` runs the sources through tsx; the Docker image runs the compiled bot with plain node. */
function commandLine(how: 'tsx' | 'compiled'): string[] {
  return how === 'tsx'
    ? [resolve(ROOT, 'node_modules/.bin/tsx'), resolve(ROOT, 'src/cli.ts')]
    : [process.execPath, ...SHIPPED_NODE_FLAGS, compiled('src/cli.ts')];
}

/** Spawns the bot and times it until the console says it is ready (the core started, adapters up). */
function timeToReady(cwd: string, db: string, how: 'tsx' | 'compiled'): Promise<number> {
  return new Promise((done, fail) => {
    const [command, ...args] = commandLine(how);
    const started = performance.now();
    const child = spawn(command!, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, SWITCHBOARD_DB: db, LOG_LEVEL: 'error' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Switchboard ready')) {
        const ms = performance.now() - started;
        child.stdin.end();
        child.once('exit', () => done(ms));
      }
    });
    child.once('exit', (code) => {
      if (!out.includes('Switchboard ready')) fail(new Error(`the bot exited (${code}) before it was ready`));
    });
  });
}

async function coreStart(dir: string, file: string): Promise<number> {
  const started = performance.now();
  const db = openDatabase(file, allMigrations);
  const config = loadConfig(dir, { SWITCHBOARD_DB: file });
  const app = createApp({ config, env: {}, db, clock: systemClock, logger: silentLogger, schedule: false });
  await app.start();
  const ms = performance.now() - started;
  await app.stop();
  db.close();
  return ms;
}

/** Start-up of the bot to ready with a database holding 10 000 names (target < 1 s). */
export async function benchStartup(names = 10_000, runs = 5): Promise<StartupFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-start-'));
  const figures: StartupFigure[] = [];
  try {
    for (const count of [0, names]) {
      const file = join(dir, `db-${count}.sqlite`);
      const db = openDatabase(file, allMigrations);
      const registry = createRegistry(db, systemClock);
      db.transaction(() => {
        for (let i = 0; i < count; i++) {
          registry.insert({
            name: `n${i}`,
            target: { kind: 'opencode', server: 'http://127.0.0.1:9', serverUrl: 'http://127.0.0.1:9', sessionId: `ses_${i}`, directory: '/w' },
            owner: 'console:bench',
            origin: { adapter: 'console', channel: 'terminal' },
          });
        }
      })();
      db.close();
      const tsx: number[] = [];
      const built: number[] = [];
      const core: number[] = [];
      for (let r = 0; r < runs; r++) {
        tsx.push(await timeToReady(dir, file, 'tsx'));
        built.push(await timeToReady(dir, file, 'compiled'));
        core.push(await coreStart(dir, file));
      }
      figures.push({
        names: count,
        runs,
        tsxP50Ms: round(percentile(tsx, 50), 0),
        compiledP50Ms: round(percentile(built, 50), 0),
        compiledMaxMs: round(Math.max(...built), 0),
        coreP50Ms: round(percentile(core, 50), 0),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
