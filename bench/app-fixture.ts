import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allMigrations, createApp, type App, type AppDeps } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { openDatabase, type Db } from '../src/sessions/database.js';

export interface BenchApp {
  app: App;
  db: Db;
  dir: string;
  dispose(): Promise<void>;
}

/** A whole core on a temp database, with no adapters: what the benchmarks drive directly. */
export function benchApp(yaml: string | undefined, monitor: AppDeps['monitor'] = {}, schedule = true): BenchApp {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  const env: Record<string, string> = { SWITCHBOARD_DB: join(dir, 'bench.db') };
  if (yaml !== undefined) {
    env.SWITCHBOARD_CONFIG = join(dir, 'switchboard.yaml');
    writeFileSync(env.SWITCHBOARD_CONFIG, yaml);
  }
  const config = loadConfig(dir, env);
  const db = openDatabase(config.databasePath, allMigrations);
  const app = createApp({ config, env, db, clock: systemClock, logger: silentLogger, monitor, schedule });
  return {
    app,
    db,
    dir,
    async dispose() {
      await app.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
