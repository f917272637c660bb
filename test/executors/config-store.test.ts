import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  executorDefaultsSchema,
  executorSchema,
  executorsSectionSchema,
  expandHome,
  resolveModel,
} from '../../src/executors/config.js';
import { openDatabase } from '../../src/sessions/database.js';
import { createTaskStore, taskMigrations, type CompletionRecord } from '../../src/executors/task-store.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook, signBody, webhookRetryDelayMs, type FetchLike } from '../../src/executors/webhook.js';
import { removeDir, tempDir } from './harness.js';

const KEY = 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8';

describe('executor config', () => {
  test('defaults', () => {
    expect(executorDefaultsSchema.parse({})).toMatchObject({ maxTurns: 100, claudePath: 'claude', maxRetries: 3 });
    expect(executorSchema.parse({ type: 'local', name: 'dev' })).toMatchObject({ labels: [], env: {}, maxConcurrent: 1, tmuxSocket: 'switchboard', tmuxPath: 'tmux' });
    expect(executorSchema.parse({ type: 'ssh', name: 'box', host: 'h', user: 'u', identityFile: '~/.ssh/id', hostKey: KEY })).toMatchObject({ port: 22, insecureAcceptNewHostKey: false });
  });

  test('ssh needs a key or the agent; a host key must look like SHA256:…', () => {
    expect(executorSchema.safeParse({ type: 'ssh', name: 'box', host: 'h', user: 'u' }).error?.issues[0]?.message).toContain('identityFile or agent');
    expect(executorSchema.safeParse({ type: 'ssh', name: 'box', host: 'h', user: 'u', agent: true }).success).toBe(true);
    expect(executorSchema.safeParse({ type: 'ssh', name: 'box', host: 'h', user: 'u', agent: true, hostKey: 'MD5:aa' }).error?.issues[0]?.message).toContain('SHA256:');
  });

  test('containers: docker or podman, an image; unknown keys and types are refused', () => {
    expect(executorSchema.parse({ type: 'container', name: 'c', runtime: 'podman', image: 'img', volumes: ['/a:/b'] })).toMatchObject({ runtime: 'podman', volumes: ['/a:/b'] });
    expect(executorSchema.safeParse({ type: 'container', name: 'c', runtime: 'lxc', image: 'img' }).success).toBe(false);
    expect(executorSchema.safeParse({ type: 'local', name: 'dev', hostt: 'x' }).success).toBe(false);
    expect(executorSchema.safeParse({ type: 'vm', name: 'dev' }).success).toBe(false);
    expect(executorSchema.safeParse({ type: 'local', name: 'Dev Box' }).success).toBe(false);
    expect(executorSchema.safeParse({ type: 'local', name: 'dev', env: { 'BAD-NAME': 'x' } }).success).toBe(false);
  });

  test('the section: executor names are unique; models map aliases to pinned names', () => {
    const twice = executorsSectionSchema.safeParse({ executors: [{ type: 'local', name: 'a' }, { type: 'local', name: 'a' }] });
    expect(twice.error?.issues[0]?.message).toBe("executor name 'a' is used twice");
    const section = executorsSectionSchema.parse({ models: { opus: 'claude-opus-4-6' } });
    expect(section.defaults.maxTurns).toBe(100);
    expect(resolveModel('opus', section.models)).toBe('claude-opus-4-6');
    expect(resolveModel('claude-sonnet-4-5', section.models)).toBe('claude-sonnet-4-5');
    expect(resolveModel(undefined, section.models)).toBeUndefined();
    // The CLI's own aliases float to its newest model: unpinned, they are refused rather than passed on.
    for (const floating of ['sonnet', 'haiku', 'opusplan', 'sonnet[1m]']) {
      expect(() => resolveModel(floating, section.models), floating).toThrow(`the model alias '${floating}' is not pinned`);
    }
  });

  test('~ in paths', () => {
    expect(expandHome('~/.ssh/id', '/home/a')).toBe('/home/a/.ssh/id');
    expect(expandHome('/abs/~/x', '/home/a')).toBe('/abs/~/x');
  });
});

