import { join } from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExecutorConfig, ExecutorDefaults } from '../../src/executors/config.js';
import type { TaskEvent } from '../../src/executors/fleet.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { createHarness, killTmuxServer, processesOfTask, removeDir, startWebhookSink, tempDir, type FleetHarness, type WebhookSink } from './harness.js';

// The policy around outcomes (API errors, turn limits, retries, deadlines, webhook retries), on the local
// executor with the real claude CLI; the transport does not matter here, the local one is the quickest.
describe('outcome policy (local executor, real claude)', () => {
  let fake: FakeAnthropic;
  let sink: WebhookSink;
  let root: string;
  const socket = `sbtest-policy-${process.pid}`;
  const harnesses: FleetHarness[] = [];

  beforeAll(async () => {
    [fake, sink] = await Promise.all([startFakeAnthropic(), startWebhookSink()]);
    root = tempDir('sb-policy-');
  });
  afterAll(async () => {
    await Promise.all(harnesses.map((h) => h.close()));
    killTmuxServer(socket);
    await Promise.all([fake?.close(), sink?.close()]);
    if (root) removeDir(root);
  });

  function harness(defaults: Partial<ExecutorDefaults> = {}): FleetHarness {
    const executor: ExecutorConfig = {
      type: 'local',
      name: 'dev',
      labels: [],
      env: claudeEnv({ baseUrl: fake.baseUrl, configDir: join(root, 'claude') }),
      maxConcurrent: 4,
      tmuxPath: 'tmux',
      tmuxSocket: socket,
      claudePath: CLAUDE_PATH,
      workspace: root,
      tasksDir: join(root, 'tasks'),
    };
    const h = createHarness({ dir: root, executors: [executor], defaults, deps: { webhookSecret: 's', models: { fast: 'claude-haiku-4-5' } } });
    harnesses.push(h);
    return h;
  }
  const finished = (h: FleetHarness, name: string) =>
    h.tickUntil(`${name} to finish`, () => h.eventsFor(name).find((e): e is Extract<TaskEvent, { kind: 'finished' }> => e.kind === 'finished'));
  const start = (h: FleetHarness, name: string, kind: 'claude' | 'shell', text: string, extra = {}) =>
    h.fleet.start({ name, executor: 'dev', kind, text, actor: 'a', channel: 'c', ...extra });

  test('an API error (is_error with subtype success) is resumed, not reported as success or failure', async () => {
    const h = harness();
    await start(h, 'api-err', 'claude', 'FAIL500 build the thing');
    const done = await finished(h, 'api-err');
    expect(h.eventsFor('api-err').find((e) => e.kind === 'resumed')).toMatchObject({ attempt: 2, reason: expect.stringContaining('API error 500') });
    expect(done.record).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  test('a model alias from `models` reaches claude as the pinned full name', async () => {
    const h = harness();
    const task = await start(h, 'aliased', 'claude', 'which model are you', { model: 'fast' });
    expect(task.model).toBe('claude-haiku-4-5');
    await finished(h, 'aliased');
    expect(fake.requests.find((r) => r.lastUserText === 'which model are you')!.model).toBe('claude-haiku-4-5');
  });

  test('the turn limit is a failure with its terminal reason, and is not retried', async () => {
    const h = harness();
    await start(h, 'turns', 'claude', 'BASH: echo one turn only', { maxTurns: 1 });
    const done = await finished(h, 'turns');
    expect(done.record).toMatchObject({ status: 'failed', terminal_reason: 'max_turns', attempts: 1, exit_code: 1 });
    expect(h.eventsFor('turns').some((e) => e.kind === 'resumed')).toBe(false);
  });

  test('crashes beyond maxRetries: abandoned, saying why', async () => {
    const h = harness({ maxRetries: 0 });
    const task = await start(h, 'fragile', 'claude', 'HOLD:fragile go');
    await fake.waitForRequest('HOLD:fragile');
    const projects = join(root, 'claude', 'projects');
    await h.tickUntil('the session file', () => existsSync(projects) && readdirSync(projects).some((p) => existsSync(join(projects, p, `${task.sessionId}.jsonl`))));
    process.kill(Number(readFileSync(join(task.remoteDir!, 'pid'), 'utf8').split(' ')[0]), 'SIGKILL');
    const done = await finished(h, 'fragile');
    expect(done.record).toMatchObject({ status: 'abandoned', exit_code: 137, reason: 'gave up after 0 resume(s): claude ended with exit 137 (SIGKILL)' });
  });

  test('past its deadline a task is stopped and abandoned, nothing left running', async () => {
    const h = harness({ deadlineMin: 2 / 60 });
    const task = await start(h, 'slowpoke', 'shell', 'python3 -c "import time; time.sleep(300)"');
    const done = await finished(h, 'slowpoke');
    expect(done.record).toMatchObject({ status: 'abandoned', reason: 'it ran past its deadline' });
    expect(processesOfTask(task.id)).toEqual([]);
  });

  test('a webhook that fails is retried with the same delivery id until it is accepted', async () => {
    const h = harness({ webhookUrl: sink.url });
    sink.failNext(1, 503);
    const task = await start(h, 'hooked', 'shell', 'echo hi');
    await finished(h, 'hooked');
    expect(h.fleet.completion('hooked')!.webhookState).toBe('pending');
    await h.tickUntil('the retried delivery', () => h.fleet.completion('hooked')!.webhookState === 'delivered', 20_000);
    const received = sink.received.filter((r) => r.headers['x-switchboard-delivery'] === `${task.id}:1`);
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!.body)).toMatchObject({ task_id: task.id, status: 'succeeded' });
  });
});
