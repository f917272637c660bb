import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExecutorConfig } from '../../src/executors/config.js';
import { isSwitchboardError, type SwitchboardError } from '../../src/errors.js';
import type { OffloadSpec } from '../../src/offload/offloader.js';
import { encodeProjectPath } from '../../src/offload/paths.js';
import { sshdLogin, startSshd, type Sshd } from '../helpers/sshd.js';
import { killTmuxServer, removeDir, tempDir } from '../executors/harness.js';
import { createOffloadHarness, type OffloadHarness } from './harness.js';

// A failed offload takes back what it made on the executor (real rsync over OpenSSH to a real sshd) and nothing
// else: directories that were there before stay, with what they held.

describe('a failed offload leaves nothing behind', () => {
  let sshd: Sshd;
  let root: string;
  let remoteHome: string;
  let remoteConfig: string;
  let localConfig: string;
  let workspace: string;
  let h: OffloadHarness;
  let brokenRsync: OffloadHarness;
  const socket = `sbtest-leftovers-${process.pid}`;

  /** claude is missing there: the workspace and the session are copied, then the task cannot start. */
  function executor(): ExecutorConfig {
    return {
      type: 'ssh',
      name: 'box',
      ...sshdLogin(sshd),
      labels: [],
      env: { CLAUDE_CONFIG_DIR: remoteConfig },
      maxConcurrent: 2,
      tmuxPath: 'tmux',
      tmuxSocket: socket,
      claudePath: '/nonexistent/bin/claude',
      workspace: remoteHome,
      tasksDir: join(root, 'tasks'),
    } as ExecutorConfig;
  }

  beforeAll(async () => {
    sshd = await startSshd();
    root = tempDir('sb-offload-leftovers-');
    remoteHome = join(root, 'remote home');
    remoteConfig = join(root, 'remote-claude');
    localConfig = join(root, 'local-claude');
    mkdirSync(remoteHome);
    // The executor's Claude config exists (with the user's settings); its projects folder does not yet.
    mkdirSync(remoteConfig);
    writeFileSync(join(remoteConfig, 'settings.json'), '{}\n');
    workspace = join(root, 'ws one');
    mkdirSync(join(workspace, 'src', 'deep'), { recursive: true });
    writeFileSync(join(workspace, 'src', 'deep', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(workspace, 'README.md'), 'hello\n');
    // A local conversation of that workspace, so the session is copied too.
    const project = join(localConfig, 'projects', encodeProjectPath(workspace));
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, `${randomUUID()}.jsonl`), '{"type":"user","message":{"role":"user","content":"hi"}}\n');
    const runtimeEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], CLAUDE_CONFIG_DIR: localConfig };
    // This machine's home is the test root: a relative --workspace is under it.
    h = createOffloadHarness({ dir: root, executors: [executor()], runtimeEnv, deps: { homeDir: root, cwd: join(root, 'remote home') } });
    const brokenDir = join(root, 'broken-rsync-harness');
    mkdirSync(brokenDir);
    // An rsync on the executor that dies at once: the copy fails after the target directories were made.
    brokenRsync = createOffloadHarness({ dir: brokenDir, executors: [executor()], runtimeEnv, deps: { remoteRsyncPath: '/bin/false', homeDir: root } });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([h?.close(), brokenRsync?.close()]);
    killTmuxServer(socket);
    await sshd?.stop();
    if (root) removeDir(root);
  });

  async function failure(harness: OffloadHarness, spec: Partial<OffloadSpec> & { name: string }): Promise<SwitchboardError> {
    const error = await harness.offloader
      .offload({ executor: 'box', workspace, prompt: 'go on', actor: 'a', channel: 'c', ...spec })
      .then(() => undefined, (e: unknown) => e);
    if (!isSwitchboardError(error)) throw new Error(`expected a SwitchboardError, got ${String(error)}`);
    return error;
  }

  test('the task cannot start: the copied workspace (~/<basename>) and the session folder go; the executor’s own folders stay', async () => {
    const error = await failure(h, { name: 'nostart' });
    expect(error.code, error.message).toBe('missing_tool');
    expect(error.message).toContain('/nonexistent/bin/claude');
    // The copy did happen before the failure (so there was something to take back).
    const record = h.offloader.get('nostart')!;
    expect(record.state).toBe('failed');
    expect(record.remotePath).toBe(join(remoteHome, 'ws one'));
    expect(record.lastSync?.files).toBeGreaterThanOrEqual(4);
    expect(readdirSync(remoteHome)).toEqual([]);
    expect(readdirSync(remoteConfig)).toEqual(['settings.json']);
  });

  test('a target that existed empty is emptied again, not removed', async () => {
    const target = join(root, 'empty target');
    mkdirSync(target);
    const error = await failure(h, { name: 'intoempty', to: target });
    expect(error.code).toBe('missing_tool');
    expect(h.offloader.get('intoempty')!.lastSync?.files).toBeGreaterThanOrEqual(4);
    expect(existsSync(target)).toBe(true);
    expect(readdirSync(target)).toEqual([]);
    expect(readdirSync(remoteConfig)).toEqual(['settings.json']);
  });

  test('rsync fails: every directory mkdir -p made for --to goes, up to the first one that was there', async () => {
    const error = await failure(brokenRsync, { name: 'norsync', to: join(root, 'fresh', 'deeper', 'ws') });
    // rsync reports a peer that hangs up at once as the connection failing.
    expect(error.code, error.message).toBe('executor_unreachable');
    expect(error.message).toContain('while copying the workspace');
    expect(brokenRsync.offloader.get('norsync')!.remotePath).toBe(join(root, 'fresh', 'deeper', 'ws'));
    expect(existsSync(join(root, 'fresh'))).toBe(false);
    expect(existsSync(root)).toBe(true);
    expect(readdirSync(remoteHome)).toEqual([]);
  });

  test('the default target under an executor workspace that holds other work: only the new folder goes', async () => {
    writeFileSync(join(remoteHome, 'other-project.txt'), 'not ours\n');
    const error = await failure(brokenRsync, { name: 'besides' });
    expect(error.code).toBe('executor_unreachable');
    expect(readdirSync(remoteHome)).toEqual(['other-project.txt']);
  });

  test('relative paths: --workspace is under this machine’s home (not the bot’s working directory), --to under the executor’s workspace', async () => {
    // The bot's working directory here is `remote home`, which has no `ws one`: only the home-relative reading exists.
    const error = await failure(h, { name: 'relative', workspace: 'ws one', to: 'nested/rel target' });
    expect(error.code, error.message).toBe('missing_tool');
    const record = h.offloader.get('relative')!;
    expect(record.localPath).toBe(workspace);
    expect(record.remotePath).toBe(join(remoteHome, 'nested', 'rel target'));
    expect(existsSync(join(remoteHome, 'nested'))).toBe(false);
  });
});