describe('task store', () => {
  const newTask = (id: string, name: string, executor = 'e') => ({
    id, name, executor, kind: 'shell' as const, status: 'queued' as const, workspace: null, model: null, maxTurns: null, sessionId: null, session: `sb-${id}`, actor: 'a', channel: 'c', createdAt: 1,
  });

  test('migrations are prefixed tasks- and apply once', () => {
    expect(taskMigrations.every((m) => m.id.startsWith('tasks-'))).toBe(true);
    const path = join(tempDir('sb-migrate-'), 'db.sqlite');
    openDatabase(path, taskMigrations).close();
    const again = openDatabase(path, taskMigrations);
    expect(again.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: taskMigrations.length });
    again.close();
    removeDir(dirname(path));
  });

  test('names are unique; queue positions per executor; conditional updates', () => {
    const store = createTaskStore(openDatabase(':memory:', taskMigrations));
    store.insert(newTask('t1', 'one'));
    expect(() => store.insert(newTask('t2', 'one'))).toThrow(/UNIQUE/);
    for (const [id, name, executor] of [['t2', 'two', 'e'], ['t3', 'three', 'f'], ['t4', 'four', 'e']] as const) store.insert(newTask(id, name, executor));
    ['t1', 't2', 't3', 't4'].forEach((id) => store.update(id, { queueSeq: store.nextQueueSeq() }));
    expect(store.queued('e').map((t) => [t.name, t.queuePosition])).toEqual([['one', 1], ['two', 2], ['four', 3]]);
    expect(store.update('t1', { status: 'running' }, 'queued')).toBe(true);
    expect(store.update('t1', { status: 'succeeded' }, 'queued')).toBe(false);
    expect(store.byName('two')!.queuePosition).toBe(1);
    expect(store.countActive('e')).toBe(1);
  });

  test('a completion record is stored once per task and attempt; its delivery is tracked', () => {
    const store = createTaskStore(openDatabase(':memory:', taskMigrations));
    store.insert(newTask('t1', 'one'));
    store.startAttempt('t1', 1, 'start', 10);
    const record = { task_id: 't1', attempt: 1 } as CompletionRecord;
    expect(store.recordCompletion('t1', 1, record, 'http://hook', 20)).toBe(true);
    expect(store.recordCompletion('t1', 1, { ...record, result: 'again' }, 'http://hook', 21)).toBe(false);
    expect(store.dueDeliveries(19)).toEqual([]);
    expect(store.dueDeliveries(20)).toMatchObject([{ taskId: 't1', attempt: 1, url: 'http://hook', tries: 0, body: JSON.stringify(record) }]);
    store.markDelivery('t1', 1, { delivered: false, error: 'HTTP 500', nextAt: 30 });
    expect(store.dueDeliveries(25)).toEqual([]);
    expect(store.dueDeliveries(30)[0]!.tries).toBe(1);
    store.markDelivery('t1', 1, { delivered: true, at: 31 });
    expect(store.dueDeliveries(1e12)).toEqual([]);
    expect(store.completion('t1', 1)).toMatchObject({ webhookState: 'delivered', webhookTries: 2 });
  });
});

describe('webhook', () => {
  test('signs the exact body with HMAC-SHA256 and names the delivery', async () => {
    const seen: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
    const fetch: FetchLike = async (url, init) => {
      seen.push({ url, headers: init.headers, body: init.body });
      return { status: 200 };
    };
    const outcome = await postWebhook(fetch, { url: 'http://h/x', body: '{"a":1}', deliveryId: 't1:2', secret: 'k', timeoutMs: 1000 });
    expect(outcome).toEqual({ ok: true, status: 200 });
    expect(seen[0]!.headers['x-switchboard-signature']).toBe(signBody('{"a":1}', 'k'));
    expect(signBody('{"a":1}', 'k')).toBe('sha256=c3a92ff9e274cdcce27a58c15a78ec6dcbbdbd0038a87e7a11baef2028fd8bff'); // computed independently (python hmac)
    expect(seen[0]!.headers['x-switchboard-delivery']).toBe('t1:2');
  });

  test('no secret, no signature; 5xx and timeouts are retried, 4xx is not', async () => {
    const status = (s: number): FetchLike => async () => ({ status: s });
    expect(await postWebhook(status(503), { url: 'u', body: 'b', deliveryId: 'd', timeoutMs: 10 })).toMatchObject({ ok: false, retryable: true });
    expect(await postWebhook(status(404), { url: 'u', body: 'b', deliveryId: 'd', timeoutMs: 10 })).toMatchObject({ ok: false, retryable: false, error: 'HTTP 404' });
    const hang: FetchLike = (_url, init) => new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)));
    expect(await postWebhook(hang, { url: 'u', body: 'b', deliveryId: 'd', timeoutMs: 20 })).toEqual({ ok: false, retryable: true, error: 'no answer within 20 ms' });
    let headers: Record<string, string> = {};
    await postWebhook(async (_u, init) => ((headers = init.headers), { status: 204 }), { url: 'u', body: 'b', deliveryId: 'd', timeoutMs: 10 });
    expect(headers['x-switchboard-signature']).toBeUndefined();
    expect([1, 2, 3, 20].map(webhookRetryDelayMs)).toEqual([2000, 4000, 8000, 300000]);
  });
  test('a redirecting receiver is not followed: the signed record never reaches the redirect target', async () => {
    const hits: string[] = [];
    const target = createServer((request, response) => (hits.push(request.url ?? ''), response.end('ok')));
    await new Promise<void>((ready) => target.listen(0, '127.0.0.1', ready));
    const targetPort = (target.address() as AddressInfo).port;
    const receiver = createServer((_request, response) => {
      response.writeHead(307, { location: `http://127.0.0.1:${targetPort}/latest/meta-data/` });
      response.end();
    });
    await new Promise<void>((ready) => receiver.listen(0, '127.0.0.1', ready));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const outcome = await postWebhook((u, init) => fetch(u, init), { url, body: '{"a":1}', deliveryId: 't1:1', secret: 'k', timeoutMs: 5_000 });
      expect(outcome).toEqual({
        ok: false,
        retryable: false,
        error: 'HTTP 307: the webhook redirects, and redirects are not followed; set defaults.webhookUrl to the final address',
      });
      expect(hits).toEqual([]);
    } finally {
      receiver.close();
      target.close();
    }
  });
});
