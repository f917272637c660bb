import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExecutorConfig } from '../../src/executors/config.js';
import { isSwitchboardError, type SwitchboardError } from '../../src/errors.js';
import { encodeProjectPath } from '../../src/offload/paths.js';
import type { OffloadProgress } from '../../src/offload/offloader.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { sshdLogin, startSshd, type Sshd } from '../helpers/sshd.js';
import { killTmuxServer, removeDir, tempDir } from '../executors/harness.js';
import { createOffloadHarness, runClaude, type OffloadHarness } from './harness.js';

// Offload through the real pieces: rsync over OpenSSH to a real sshd (host key pinned), the real claude CLI on both
// sides against the fake Messages API, tmux on the "remote" side through the executor layer.

const TOKEN = 'tok-3f9a "quoted" $(not run)';

describe('offload to an ssh executor and back', () => {
  let sshd: Sshd;
  let fake: FakeAnthropic;
  let root: string;
  let h: OffloadHarness;
  let workspace: string;
  let localConfig: string;
  let remoteConfig: string;
  const socket = `sbtest-offload-${process.pid}`;
  const sessionId = randomUUID();

  function executor(name: string, extra: Partial<ExecutorConfig> = {}): ExecutorConfig {
    return {
      type: 'ssh',
      name,
      ...sshdLogin(sshd),
      labels: [],
      env: claudeEnv({ baseUrl: fake.baseUrl, configDir: remoteConfig }),
      maxConcurrent: 4,
      tmuxPath: 'tmux',
      tmuxSocket: socket,
      claudePath: CLAUDE_PATH,
      workspace: join(root, 'remote home'),
      tasksDir: join(root, 'tasks'),
      ...extra,
    } as ExecutorConfig;
  }

  beforeAll(async () => {
    [sshd, fake] = await Promise.all([startSshd(), startFakeAnthropic()]);
    root = tempDir('sb-offload-');
    localConfig = join(root, 'local-claude');
    remoteConfig = join(root, 'remote-claude');
    mkdirSync(join(root, 'remote home'));
    // A workspace whose path has spaces and both kinds of quotes.
    workspace = join(root, `my ws 'single' "double"`);
    mkdirSync(join(workspace, 'src', 'build'), { recursive: true });
    mkdirSync(join(workspace, 'src', 'dist'), { recursive: true });
    mkdirSync(join(workspace, 'dist'));
    mkdirSync(join(workspace, 'node_modules', 'left-pad'), { recursive: true });
    mkdirSync(join(workspace, 'pkg'));
    writeFileSync(join(workspace, 'src', 'index.ts'), 'export const answer = 42;\n');
    writeFileSync(join(workspace, 'src', 'build', 'important.ts'), 'export const keep = true;\n');
    writeFileSync(join(workspace, 'src', 'dist', 'nested.ts'), 'export const nested = 1;\n');
    writeFileSync(join(workspace, 'dist', 'bundle.js'), 'built\n');
    writeFileSync(join(workspace, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;\n');
    writeFileSync(join(workspace, '.env'), 'SECRET=do-not-ship\n');
    writeFileSync(join(workspace, 'pkg', '.env.local'), 'SECRET=nested\n');
    writeFileSync(join(workspace, `odd 'name' "with" $(x) & spaces.txt`), 'odd\n');
    writeFileSync(join(workspace, 'new\nline.txt'), 'newline in the name\n');
    writeFileSync(join(workspace, 'ünïcödé ✓.md'), 'unicode\n');
    writeFileSync(join(workspace, 'to-delete.txt'), 'the agent deletes this remotely\n');
    symlinkSync('src/index.ts', join(workspace, 'link-to-index'));
    symlinkSync('/nonexistent/target', join(workspace, 'dangling'));
    writeFileSync(join(workspace, '.gitignore'), 'dist/\nnode_modules/\n.env*\n');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: workspace, env: { PATH: process.env['PATH'], HOME: root, GIT_CONFIG_NOSYSTEM: '1' } });
    git('init', '-q', '-b', 'main');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=T', 'add', '-A');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=T', 'commit', '-q', '-m', 'first commit');
    // A real local conversation to continue there.
    await runClaude(workspace, claudeEnv({ baseUrl: fake.baseUrl, configDir: localConfig }), sessionId, 'Remember PINEAPPLE for later');
    h = createOffloadHarness({
      dir: root,
      executors: [executor('box'), executor('norsync'), executor('tiny')],
      runtimeEnv: {
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        CLAUDE_CONFIG_DIR: localConfig,
        SB_OFFLOAD_TOKEN: TOKEN,
        SB_NOT_REQUESTED: 'must-not-travel',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await h?.close();
    killTmuxServer(socket);
    await Promise.all([sshd?.stop(), fake?.close()]);
    if (root) removeDir(root);
  });

  test('the workspace and its session move; the task resumes the same conversation there', async () => {
    const localSession = join(localConfig, 'projects', encodeProjectPath(workspace), `${sessionId}.jsonl`);
    expect(existsSync(localSession)).toBe(true);
    const progress: OffloadProgress[] = [];
    const started = Date.now();
    const result = await h.offloader.offload({
      executor: 'box',
      name: 'kumo',
      workspace,
      prompt: 'What was the word? BASH: printf %s "$SB_OFFLOAD_TOKEN" > token.txt; rm to-delete.txt',
      env: ['SB_OFFLOAD_TOKEN'],
      actor: 'console:test',
      channel: 'console',
      onProgress: (p) => progress.push(p),
    });
    const elapsed = Date.now() - started;
    const remote = join(root, 'remote home', `my ws 'single' "double"`);
    expect(result.remotePath).toBe(remote);
    expect(result.session).toEqual({ id: sessionId, bytes: statSync(localSession).size });
    expect(result.envSent).toEqual(['SB_OFFLOAD_TOKEN']);
    expect(result.task.sessionId).toBe(sessionId);
    expect(result.task.workspace).toBe(remote);
    // Progress: files and bytes, ending at the whole workspace.
    const last = progress.filter((p) => p.phase === 'workspace').at(-1)!;
    expect(last.filesTotal).toBeGreaterThanOrEqual(10);
    expect(last.bytes).toBeGreaterThan(0);
    expect(result.workspace.files).toBe(last.filesTotal);
    console.info(`offload: ${result.workspace.files} files, ${result.workspace.transferredSize} bytes synced in ${result.workspace.durationMs} ms; whole offload ${elapsed} ms`);

    const task = await h.finished('kumo');
    expect(task.status).toBe('succeeded');
    // The remote claude resumed the same conversation: the fake API saw the earlier turn in the same request.
    const resumed = await fake.waitForRequest('What was the word?');
    expect(resumed.userTexts.some((t) => t.includes('Remember PINEAPPLE for later'))).toBe(true);
    expect(resumed.lastUserText).toContain(`now at ${remote}`);
    // The session file landed under the remote workspace's key, private.
    const remoteSession = join(remoteConfig, 'projects', encodeProjectPath(remote), `${sessionId}.jsonl`);
    expect(statSync(remoteSession).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(remoteConfig, 'projects', encodeProjectPath(remote))).filter((n) => n.endsWith('.jsonl'))).toEqual([`${sessionId}.jsonl`]);
    // The named variable reached the task; nothing else from the bot's environment did.
    expect(readFileSync(join(remote, 'token.txt'), 'utf8')).toBe(TOKEN);
    const envFile = readFileSync(join(h.fleet.get('kumo')!.remoteDir!, 'env'), 'utf8');
    expect(envFile).toContain('SB_OFFLOAD_TOKEN=');
    expect(envFile).not.toContain('must-not-travel');
    expect(statSync(join(h.fleet.get('kumo')!.remoteDir!, 'env')).mode & 0o777).toBe(0o600);

    // What went and what stayed.
    expect(existsSync(join(remote, '.env'))).toBe(false);
    expect(existsSync(join(remote, 'pkg', '.env.local'))).toBe(false);
    expect(existsSync(join(remote, 'dist'))).toBe(false);
    expect(existsSync(join(remote, 'node_modules'))).toBe(false);
    expect(readFileSync(join(remote, 'src', 'build', 'important.ts'), 'utf8')).toContain('keep');
    expect(readFileSync(join(remote, 'src', 'dist', 'nested.ts'), 'utf8')).toContain('nested');
    expect(readFileSync(join(remote, `odd 'name' "with" $(x) & spaces.txt`), 'utf8')).toBe('odd\n');
    expect(readFileSync(join(remote, 'new\nline.txt'), 'utf8')).toBe('newline in the name\n');
    expect(readFileSync(join(remote, 'ünïcödé ✓.md'), 'utf8')).toBe('unicode\n');
    expect(lstatSync(join(remote, 'link-to-index')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(remote, 'link-to-index'))).toBe('src/index.ts');
    expect(readlinkSync(join(remote, 'dangling'))).toBe('/nonexistent/target');
    // .git came whole: git works there and sees the same history.
    const gitLog = execFileSync('git', ['-C', remote, 'log', '--format=%s'], { env: { PATH: process.env['PATH'], HOME: root } }).toString();
    expect(gitLog.trim()).toBe('first commit');
    execFileSync('git', ['-C', remote, 'fsck', '--no-progress'], { env: { PATH: process.env['PATH'], HOME: root } });
  });

  test('the same workspace again before its changes came back: refused, nothing overwritten', async () => {
    const error = await failure(h.offloader.offload({ executor: 'box', name: 'kumo-early', workspace, prompt: 'p', actor: 'a', channel: 'c' }));
    expect(error.code).toBe('target_exists');
    expect(error.message).toContain('holds the work of kumo, which has not come back yet');
    expect(error.hint).toContain('offload --back kumo');
    expect(h.fleet.get('kumo-early')).toBeNull();
  });

  test('offload --back brings the changes home, keeping every local file it replaces, and the longer session', async () => {
    const remote = join(root, 'remote home', `my ws 'single' "double"`);
    // Meanwhile, a local edit that the remote copy will overwrite, and a local .env that must survive.
    writeFileSync(join(workspace, 'src', 'index.ts'), 'export const answer = 41; // local edit\n');
    writeFileSync(join(remote, 'src', 'index.ts'), 'export const answer = 43; // remote edit\n');
    const before = readFileSync(join(localConfig, 'projects', encodeProjectPath(workspace), `${sessionId}.jsonl`), 'utf8').split('\n').length;
    const result = await h.offloader.back('kumo');
    expect(readFileSync(join(workspace, 'src', 'index.ts'), 'utf8')).toContain('remote edit');
    expect(readFileSync(join(workspace, 'token.txt'), 'utf8')).toBe(TOKEN);
    expect(existsSync(join(workspace, 'to-delete.txt'))).toBe(false);
    expect(readFileSync(join(workspace, '.env'), 'utf8')).toBe('SECRET=do-not-ship\n');
    expect(existsSync(join(workspace, 'node_modules', 'left-pad', 'index.js'))).toBe(true);
    expect(result.backupDir).not.toBeNull();
    expect(readFileSync(join(result.backupDir!, 'workspace', 'src', 'index.ts'), 'utf8')).toContain('local edit');
    expect(readFileSync(join(result.backupDir!, 'workspace', 'to-delete.txt'), 'utf8')).toContain('deletes');
    expect(result.sessionCopied).toBe(true);
    const after = readFileSync(join(localConfig, 'projects', encodeProjectPath(workspace), `${sessionId}.jsonl`), 'utf8').split('\n').length;
    expect(after).toBeGreaterThan(before);
    expect(h.offloader.get('kumo')!.state).toBe('back');
    execFileSync('git', ['-C', workspace, 'fsck', '--no-progress'], { env: { PATH: process.env['PATH'], HOME: root } });
  });

  test('after --back, the same workspace goes again (changes only); refused while a task works in that directory', async () => {
    const held = await h.offloader.offload({ executor: 'box', name: 'kumo-two', workspace, prompt: 'HOLD:kumo2 keep busy', actor: 'a', channel: 'c' });
    expect(held.workspace.transferred).toBeLessThan(5);
    await fake.waitForRequest('HOLD:kumo2');
    const busy = await failure(h.offloader.offload({ executor: 'box', name: 'kumo-three', workspace, prompt: 'p', actor: 'a', channel: 'c' }));
    expect(busy.code).toBe('target_exists');
    expect(busy.message).toContain('task kumo-two is running');
    fake.release('kumo2');
    expect((await h.finished('kumo-two')).status).toBe('succeeded');
    // The conversation carries on with every earlier turn, local and remote.
    const request = await fake.waitForRequest('HOLD:kumo2');
    expect(request.userTexts.some((t) => t.includes('What was the word?'))).toBe(true);
    await h.fleet.forget('kumo-two');
    h.offloader.forget('kumo-two');
  });

  async function failure(promise: Promise<unknown>): Promise<SwitchboardError> {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    if (!isSwitchboardError(error)) throw new Error(`expected a SwitchboardError, got ${String(error)}`);
    return error;
  }

  test('a workspace with no Claude session: said so, nothing copied; with a prompt it starts fresh there', async () => {
    const bare = join(root, 'bare workspace');
    mkdirSync(bare);
    writeFileSync(join(bare, 'README.md'), 'hello\n');
    const error = await failure(h.offloader.offload({ executor: 'box', name: 'bare', workspace: bare, actor: 'a', channel: 'c' }));
    expect(error.code).toBe('no_session');
    expect(error.message).toContain(`no Claude session for ${bare}`);
    expect(error.hint).toContain('Give a prompt');
    expect(existsSync(join(root, 'remote home', 'bare workspace'))).toBe(false);
    expect(h.fleet.get('bare')).toBeNull();

    const fresh = await h.offloader.offload({ executor: 'box', name: 'bare', workspace: bare, prompt: 'Start here', actor: 'a', channel: 'c' });
    expect(fresh.session).toBeNull();
    expect((await h.finished('bare')).status).toBe('succeeded');
    const request = await fake.waitForRequest('Start here');
    expect(request.userTexts).toEqual(['Start here']);
  });

  test('rsync missing on this machine or on the executor: missing_tool, saying where', async () => {
    const noLocalDir = tempDir('sb-offload-norsync-');
    const noLocal = createOffloadHarness({
      dir: noLocalDir,
      executors: [executor('box')],
      runtimeEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'], CLAUDE_CONFIG_DIR: localConfig },
      deps: { rsyncPath: '/nonexistent/bin/rsync' },
    });
    try {
      const local = await failure(noLocal.offloader.offload({ executor: 'box', name: 'x1', workspace, prompt: 'p', actor: 'a', channel: 'c' }));
      expect(local.code).toBe('missing_tool');
      expect(local.message).toContain('rsync not found on this machine');
    } finally {
      await noLocal.close();
      removeDir(noLocalDir);
    }
    const noRemoteDir = tempDir('sb-offload-noremote-');
    const noRemote = createOffloadHarness({
      dir: noRemoteDir,
      executors: [executor('norsync')],
      runtimeEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'], CLAUDE_CONFIG_DIR: localConfig },
      deps: { remoteRsyncPath: '/nonexistent/bin/rsync' },
    });
    try {
      const remote = await failure(noRemote.offloader.offload({ executor: 'norsync', name: 'x2', workspace, prompt: 'p', actor: 'a', channel: 'c' }));
      expect(remote.code).toBe('missing_tool');
      expect(remote.message).toContain(`rsync not found on ssh executor 'norsync' (${sshd.user}@127.0.0.1:${sshd.port})`);
      expect(remote.hint).toContain('Install rsync on that host');
    } finally {
      await noRemote.close();
      removeDir(noRemoteDir);
    }
  });

  test('a target directory that holds something else is never overwritten', async () => {
    const occupied = join(root, 'occupied');
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'precious.txt'), 'mine\n');
    const error = await failure(h.offloader.offload({ executor: 'box', name: 'clash', workspace, to: occupied, prompt: 'p', actor: 'a', channel: 'c' }));
    expect(error.code).toBe('target_exists');
    expect(error.message).toContain(occupied);
    expect(error.hint).toContain('--to');
    expect(readdirSync(occupied)).toEqual(['precious.txt']);
  });

  test('the executor runs out of disk space: disk_full naming the host, the task never starts', async () => {
    const mount = join(root, 'tiny-disk');
    mkdirSync(mount);
    // A real full disk: a 256 KB tmpfs, writable by whoever the test sshd logs in as.
    privileged('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=1777', 'tmpfs', mount]);
    const big = join(root, 'big workspace');
    mkdirSync(big);
    writeFileSync(join(big, 'blob.bin'), Buffer.alloc(2 * 1024 * 1024, 7));
    try {
      const error = await failure(h.offloader.offload({ executor: 'tiny', name: 'toobig', workspace: big, to: join(mount, 'ws'), prompt: 'p', actor: 'a', channel: 'c' }));
      expect(error.code, error.message).toBe('disk_full');
      expect(error.message).toContain("ssh executor 'tiny'");
      expect(error.hint).toContain('Free some space');
      expect(h.fleet.get('toobig')).toBeNull();
      expect(h.offloader.get('toobig')!.state).toBe('failed');
    } finally {
      await unmount(mount);
      rmSync(big, { recursive: true, force: true });
    }
  });
});

/**
 * Mounting needs root: as root directly (CI), else through passwordless sudo (the README's test line installs
 * with sudo too). Neither: the test fails saying so, rather than skipping the disk-full path unnoticed.
 */
function privileged(command: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  try {
    if (asRoot) execFileSync(command, args, { stdio: 'ignore' });
    else execFileSync('sudo', ['-n', command, ...args], { stdio: 'ignore' });
  } catch (error) {
    throw new Error(`\`${command} ${args.join(' ')}\` failed${asRoot ? '' : ' (not root, and `sudo -n` did not work)'}: run the tests as root or with passwordless sudo`, { cause: error });
  }
}

/** The remote rsync may still be exiting (and holding the mount) when the local one has reported: retry briefly. */
async function unmount(mount: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      privileged('umount', [mount]);
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        privileged('umount', ['-l', mount]);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
