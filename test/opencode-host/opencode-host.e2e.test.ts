import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { ExecutorConfig } from '../../src/executors/config.js';
import { isSwitchboardError } from '../../src/errors.js';
import { createEventHub } from '../../src/monitor/event-hub.js';
import { createOpencodeClient } from '../../src/opencode/client.js';
import { openEventStream, type ServerEvent } from '../../src/opencode/event-stream.js';
import type { ServerRef } from '../../src/opencode/server-ref.js';
import { createOpencodeHosts, type HostEvent, type OpencodeHosts } from '../../src/opencode-host/index.js';
import { opencodeHostMigrations } from '../../src/opencode-host/store.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { fakeProviderConfig, opencodeIsolationEnv } from '../helpers/opencode-server.js';
import { sshdLogin, startSshd, type Sshd } from '../helpers/sshd.js';
import { killTmuxServer, recordingLogger, removeDir, tempDir } from '../executors/harness.js';

const OPENCODE_BIN = new URL('../../node_modules/.bin/opencode', import.meta.url).pathname;
const SECRET = 'test-switchboard-secret';

// A real `opencode serve` started over SSH on a real sshd (loopback), inside tmux, reached only through an
// ssh2 tunnel, and driven with Switchboard's own OpenCode client.

describe('OpenCode servers Switchboard starts on an ssh executor', () => {
  let sshd: Sshd;
  let llm: FakeLlm;
  let root: string;
  let project: string;
  let dbPath: string;
  let db: Db;
  let hosts: OpencodeHosts;
  let events: HostEvent[];
  let logs: string[];
  const socket = `sbtest-ochost-${process.pid}`;

  function executors(): ExecutorConfig[] {
    const xdg = (name: string) => join(root, 'xdg', name);
    const base = {
      ...sshdLogin(sshd),
      labels: [],
      env: {
        HOME: join(root, 'home'),
        ...opencodeIsolationEnv(xdg),
      },
      maxConcurrent: 1,
      tmuxPath: 'tmux',
      tmuxSocket: socket,
      tasksDir: join(root, 'tasks'),
    };
    return [
      { type: 'ssh', name: 'crib', opencodePath: OPENCODE_BIN, ...base } as ExecutorConfig,
      { type: 'ssh', name: 'bare', opencodePath: '/nonexistent/bin/opencode', ...base } as ExecutorConfig,
      { type: 'container', name: 'box', runtime: 'docker', image: 'x', volumes: [], labels: [], env: {}, maxConcurrent: 1 } as ExecutorConfig,
    ];
  }

  function makeHosts(secret: string | undefined): OpencodeHosts {
    return createOpencodeHosts({
      db,
      executors: executors(),
      clock: systemClock,
      logger: recordingLogger(logs),
      runtimeEnv: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
      secret,
      onEvent: (event) => events.push(event),
      killGraceMs: 2_000,
    });
  }

  beforeAll(async () => {
    [sshd, llm] = await Promise.all([startSshd(), startFakeLlm()]);
    root = tempDir('sb-ochost-');
    project = join(root, 'project dir');
    for (const dir of ['home', 'tasks', project, ...['data', 'config', 'state', 'cache'].map((n) => join('xdg', n))]) {
      mkdirSync(dir.startsWith('/') ? dir : join(root, dir), { recursive: true });
    }
    const config = fakeProviderConfig(llm.baseUrl);
    mkdirSync(join(root, 'xdg', 'config', 'opencode'), { recursive: true });
    writeFileSync(join(root, 'xdg', 'config', 'opencode', 'opencode.json'), config);
    writeFileSync(join(project, 'opencode.json'), config);
    dbPath = join(root, 'switchboard.db');
    db = openDatabase(dbPath, opencodeHostMigrations);
    events = [];
    logs = [];
    hosts = makeHosts(SECRET);
  }, 180_000);

  afterAll(async () => {
    await hosts?.close();
    killTmuxServer(socket); // the server's tmux session and opencode in it
    db?.close();
    await Promise.all([sshd?.stop(), llm?.close()]);
    if (root) removeDir(root);
  });

  function serverDir(): string {
    const found = readdirSync(join(root, 'tasks')).find((n) => n.startsWith('switchboard-opencode.'));
    if (!found) throw new Error('no server directory');
    return join(root, 'tasks', found);
  }

  function serverPid(): number {
    return Number(readFileSync(join(serverDir(), 'pid'), 'utf8').split(' ')[0]);
  }

  /** Sends a prompt and resolves when the session goes idle (from the event stream, opened before sending). */
  async function prompt(ref: ServerRef, sessionId: string, text: string, timeoutMs = 90_000): Promise<void> {
    const client = createOpencodeClient(ref, { timeoutMs: 30_000 });
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    let idle!: () => void;
    const done = new Promise<void>((resolve) => (idle = resolve));
    const stream = openEventStream(ref, {
      onOpen: () => opened(),
      onEvent: (event: ServerEvent) => {
        if (event.type === 'session.idle' && event.properties['sessionID'] === sessionId) idle();
      },
    });
    try {
      await open;
      await client.promptAsync(sessionId, { text });
      await Promise.race([
        done,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no session.idle for ${sessionId} within ${timeoutMs} ms`)), timeoutMs)),
      ]);
    } finally {
      stream.close();
    }
  }

  test('new, send, todo and the final output, all through the tunnel; the server listens on loopback only and its password is nowhere in clear', async () => {
    const started = Date.now();
    const server = await hosts.ensure('crib');
    const ensureMs = Date.now() - started;
    const startedEvent = events.find((e) => e.kind === 'started');
    expect(startedEvent).toMatchObject({ kind: 'started', executor: 'crib' });
    if (startedEvent?.kind === 'started') {
      console.info(`opencode over ssh: ready in ${startedEvent.startMs} ms (serve to port line), tunnel ${startedEvent.tunnelMs} ms, ensure() total ${ensureMs} ms`);
    }
    expect(server.label).toBe('@crib');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toBe(`http://127.0.0.1:${server.remotePort}`);

    const ref = await hosts.ref('crib');
    const client = createOpencodeClient(ref, { timeoutMs: 30_000 });
    expect((await client.health()).healthy).toBe(true);
    // Without the password: refused.
    await expect(createOpencodeClient({ ...ref, password: 'wrong' }).health()).rejects.toMatchObject({ code: 'auth_failed' });

    const session = await client.createSession({ directory: project, title: 'remote work' });
    expect(session.directory).toBe(project);
    await prompt(ref, session.id, 'TODO fix the parser');
    const todos = await client.todo(session.id);
    expect(todos.map((t) => t.status)).toEqual(['completed', 'completed', 'in_progress', 'pending']);
    const messages = await client.messages(session.id);
    const last = messages.at(-1)!;
    expect(last.info.role).toBe('assistant');
    expect(last.parts.filter((p) => p.type === 'text').map((p) => (p as { text?: string }).text).join('')).toContain('Done: TODO fix the parser');

    // Loopback only: the listening socket is bound to 127.0.0.1.
    const portHex = server.remotePort.toString(16).toUpperCase().padStart(4, '0');
    const listening = readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((l) => l.includes(`:${portHex} 00000000:0000 0A`));
    expect(listening.length).toBeGreaterThan(0);
    for (const line of listening) expect(line.trim().split(/\s+/)[1]).toBe(`0100007F:${portHex}`);
    // The password: not in the database in clear, not in a file on the host, not on the command line.
    const row = db.prepare('SELECT * FROM opencode_hosts').get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(server.password);
    expect(String(row['password_sealed'])).toMatch(/^sb1\./);
    expect(readdirSync(serverDir()).sort()).toEqual(['pid', 'server.log', 'wrapper.sh']);
    expect(readFileSync(`/proc/${serverPid()}/cmdline`, 'utf8')).not.toContain(server.password);
    expect(logs.join('\n')).not.toContain(server.password);
  });

  test('the tunnel drops mid-watch (sshd goes away): the event stream reconnects and streams again', async () => {
    const ref = await hosts.ref('crib');
    const client = createOpencodeClient(ref, { timeoutMs: 30_000 });
    const session = await client.createSession({ directory: project });
    let connects = 0;
    const seen: string[] = [];
    const connected: Array<() => void> = [];
    const hub = createEventHub({
      logger: recordingLogger(logs),
      onConnected: () => {
        connects++;
        connected.splice(0).forEach((f) => f());
      },
      onEvent: (_key, event) => {
        if (event.properties['sessionID'] === session.id) seen.push(event.type);
      },
    });
    const nextConnect = () => new Promise<void>((resolve) => connected.push(resolve));
    try {
      const first = nextConnect();
      hub.want(new Map([['crib', ref]]));
      await first;
      const again = nextConnect();
      await sshd.pause();
      await sshd.resume();
      await again;
      expect(connects).toBe(2);
      await prompt(ref, session.id, 'after the drop');
      await waitFor('the hub to see the turn', () => seen.includes('session.idle'), 30_000);
    } finally {
      hub.want(new Map());
    }
  });

  test('a server that dies is restarted by the supervisor; its sessions survive', async () => {
    const before = await hosts.ensure('crib');
    const client = createOpencodeClient(await hosts.ref('crib'), { timeoutMs: 30_000 });
    const session = await client.createSession({ directory: project, title: 'survivor' });
    const oldPid = serverPid();
    process.kill(oldPid, 'SIGKILL');
    const tickEvents = await hosts.tick();
    expect(tickEvents).toEqual([{ kind: 'restarted', executor: 'crib', reason: expect.stringContaining('exited'), url: before.url }]);
    expect(serverPid()).not.toBe(oldPid);
    const after = await hosts.ensure('crib');
    expect(after.url).toBe(before.url); // the local end stays; the tunnel follows the new port
    expect(after.password).toBe(before.password); // kept: clients and event streams holding it go on working
    expect(hosts.current('crib')).toMatchObject({ label: '@crib', url: before.url, password: before.password });
    const fresh = createOpencodeClient(await hosts.ref('crib'), { timeoutMs: 30_000 });
    expect((await fresh.getSession(session.id)).title).toBe('survivor');
    expect(hosts.list()).toMatchObject([{ executor: 'crib', label: '@crib', state: 'running', restarts: 1, passwordKept: true }]);
  });

  test('the bot restarts: with SWITCHBOARD_SECRET it re-attaches to the same server; without it, the server is restarted with a new password and it says so', async () => {
    const pid = serverPid();
    const { remotePort } = await hosts.ensure('crib');
    await hosts.close();
    events.length = 0;
    hosts = makeHosts(SECRET);
    const attached = await hosts.reattach();
    expect(attached).toEqual([{ kind: 'attached', executor: 'crib', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), remotePort }]);
    expect(serverPid()).toBe(pid);
    expect((await createOpencodeClient(await hosts.ref('crib')).health()).healthy).toBe(true);

    await hosts.close();
    hosts = makeHosts(undefined);
    const reset = await hosts.reattach();
    expect(reset[0]).toMatchObject({ kind: 'password_reset', executor: 'crib', reason: expect.stringContaining('SWITCHBOARD_SECRET is not set') });
    expect(reset[1], JSON.stringify(reset)).toMatchObject({ kind: 'started', executor: 'crib' });
    expect(serverPid()).not.toBe(pid);
    const ref = await hosts.ref('crib');
    expect((await createOpencodeClient(ref).health()).healthy).toBe(true);
    // Without a secret nothing sealed is stored.
    expect((db.prepare('SELECT password_sealed FROM opencode_hosts').get() as { password_sealed: string | null }).password_sealed).toBeNull();
    expect(hosts.list()[0]!.passwordKept).toBe(false);
  });

  test('opencode missing on the host, or a container executor: clear errors; stop removes the server', async () => {
    const missing = await hosts.ensure('bare').catch((e: unknown) => e);
    expect(isSwitchboardError(missing) && missing.code).toBe('missing_tool');
    expect(String((missing as Error).message)).toContain(`opencode not found on ssh executor 'bare'`);
    expect((missing as { hint?: string }).hint).toContain('opencodePath');
    const container = await hosts.ensure('box').catch((e: unknown) => e);
    expect(isSwitchboardError(container) && container.code).toBe('usage');

    const pid = serverPid();
    await hosts.stop('crib');
    await waitFor('the server process to end', () => !isAlive(pid), 20_000);
    expect(readdirSync(join(root, 'tasks')).filter((n) => n.startsWith('switchboard-opencode.'))).toEqual([]);
    expect(hosts.list()).toEqual([]);
  });
});

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
