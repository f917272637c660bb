import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { ExecutorConfig } from '../../src/executors/index.js';
import { createOpencodeClient } from '../../src/opencode/client.js';
import { createOpencodeHosts, opencodeHostMigrations } from '../../src/opencode-host/index.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { fakeProviderConfig, opencodeIsolationEnv } from '../helpers/opencode-server.js';
import { sshdLogin, startSshd, type Sshd } from '../helpers/sshd.js';
import { killTmuxServer, recordingLogger, removeDir, tempDir } from '../executors/harness.js';

const OPENCODE_BIN = new URL('../../node_modules/.bin/opencode', import.meta.url).pathname;

// A managed `opencode serve` on a host whose sshd has no SFTP subsystem: its wrapper and env file go up through
// exec channels, and the server is reached through the same tunnel as anywhere else.

describe('an OpenCode server Switchboard starts on an ssh host without SFTP', () => {
  let sshd: Sshd;
  let llm: FakeLlm;
  let root: string;
  let db: Db;
  const logs: string[] = [];
  const socket = `sbtest-ocnosftp-${process.pid}`;
  let hosts: ReturnType<typeof createOpencodeHosts>;

  beforeAll(async () => {
    [sshd, llm] = await Promise.all([startSshd({ sftp: false }), startFakeLlm()]);
    root = tempDir('sb-ocnosftp-');
    const xdg = (name: string) => join(root, 'xdg', name);
    for (const dir of [join(root, 'home'), join(root, 'tasks'), join(root, 'project'), xdg('data'), xdg('state'), xdg('cache'), join(xdg('config'), 'opencode')]) mkdirSync(dir, { recursive: true });
    writeFileSync(join(xdg('config'), 'opencode', 'opencode.json'), fakeProviderConfig(llm.baseUrl));
    const executor = {
      type: 'ssh',
      name: 'bare',
      ...sshdLogin(sshd),
      opencodePath: OPENCODE_BIN,
      labels: [],
      env: { HOME: join(root, 'home'), ...opencodeIsolationEnv(xdg) },
      maxConcurrent: 1,
      tmuxPath: 'tmux',
      tmuxSocket: socket,
      tasksDir: join(root, 'tasks'),
    } as ExecutorConfig;
    db = openDatabase(join(root, 'switchboard.db'), opencodeHostMigrations);
    hosts = createOpencodeHosts({ db, executors: [executor], clock: systemClock, logger: recordingLogger(logs), runtimeEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'] }, secret: 'test-secret', killGraceMs: 2_000 });
  }, 180_000);

  afterAll(async () => {
    await hosts?.close();
    killTmuxServer(socket);
    db?.close();
    await Promise.all([sshd?.stop(), llm?.close()]);
    if (root) removeDir(root);
  });

  test('it starts, answers through the tunnel, and its files went by exec channel', async () => {
    const server = await hosts.ensure('bare');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = createOpencodeClient(await hosts.ref('bare'), { timeoutMs: 30_000 });
    expect((await client.health()).healthy).toBe(true);
    const session = await client.createSession({ directory: join(root, 'project'), title: 'no sftp' });
    expect(session.directory).toBe(join(root, 'project'));
    expect(sshd.log()).toMatch(/subsystem request for sftp by user \S+ failed, subsystem not found/);
    expect(logs.some((l) => l.includes('no SFTP subsystem'))).toBe(true);
  }, 180_000);
});
