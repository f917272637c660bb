import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { createSshHost, type ExecutorConfig, type Host } from '../../src/executors/index.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { sshdLogin, startSshd, type Sshd } from '../helpers/sshd.js';
import { createOffloadHarness, runClaude, type OffloadHarness } from '../offload/harness.js';
import { killTmuxServer, recordingLogger, removeDir, tempDir } from './harness.js';
import { HOSTILE } from './suite.js';

// An SSH host whose sshd has no `Subsystem sftp` line (hardened hosts, minimal images): files move through exec
// channels instead, and tasks, Claude and offload work as on any other host. With SFTP present, SFTP is used.

const REFUSED = /subsystem request for sftp by user \S+ failed, subsystem not found/g;
const SERVED = /Starting session: subsystem 'sftp' for /g;

function hostFor(sshd: Sshd, logs: string[]): Host {
  return createSshHost(
    { executor: 'direct', host: sshd.host, port: sshd.port, user: sshd.user, privateKey: readFileSync(sshd.userKeyPath), identityFile: sshd.userKeyPath, hostKey: sshd.hostKeyFingerprint, insecureAcceptNewHostKey: false, connectTimeoutMs: 10_000 },
    { clock: systemClock, logger: recordingLogger(logs) },
  );
}

/** Every byte value, twice, and a line of text: what goes up must come back exactly. */
const BINARY = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)), Buffer.from('\nend é 🚀\n')]);

/** What the file layer must do on any host, whichever way the bytes travel. */
async function filesRoundTrip(host: Host, dir: string): Promise<void> {
  const path = join(dir, 'blob.bin');
  await host.writeFile(path, BINARY, 0o640);
  expect(readFileSync(path)).toEqual(BINARY);
  expect(statSync(path).mode & 0o777).toBe(0o640);
  // Replacing an existing file sets the new mode too.
  await host.writeFile(path, 'short', 0o600);
  expect(readFileSync(path, 'utf8')).toBe('short');
  expect(statSync(path).mode & 0o777).toBe(0o600);
  await host.writeFile(path, BINARY, 0o600);

  expect(await host.readFile(path)).toEqual({ data: BINARY, size: BINARY.length, offset: 0 });
  expect(await host.readFile(path, { fromOffset: 500 })).toEqual({ data: BINARY.subarray(500), size: BINARY.length, offset: 500 });
  expect(await host.readFile(path, { tailBytes: 20 })).toEqual({ data: BINARY.subarray(-20), size: BINARY.length, offset: BINARY.length - 20 });
  expect(await host.readFile(path, { fromOffset: 10, maxBytes: 5 })).toEqual({ data: BINARY.subarray(10, 15), size: BINARY.length, offset: 10 });
  expect(await host.readFile(path, { fromOffset: BINARY.length + 9 })).toEqual({ data: Buffer.alloc(0), size: BINARY.length, offset: BINARY.length });
  expect(await host.readFile(join(dir, 'missing'))).toBeNull();
  // Nothing half-written is left beside the file.
  expect(readdirSync(dir)).toEqual(['blob.bin']);
}

