import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExecutorConfig } from '../../src/executors/config.js';
import type { TaskEvent } from '../../src/executors/fleet.js';
import { isSwitchboardError } from '../../src/errors.js';
import { shellQuote } from '../../src/executors/protocol/quote.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { createHarness, processesOfTask, removeDir, tempDir, type FleetHarness } from './harness.js';

const SHIM = new URL('./container-shim.mjs', import.meta.url).pathname;
const IMAGE = 'ghcr.io/acme/agent:1';

// No container engine can run here, so the runtime CLI is a recording shim (container-shim.mjs) that runs the
// "container" as a local process group. The argv it was given is the contract under test.
describe('container executor (docker CLI through a recording shim)', () => {
  let fake: FakeAnthropic;
  let root: string;
  let workspace: string;
  let cache: string;
  let shimState: string;
  let runtime: string;
  let userEnvFile: string;
  let h: FleetHarness;

  const calls = (): string[][] =>
    readFileSync(join(shimState, 'calls.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string[]);
  const finished = (name: string, timeoutMs = 60_000) =>
    h.tickUntil(`${name} to finish`, () => h.eventsFor(name).find((e): e is Extract<TaskEvent, { kind: 'finished' }> => e.kind === 'finished'), timeoutMs);

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    root = tempDir('sb-container-');
    workspace = join(root, 'ws');
    cache = join(root, 'cache');
    mkdirSync(cache);
    shimState = join(root, 'shim');
    mkdirSync(workspace);
    mkdirSync(shimState);
    // The bot's own environment never reaches what it runs here, so the shim learns where to record from its own
    // wrapper, as a docker binary would read its config.
    runtime = join(root, 'docker');
    writeFileSync(runtime, `#!/bin/sh\nSHIM_STATE=${shellQuote(shimState)} exec ${shellQuote(SHIM)} "$@"\n`, { mode: 0o755 });
    userEnvFile = join(root, 'user.env');
    writeFileSync(userEnvFile, 'FROM_USER_FILE=yes\n', { mode: 0o600 });
    const base = { labels: [], maxConcurrent: 4, runtime: 'docker' as const, image: IMAGE, workspace, tasksDir: join(root, 'tasks') };
    const executors: ExecutorConfig[] = [
      {
        type: 'container',
        name: 'box',
        ...base,
        runtimePath: runtime,
        volumes: [`${workspace}:${workspace}`, `${cache}:/cache:ro`],
        envFile: userEnvFile,
        user: '0:0',
        network: 'host',
        claudePath: CLAUDE_PATH,
        env: { ...claudeEnv({ baseUrl: fake.baseUrl, configDir: join(root, 'claude'), todoTools: true }), SECRET_TOKEN: 'hunter2' },
      },
      { type: 'container', name: 'nodocker', ...base, runtimePath: '/nonexistent/bin/docker', volumes: [], env: {} },
    ];
    h = createHarness({ dir: root, executors, deps: { runtimeEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'] } } });
  });

  afterAll(async () => {
    await h?.close();
    // Anything the shim still runs (a failed test) goes with its process group.
    for (const file of existsSync(shimState) ? readdirSync(shimState).filter((f) => f.endsWith('.json')) : []) {
      const entry = JSON.parse(readFileSync(join(shimState, file), 'utf8')) as { pgid?: number; running?: boolean };
      if (entry.running && entry.pgid) {
        try {
          process.kill(-entry.pgid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await fake?.close();
    removeDir(root);
  });

  test('run -d --init with a 0600 --env-file (no -e), user, network, the volumes, the task dir at its own path, bash as entrypoint; then inspect and rm', async () => {
    const task = await h.fleet.start({ name: 'c-shell', executor: 'box', kind: 'shell', text: 'printf "%s|%s|%s\\n" "$SECRET_TOKEN" "$FROM_USER_FILE" "$PWD"; exit 4', actor: 'a', channel: 'c' });
    const done = await finished('c-shell');
    expect(done.record).toMatchObject({ status: 'failed', exit_code: 4 });
    expect(await h.fleet.logs('c-shell')).toBe(`hunter2|yes|${workspace}`);

    const dir = task.remoteDir!;
    const session = `sb-${task.id}`;
    const mine = calls().filter((argv) => argv.includes(session));
    expect(mine.find((argv) => argv[0] === 'run')).toEqual([
      'run', '-d', '--init', '--name', session,
      '--env-file', `${dir}/container.env`,
      '--env-file', userEnvFile,
      '--user', '0:0',
      '--network', 'host',
      '-v', `${workspace}:${workspace}`,
      '-v', `${cache}:/cache:ro`,
      '-v', `${dir}:${dir}`,
      // No -w: both engines would create a missing one, root-owned; the wrapper's cd says it is missing.
      '--entrypoint', 'bash', IMAGE, `${dir}/wrapper.sh`, dir,
    ]);
    // The lifecycle: clear the name, run, inspect while it runs, remove it once finished.
    const verbs = mine.map((argv) => argv[0]);
    expect(verbs.slice(0, 2)).toEqual(['rm', 'run']);
    expect(verbs).toContain('inspect');
    await h.tickUntil('the finished container to be removed', () => calls().filter((argv) => argv.includes(session)).slice(-1)[0]?.join(' ') === `rm -f ${session}`);
    expect(calls().flat().some((word) => word.includes('hunter2'))).toBe(false);
    expect(statSync(`${dir}/container.env`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${dir}/container.env`, 'utf8')).toContain('SECRET_TOKEN=hunter2\n');
  });

  test('a claude task runs the same protocol inside the container: todos, result, and a crash resumed in a new container', async () => {
    const task = await h.fleet.start({ name: 'c-claude', executor: 'box', kind: 'claude', text: 'HOLD:ctr TODO in a container', actor: 'a', channel: 'c' });
    await fake.waitForRequest('HOLD:ctr');
    await h.tickUntil('claude to save its session', () => existsSync(join(root, 'claude', 'projects')) && readdirSync(join(root, 'claude', 'projects')).length > 0);
    // The container dies under the task (OOM killer, docker restart): no `done` is written.
    execFileSync(SHIM, ['kill', '--signal', 'KILL', `sb-${task.id}`], { env: { ...process.env, SHIM_STATE: shimState } });
    const done = await finished('c-claude');
    expect(done.record).toMatchObject({ status: 'succeeded', attempts: 2, session_id: task.sessionId });
    expect(h.eventsFor('c-claude').find((e) => e.kind === 'resumed')).toMatchObject({ attempt: 2, reason: expect.stringContaining('its container exited') });
    const runs = calls().filter((argv) => argv[0] === 'run' && argv.includes(`sb-${task.id}`));
    expect(runs).toHaveLength(2);
    expect(runs[1]).toEqual(runs[0]);
  });

  test('kill: stop with the grace period, then rm; nothing of the task keeps running', async () => {
    const task = await h.fleet.start({ name: 'c-kill', executor: 'box', kind: 'shell', text: 'sleep 300 & python3 -c "import time; time.sleep(300)"', actor: 'a', channel: 'c' });
    await h.tickUntil('the container processes to run', () => processesOfTask(task.id).length >= 3);
    const killed = await h.fleet.kill('c-kill');
    expect(killed.status).toBe('killed');
    const session = `sb-${task.id}`;
    const verbs = calls()
      .filter((argv) => argv.includes(session))
      .map((argv) => argv.join(' '));
    const stop = verbs.indexOf(`stop -t 1 ${session}`);
    expect(stop).toBeGreaterThan(0);
    expect(verbs[stop - 1]).toBe(`inspect --format {{.Name}} {{json .State}} ${session}`);
    // Inspected once more before rm: exit 137 would say the grace period ran out.
    expect(verbs.slice(stop + 1, stop + 3)).toEqual([`inspect --format {{.Name}} {{json .State}} ${session}`, `rm -f ${session}`]);
    expect(processesOfTask(task.id)).toEqual([]);
  });

  test('a missing runtime binary: says which and where', async () => {
    const error = await h.fleet.start({ name: 'c-missing', executor: 'nodocker', kind: 'shell', text: 'true', actor: 'a', channel: 'c' }).catch((e: unknown) => e);
    expect(isSwitchboardError(error) && error.code).toBe('missing_tool');
    expect((error as Error).message).toContain("docker not found on this machine for container executor 'nodocker'");
    expect((error as Error).message).toContain('/nonexistent/bin/docker');
  });
});
