import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExecutorConfig } from '../../src/executors/config.js';
import { isSwitchboardError } from '../../src/errors.js';
import { startSshd, freePort, type Sshd } from '../helpers/sshd.js';
import { createHarness, killTmuxServer, type FleetHarness } from './harness.js';
import { defineExecutorSuite } from './suite.js';

// The ssh executor: the same behaviour as local, through a real sshd (ssh2, SFTP uploads, one probe exec per tick).
defineExecutorSuite('ssh');

describe('ssh executor: connection problems say what is wrong and where', () => {
  let sshd: Sshd;
  let h: FleetHarness;
  let closedPort: number;
  const socket = `sbtest-sshfail-${process.pid}`;
  const OTHER_KEY = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

  beforeAll(async () => {
    [sshd, closedPort] = await Promise.all([startSshd(), freePort()]);
    const base = { user: sshd.user, labels: [], env: {}, maxConcurrent: 1, tmuxPath: 'tmux', tmuxSocket: socket, connectTimeoutSec: 5, tasksDir: `${sshd.dir}/tasks` };
    const executors: ExecutorConfig[] = [
      { type: 'ssh', name: 'closed', host: '127.0.0.1', port: closedPort, identityFile: sshd.userKeyPath, insecureAcceptNewHostKey: true, ...base },
      { type: 'ssh', name: 'wrongkey', host: sshd.host, port: sshd.port, identityFile: sshd.unauthorizedKeyPath, hostKey: sshd.hostKeyFingerprint, insecureAcceptNewHostKey: false, ...base },
      { type: 'ssh', name: 'mitm', host: sshd.host, port: sshd.port, identityFile: sshd.userKeyPath, hostKey: OTHER_KEY, insecureAcceptNewHostKey: false, ...base },
      { type: 'ssh', name: 'unpinned', host: sshd.host, port: sshd.port, identityFile: sshd.userKeyPath, insecureAcceptNewHostKey: false, ...base },
      { type: 'ssh', name: 'tofu', host: sshd.host, port: sshd.port, identityFile: sshd.userKeyPath, insecureAcceptNewHostKey: true, ...base },
      { type: 'ssh', name: 'nokey', host: sshd.host, port: sshd.port, identityFile: '/nonexistent/id_ed25519', insecureAcceptNewHostKey: true, ...base },
    ];
    h = createHarness({ dir: sshd.dir, executors, deps: { readIdentity: (p) => readFileSync(p) } });
  });

  afterAll(async () => {
    await h?.close();
    killTmuxServer(socket);
    await sshd?.stop();
  });

  async function startError(executor: string) {
    const error = await h.fleet.start({ name: `t-${executor}`, executor, kind: 'shell', text: 'true', actor: 'a', channel: 'c' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isSwitchboardError(error)) throw new Error(`expected an error from ${executor}, got ${String(error)}`);
    expect(h.fleet.get(`t-${executor}`)).toBeNull();
    return error;
  }

  test('a closed port: unreachable, connection refused', async () => {
    const error = await startError('closed');
    expect(error.code).toBe('executor_unreachable');
    expect(error.message).toContain(`ssh executor 'closed' (${sshd.user}@127.0.0.1:${closedPort})`);
    expect(error.message).toContain('connection refused');
  });

  test('a key the server does not accept: authentication failed, naming the key and user', async () => {
    const error = await startError('wrongkey');
    expect(error.code).toBe('ssh_auth_failed');
    expect(error.message).toContain(sshd.unauthorizedKeyPath);
    expect(error.message).toContain(`for user ${sshd.user}`);
  });

  test('a host key that differs from the pinned one: refused, showing both fingerprints', async () => {
    const error = await startError('mitm');
    expect(error.code).toBe('host_key_mismatch');
    expect(error.message).toContain(`expected ${OTHER_KEY}`);
    expect(error.message).toContain(`presented ${sshd.hostKeyFingerprint}`);
  });

  test('an unpinned host key is refused unless insecureAcceptNewHostKey is set, and the message says how to pin it', async () => {
    const error = await startError('unpinned');
    expect(error.code).toBe('host_key_unknown');
    expect(error.message).toContain(sshd.hostKeyFingerprint);
    expect(error.hint).toContain(`hostKey: ${sshd.hostKeyFingerprint}`);
    expect(error.hint).toContain('insecureAcceptNewHostKey: true');
    expect((await h.fleet.check('tofu')).reachable).toBe(true);
  });

  test('an identity file that cannot be read: a config error naming the executor', async () => {
    const error = await startError('nokey');
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain("ssh executor 'nokey'");
    expect(error.message).toContain('/nonexistent/id_ed25519');
  });

  test('executors lists every problem without throwing', async () => {
    const statuses = await h.fleet.list();
    const codes = Object.fromEntries(statuses.map((s) => [s.name, s.error?.code ?? 'ok']));
    expect(codes).toEqual({
      closed: 'executor_unreachable',
      wrongkey: 'ssh_auth_failed',
      mitm: 'host_key_mismatch',
      unpinned: 'host_key_unknown',
      tofu: 'ok',
      nokey: 'config_invalid',
    });
  });
});

describe('ssh executor: the host goes away mid-task', () => {
  test('the task stays running while unreachable, the fleet reconnects with backoff, and it finishes', async () => {
    const sshd = await startSshd();
    const socket = `sbtest-sshdrop-${process.pid}`;
    const h = createHarness({
      dir: sshd.dir,
      executors: [
        { type: 'ssh', name: 'flaky', host: sshd.host, port: sshd.port, user: sshd.user, identityFile: sshd.userKeyPath, hostKey: sshd.hostKeyFingerprint, insecureAcceptNewHostKey: false, connectTimeoutSec: 5, labels: [], env: {}, maxConcurrent: 1, tmuxPath: 'tmux', tmuxSocket: socket, tasksDir: `${sshd.dir}/tasks` },
      ],
      deps: { readIdentity: (p) => readFileSync(p) },
    });
    const gate = `${sshd.dir}/gate`;
    try {
      await h.fleet.start({ name: 'survivor', executor: 'flaky', kind: 'shell', text: `while [ ! -e ${gate} ]; do sleep 0.1; done; echo made it`, actor: 'a', channel: 'c' });
      await h.fleet.tick();
      await sshd.pause();
      await h.tickUntil('the unreachable notice', () => h.events.find((e) => e.kind === 'unreachable'));
      await h.fleet.tick();
      expect(h.fleet.get('survivor')!.status).toBe('running');
      expect(h.events.filter((e) => e.kind === 'unreachable')).toEqual([{ kind: 'unreachable', executor: 'flaky', error: expect.stringContaining("ssh executor 'flaky'") }]);

      writeFileSync(gate, '');
      await sshd.resume();
      const done = await h.tickUntil('the task to finish', () => h.eventsFor('survivor').find((e) => e.kind === 'finished'));
      expect(done).toMatchObject({ record: { status: 'succeeded' } });
      expect(h.events.filter((e) => e.kind === 'back')).toEqual([{ kind: 'back', executor: 'flaky' }]);
      expect(await h.fleet.logs('survivor')).toBe('made it');
    } finally {
      await h.close();
      killTmuxServer(socket);
      await sshd.stop();
    }
  });
});