describe('an ssh host without the SFTP subsystem', () => {
  let sshd: Sshd;
  let fake: FakeAnthropic;
  let root: string;
  let h: OffloadHarness;
  let localConfig: string;
  let remoteConfig: string;
  const socket = `sbtest-nosftp-${process.pid}`;

  beforeAll(async () => {
    [sshd, fake] = await Promise.all([startSshd({ sftp: false }), startFakeAnthropic()]);
    root = tempDir('sb-nosftp-');
    localConfig = join(root, 'local-claude');
    remoteConfig = join(root, 'remote-claude');
    mkdirSync(join(root, 'remote home'));
    const executor: ExecutorConfig = {
      type: 'ssh',
      name: 'bare',
      ...sshdLogin(sshd),
      labels: [],
      env: { ...claudeEnv({ baseUrl: fake.baseUrl, configDir: remoteConfig }), GREETING: "it's $(not run)" },
      maxConcurrent: 4,
      tmuxPath: 'tmux',
      tmuxSocket: socket,
      claudePath: CLAUDE_PATH,
      workspace: join(root, 'remote home'),
      tasksDir: join(root, 'tasks'),
    } as ExecutorConfig;
    h = createOffloadHarness({
      dir: root,
      executors: [executor],
      runtimeEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'], CLAUDE_CONFIG_DIR: localConfig },
    });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    killTmuxServer(socket);
    await Promise.all([sshd?.stop(), fake?.close()]);
    if (root) removeDir(root);
  });

  test('a shell task runs to completion: its command arrives byte for byte through stdin, private, and its output comes back', async () => {
    const task = await h.fleet.start({ name: 'sh', executor: 'bare', kind: 'shell', text: `cat <<'EOF'\n${HOSTILE}EOF\nprintf 'greeting=%s\\n' "$GREETING"; exit 4`, actor: 'a', channel: 'c' });
    const done = await h.finished('sh');
    expect(done).toMatchObject({ status: 'failed', exitCode: 4 });
    expect(await h.fleet.logs('sh', 50)).toBe(`${HOSTILE.trimEnd()}\ngreeting=it's $(not run)`);
    expect(statSync(task.remoteDir!).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(task.remoteDir!).filter((n) => ['prompt', 'env', 'script'].includes(n))) {
      expect(statSync(join(task.remoteDir!, file)).mode & 0o777).toBe(0o600);
    }
    // The server refused the SFTP subsystem once; the connection remembered, and every later file went by exec.
    expect(sshd.log().match(REFUSED)).toHaveLength(1);
  }, 120_000);

  test('a Claude task runs to completion through it', async () => {
    await h.fleet.start({ name: 'cl', executor: 'bare', kind: 'claude', text: 'TODO fix the parser', actor: 'a', channel: 'c' });
    const done = await h.finished('cl');
    expect(done).toMatchObject({ status: 'succeeded' });
    expect(h.fleet.completion('cl')?.record).toMatchObject({ result: 'Done: TODO fix the parser', terminal_reason: 'completed' });
    expect(await h.fleet.logs('cl')).toContain('Done: TODO fix the parser');
    expect(sshd.log().match(REFUSED)).toHaveLength(1);
  }, 120_000);

  test('an offload moves the workspace and its session there, and the task resumes the conversation', async () => {
    const workspace = join(root, 'ws');
    mkdirSync(workspace);
    writeFileSync(join(workspace, 'notes.txt'), 'carried over\n');
    const sessionId = randomUUID();
    await runClaude(workspace, claudeEnv({ baseUrl: fake.baseUrl, configDir: localConfig }), sessionId, 'Remember MANGO for later');
    const result = await h.offloader.offload({ executor: 'bare', name: 'moved', workspace, prompt: 'Which fruit was it?', actor: 'a', channel: 'c' });
    const remote = join(root, 'remote home', 'ws');
    expect(result.remotePath).toBe(remote);
    expect(result.task.sessionId).toBe(sessionId);
    expect(readFileSync(join(remote, 'notes.txt'), 'utf8')).toBe('carried over\n');
    expect(await h.finished('moved')).toMatchObject({ status: 'succeeded' });
    const resumed = await fake.waitForRequest('Which fruit was it?');
    expect(resumed.userTexts.some((t) => t.includes('Remember MANGO for later'))).toBe(true);
  }, 180_000);

  test('the host layer moves any bytes as a script\'s stdin, with the mode asked, and says it did', async () => {
    const logs: string[] = [];
    const host = hostFor(sshd, logs);
    const dir = join(root, 'direct');
    mkdirSync(dir);
    try {
      await filesRoundTrip(host, dir);
      expect(host.fileTransfers).toEqual({ sftp: 0, exec: 9 });
      expect(logs.filter((l) => l.includes('no SFTP subsystem'))).toHaveLength(1);
      // Small files rode the long-lived command channel; a big one (3 MiB, more than one pipe buffer) gets its own
      // exec channel, and arrives whole.
      const execs = () => sshd.log().match(/Starting session: command for /g)?.length ?? 0;
      const before = execs();
      const big = randomBytes(3 * 1024 * 1024);
      await host.writeFile(join(dir, 'big'), big, 0o600);
      // sshd's log reaches us on a pipe of its own: wait for the line rather than assume it came first.
      for (const deadline = Date.now() + 10_000; execs() === before && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(execs()).toBe(before + 1);
      expect(readFileSync(join(dir, 'big')).equals(big)).toBe(true);
      expect((await host.readFile(join(dir, 'big')))!.data.equals(big)).toBe(true);
    } finally {
      await host.close();
    }
  }, 120_000);
});

describe('an ssh host with the SFTP subsystem', () => {
  let sshd: Sshd;
  let dir: string;

  beforeAll(async () => {
    sshd = await startSshd();
    dir = join(sshd.dir, 'files');
    mkdirSync(dir);
  }, 60_000);

  afterAll(async () => {
    await sshd?.stop();
  });

  test('files move over SFTP, one session for all of them', async () => {
    const host = hostFor(sshd, []);
    try {
      await filesRoundTrip(host, dir);
      expect(host.fileTransfers).toEqual({ sftp: 9, exec: 0 });
      expect(sshd.log().match(SERVED)).toHaveLength(1);
      expect(sshd.log()).not.toMatch(REFUSED);
    } finally {
      await host.close();
    }
  }, 60_000);
});
