import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { createFleet, createSshHost, executorDefaultsSchema, taskMigrations, type Fleet, type SshTarget, type Transport } from '../src/executors/index.js';
import { openDatabase } from '../src/sessions/database.js';
import { sshdLogin, startSshd, type Sshd } from '../test/helpers/sshd.js';
import { percentile, round } from './machine.js';

export interface ExecutorFigure {
  measure: string;
  runs: number;
  p50Ms: number;
  maxMs: number;
  note: string;
}

/**
 * On the loopback sshd: time from `start` to the task running (p50 over 20 starts), then one status tick over 50
 * running tasks on that host, counting the scripts it ran there (one probe, not 50). Then the same starts on an
 * sshd without the SFTP subsystem, where the task files go up through exec channels.
 */
export async function benchExecutorStart(starts = 20, running = 50): Promise<ExecutorFigure[]> {
  const figures = await benchOnSshd(await startSshd(), starts, running);
  const [withoutSftp] = await benchOnSshd(await startSshd({ sftp: false }), starts, 0);
  figures.push({ ...withoutSftp!, measure: 'start → running (ssh without SFTP, shell task)', note: 'files as stdin of scripts on the command channel, tmux session started' });
  return figures;
}

async function benchOnSshd(sshd: Sshd, starts: number, running: number): Promise<ExecutorFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-exec-'));
  const socket = `sb-bench-${process.pid}`;
  let scripts = 0;
  const counting = (target: SshTarget): Transport => {
    const inner = createSshHost(target, { clock: systemClock, logger: silentLogger });
    return {
      where: inner.where,
      exec: (script, options) => {
        scripts++;
        return inner.exec(script, options);
      },
      writeFile: (...args) => inner.writeFile(...args),
      readFile: (...args) => inner.readFile(...args),
      close: () => inner.close(),
    };
  };
  const db = openDatabase(join(dir, 'bench.db'), taskMigrations);
  const fleet: Fleet = createFleet({
    db,
    clock: systemClock,
    logger: silentLogger,
    executors: [
      {
        name: 'crib',
        type: 'ssh',
        ...sshdLogin(sshd),
        labels: [],
        env: {},
        maxConcurrent: starts + running,
        tmuxPath: 'tmux',
        tmuxSocket: socket,
        tasksDir: join(dir, 'tasks'),
      },
    ],
    defaults: executorDefaultsSchema.parse({}),
    runtimeEnv: { PATH: process.env.PATH, HOME: process.env.HOME },
    connectSsh: counting,
  });
  const figures: ExecutorFigure[] = [];
  try {
    await fleet.check('crib');
    const startTimes: number[] = [];
    for (let i = 0; i < starts; i++) {
      const started = performance.now();
      await fleet.start({ name: `s${i}`, executor: 'crib', kind: 'shell', text: 'sleep 120', actor: 'console:bench', channel: '{}' });
      startTimes.push(performance.now() - started);
    }
    figures.push({ measure: 'start → running (ssh, shell task)', runs: starts, p50Ms: round(percentile(startTimes, 50), 0), maxMs: round(Math.max(...startTimes), 0), note: 'files by SFTP, tmux session started' });
    if (running === 0) return figures;
    for (let i = starts; i < running; i++) {
      await fleet.start({ name: `s${i}`, executor: 'crib', kind: 'shell', text: 'sleep 120', actor: 'console:bench', channel: '{}' });
    }
    await fleet.tick();
    const ticks: number[] = [];
    const scriptsPerTick: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = scripts;
      const started = performance.now();
      await fleet.tick();
      ticks.push(performance.now() - started);
      scriptsPerTick.push(scripts - before);
    }
    figures.push({
      measure: `status tick over ${running} running tasks on one host`,
      runs: ticks.length,
      p50Ms: round(percentile(ticks, 50), 0),
      maxMs: round(Math.max(...ticks), 0),
      note: `${Math.max(...scriptsPerTick)} remote script(s) per tick`,
    });
  } finally {
    await fleet.close();
    db.close();
    try {
      execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // nothing left to kill
    }
    await sshd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
