import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExecutorConfig } from '../../src/executors/config.js';
import type { TaskEvent } from '../../src/executors/fleet.js';
import { isSwitchboardError } from '../../src/errors.js';
import { FAKE_TODOS, RESUME_PREFIX, startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { freePort, startSshd, type Sshd } from '../helpers/sshd.js';
import {
  createHarness,
  killTmuxServer,
  processesOfTask,
  removeDir,
  startWebhookSink,
  tempDir,
  type FleetHarness,
  type WebhookSink,
} from './harness.js';

const SECRET = 'test-webhook-secret';

/** Quotes, $(…), backticks, newlines, a command separator, tabs, unicode: must arrive byte for byte. */
export const HOSTILE = `it's "quoted" $(id) \`whoami\` ;rm -rf / && echo pwned\n'single' "double" \\ back\\slash $HOME %s %n\n\ttab é ü 🚀 \${PATH}\n`;

export type Target = 'local' | 'ssh';

/**
 * The executor behaviour every tmux executor must have, run once through `local` and once through a real
 * sshd. Each test uses its own task names; they share one fleet, one fake API and one webhook sink per file.
 */
export function defineExecutorSuite(target: Target): void {
  let fake: FakeAnthropic;
  let sink: WebhookSink;
  let sshd: Sshd | undefined;
  let root: string;
  let workspace: string;
  let h: FleetHarness;
  let env: Record<string, string>;
  let deadPort: number;
  const socket = `sbtest-${target}-${process.pid}`;

  /** An executor on the test's host (this machine, directly or through sshd). */
  function executor(name: string, extra: Record<string, unknown> = {}): ExecutorConfig {
    const common = { name, labels: [], env, maxConcurrent: 8, tmuxPath: 'tmux', tmuxSocket: socket, claudePath: CLAUDE_PATH, workspace, tasksDir: join(root, 'tasks'), ...extra };
    if (target === 'local') return { type: 'local', ...common } as ExecutorConfig;
    return {
      type: 'ssh',
      host: sshd!.host,
      port: sshd!.port,
      user: sshd!.user,
      identityFile: sshd!.userKeyPath,
      hostKey: sshd!.hostKeyFingerprint,
      insecureAcceptNewHostKey: false,
      connectTimeoutSec: 5,
      ...common,
    } as ExecutorConfig;
  }

  function executors(): ExecutorConfig[] {
    return [
      executor('main', { labels: ['gpu'] }),
      executor('spare', { labels: ['gpu'] }),
      executor('one', { maxConcurrent: 1 }),
      executor('noclaude', { claudePath: '/nonexistent/bin/claude' }),
      executor('notmux', { tmuxPath: '/nonexistent/bin/tmux' }),
      // Nothing listens on deadPort: the label test must skip it.
      {
        type: 'ssh',
        name: 'dead',
        host: '127.0.0.1',
        port: deadPort,
        user: 'root',
        agent: '/nonexistent/agent.sock',
        insecureAcceptNewHostKey: true,
        connectTimeoutSec: 2,
        labels: ['gpu'],
        env: {},
        maxConcurrent: 1,
        tmuxPath: 'tmux',
        tmuxSocket: socket,
      },
    ];
  }

  beforeAll(async () => {
    [fake, sink, deadPort] = await Promise.all([startFakeAnthropic(), startWebhookSink(), freePort()]);
    if (target === 'ssh') sshd = await startSshd();
    root = tempDir(`sb-${target}-`);
    workspace = join(root, 'ws');
    execFileSync('mkdir', ['-p', workspace]);
    env = { ...claudeEnv({ baseUrl: fake.baseUrl, configDir: join(root, 'claude'), todoTools: true }), GREETING: "it's $(not run)" };
    h = createHarness({ dir: root, executors: executors(), defaults: { webhookUrl: sink.url }, deps: { webhookSecret: SECRET, readIdentity: (p) => readFileSync(p) } });
  });

  afterAll(async () => {
    await h?.close();
    killTmuxServer(socket);
    await Promise.all([fake?.close(), sink?.close(), sshd?.stop()]);
    if (root) removeDir(root);
  });

  const finishedEvent = (harness: FleetHarness, name: string, timeoutMs = 60_000) =>
    harness.tickUntil(`${name} to finish`, () => harness.eventsFor(name).find((e): e is Extract<TaskEvent, { kind: 'finished' }> => e.kind === 'finished'), timeoutMs);

  async function expectError(promise: Promise<unknown>, code: string, ...fragments: string[]): Promise<Error> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isSwitchboardError(error)) throw new Error(`expected a SwitchboardError ${code}, got ${String(error)}`);
    expect(error.code).toBe(code);
    for (const fragment of fragments) expect(error.message).toContain(fragment);
    return error;
  }

  /** Where claude keeps the session's transcript (CLAUDE_CONFIG_DIR/projects/<encoded cwd>/<id>.jsonl). */
  function sessionFile(sessionId: string): string | undefined {
    const projects = join(root, 'claude', 'projects');
    if (!existsSync(projects)) return undefined;
    for (const project of readdirSync(projects)) {
      const file = join(projects, project, `${sessionId}.jsonl`);
      if (existsSync(file)) return file;
    }
    return undefined;
  }

  const claudePid = (dir: string) => Number(readFileSync(join(dir, 'pid'), 'utf8').split(' ')[0]);

  const sessionIdsInEvents = (dir: string) =>
    readFileSync(join(dir, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"subtype":"init"'))
      .map((l) => (JSON.parse(l) as { session_id: string }).session_id);

  const start = (name: string, kind: 'claude' | 'shell', text: string, extra: Record<string, unknown> = {}) =>
    h.fleet.start({ name, executor: 'main', kind, text, actor: 'test:alice', channel: 'test:#general', ...extra });

  describe(`${target} executor`, () => {
    test('a shell task reports its exit code and output, with the executor env and none of it interpreted', async () => {
      const ok = await start('sh-ok', 'shell', 'printf "greeting=%s\\n" "$GREETING"; pwd; echo to-stderr >&2');
      const bad = await start('sh-bad', 'shell', 'echo about to fail; exit 3');
      expect(ok.status).toBe('running');
      const [okDone, badDone] = await Promise.all([finishedEvent(h, 'sh-ok'), finishedEvent(h, 'sh-bad')]);

      expect(okDone.record).toMatchObject({ status: 'succeeded', exit_code: 0, type: 'shell', attempts: 1, executor: 'main' });
      expect(await h.fleet.logs('sh-ok')).toBe(`greeting=it's $(not run)\n${workspace}\nto-stderr`);
      expect(badDone.record).toMatchObject({ status: 'failed', exit_code: 3, reason: 'exit 3' });
      expect(h.fleet.get('sh-bad')).toMatchObject({ status: 'failed', exitCode: 3 });
      expect(await h.fleet.logs('sh-bad', 1)).toBe('about to fail');
      // The task directory and its files are private.
      expect(statSync(bad.remoteDir!).mode & 0o777).toBe(0o700);
      expect(statSync(join(bad.remoteDir!, 'prompt')).mode & 0o777).toBe(0o600);
      expect(statSync(join(bad.remoteDir!, 'env')).mode & 0o777).toBe(0o600);
    });

    test('a claude task posts its todos, then its result with cost and usage; the webhook gets it signed, once', async () => {
      const task = await start('cl-todo', 'claude', 'TODO fix the parser');
      expect(task.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      const done = await finishedEvent(h, 'cl-todo');

      const progress = h.eventsFor('cl-todo').filter((e) => e.kind === 'progress');
      expect(progress.length).toBeGreaterThan(0);
      const last = progress[progress.length - 1]!;
      expect(last.kind === 'progress' && last.todos).toEqual(FAKE_TODOS);
      expect(h.eventsFor('cl-todo').findIndex((e) => e.kind === 'progress')).toBeLessThan(h.eventsFor('cl-todo').findIndex((e) => e.kind === 'finished'));
      expect(done.record).toMatchObject({
        task_id: task.id,
        name: 'cl-todo',
        type: 'claude',
        status: 'succeeded',
        exit_code: 0,
        attempts: 1,
        attempt: 1,
        session_id: task.sessionId,
        result: 'Done: TODO fix the parser',
        terminal_reason: 'completed',
      });
      expect(done.record.total_cost_usd).toBeGreaterThan(0);
      expect(done.record.usage?.input_tokens).toBeGreaterThan(0);
      expect(h.fleet.completion('cl-todo')?.webhookState).toBe('delivered');

      const deliveries = sink.received.filter((r) => r.headers['x-switchboard-delivery'] === `${task.id}:1`);
      expect(deliveries).toHaveLength(1);
      const delivery = deliveries[0]!;
      expect(delivery.headers['x-switchboard-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(delivery.body).digest('hex')}`);
      expect(JSON.parse(delivery.body)).toEqual(done.record);
      await h.fleet.tick();
      expect(sink.received.filter((r) => r.headers['x-switchboard-delivery'] === `${task.id}:1`)).toHaveLength(1);
      expect(await h.fleet.logs('cl-todo')).toContain('Done: TODO fix the parser');
    });

    test('send continues the same conversation (--resume, same session id) as a new run', async () => {
      const task = await start('cl-chat', 'claude', 'Remember the word PINEAPPLE');
      const first = await finishedEvent(h, 'cl-chat');
      const again = await h.fleet.send('cl-chat', 'Which word was it?');
      expect(again.status).toBe('running');
      await h.tickUntil('the follow-up to finish', () => h.eventsFor('cl-chat').filter((e) => e.kind === 'finished').length === 2);

      const followUp = fake.requests.find((r) => r.lastUserText === 'Which word was it?')!;
      expect(followUp.userTexts).toEqual(['Remember the word PINEAPPLE', 'Which word was it?']);
      const record = h.fleet.completion('cl-chat')!.record;
      expect(record).toMatchObject({ status: 'succeeded', attempt: 2, attempts: 1, session_id: task.sessionId, result: 'Done: Which word was it?' });
      // claude reports the session's running total; each run is charged only its own part.
      expect(record.total_cost_usd).toBeCloseTo(first.record.total_cost_usd!, 6);
      expect(sessionIdsInEvents(task.remoteDir!)).toEqual([task.sessionId, task.sessionId]);
      await expectError(h.fleet.send('sh-ok', 'more'), 'usage', 'shell task');
    });

    test('kill -9 of claude mid-task is a crash: resumed with --resume in the same session, and finished', async () => {
      const task = await start('cl-crash', 'claude', 'HOLD:crash please work on this');
      await fake.waitForRequest('HOLD:crash');
      await h.tickUntil('claude to save its session', () => sessionFile(task.sessionId!));
      process.kill(claudePid(task.remoteDir!), 'SIGKILL');
      const done = await finishedEvent(h, 'cl-crash');

      const resumed = h.eventsFor('cl-crash').filter((e) => e.kind === 'resumed');
      expect(resumed).toHaveLength(1);
      expect(resumed[0]).toMatchObject({ attempt: 2, reason: expect.stringContaining('exit 137 (SIGKILL)') });
      expect(done.record).toMatchObject({ status: 'succeeded', attempts: 2, attempt: 2, session_id: task.sessionId });
      // The resumed request carries the earlier turn; the resume message repeats the request after its preamble.
      const resumeRequest = fake.requests.find((r) => r.lastUserText.includes(RESUME_PREFIX) && r.lastUserText.endsWith('HOLD:crash please work on this'))!;
      expect(resumeRequest.userTexts[0]).toBe('HOLD:crash please work on this');
      expect(sessionIdsInEvents(task.remoteDir!)).toEqual([task.sessionId, task.sessionId]);
      expect(h.fleet.attempts('cl-crash').map((a) => [a.attempt, a.reason, a.outcome])).toEqual([
        [1, 'start', 'crash'],
        [2, 'crash', 'succeeded'],
      ]);
    });

    test('a crash before claude saved its session starts it afresh with the same session id and prompt', async () => {
      const task = await start('cl-unsaved', 'claude', 'HOLD:unsaved first words');
      await fake.waitForRequest('HOLD:unsaved');
      const saved = await h.tickUntil('claude to save its session', () => sessionFile(task.sessionId!));
      process.kill(claudePid(task.remoteDir!), 'SIGKILL');
      rmSync(saved); // as if it died before writing it
      fake.release('unsaved');
      const done = await finishedEvent(h, 'cl-unsaved');

      expect(done.record).toMatchObject({ status: 'succeeded', attempts: 2, session_id: task.sessionId, result: 'Done: HOLD:unsaved first words' });
      const requests = fake.requests.filter((r) => r.userTexts[0] === 'HOLD:unsaved first words');
      expect(requests[requests.length - 1]!.userTexts).toEqual(['HOLD:unsaved first words']);
      expect(sessionIdsInEvents(task.remoteDir!)).toEqual([task.sessionId, task.sessionId]);
    });

    test('a restart of Switchboard mid-task re-attaches; the task finishes and is reported exactly once', async () => {
      const first = createHarness({ dir: root, executors: executors(), defaults: { webhookUrl: sink.url }, deps: { webhookSecret: SECRET, readIdentity: (p) => readFileSync(p) } });
      const task = await first.fleet.start({ name: 'cl-restart', executor: 'main', kind: 'claude', text: 'HOLD:restart keep going', actor: 'a', channel: 'c' });
      await fake.waitForRequest('HOLD:restart');
      await first.fleet.tick();
      await first.close();

      const second = createHarness({ dir: root, executors: executors(), dbPath: first.dbPath, defaults: { webhookUrl: sink.url }, deps: { webhookSecret: SECRET, readIdentity: (p) => readFileSync(p) } });
      try {
        const live = await second.fleet.reattach();
        expect(live.map((t) => t.name)).toEqual(['cl-restart']);
        await second.fleet.tick();
        expect(second.fleet.get('cl-restart')!.status).toBe('running');
        fake.release('restart');
        const done = await finishedEvent(second, 'cl-restart');
        expect(done.record).toMatchObject({ status: 'succeeded', attempts: 1, session_id: task.sessionId });
        await second.fleet.tick();
        await second.fleet.tick();
        expect([...first.events, ...second.events].filter((e) => e.kind === 'finished')).toHaveLength(1);
        expect(sink.received.filter((r) => r.headers['x-switchboard-delivery'] === `${task.id}:1`)).toHaveLength(1);
      } finally {
        await second.close();
      }
    });

    test('a prompt and a command full of quotes, $(…), backticks and newlines arrive byte for byte', async () => {
      const claudeTask = await start('cl-hostile', 'claude', HOSTILE);
      const command = `cat > hostile.out <<'SB_END'\n${HOSTILE}SB_END\n`;
      const shellTask = await start('sh-hostile', 'shell', command);
      await Promise.all([finishedEvent(h, 'cl-hostile'), finishedEvent(h, 'sh-hostile')]);

      expect(fake.requests.filter((r) => r.userTexts[0] === HOSTILE)).not.toHaveLength(0);
      expect(readFileSync(join(claudeTask.remoteDir!, 'prompt'), 'utf8')).toBe(HOSTILE);
      expect(h.fleet.get('sh-hostile')!.status).toBe('succeeded');
      expect(readFileSync(join(workspace, 'hostile.out'), 'utf8')).toBe(HOSTILE);
      expect(readFileSync(join(shellTask.remoteDir!, 'prompt'), 'utf8')).toBe(command);
    });

    test('kill stops the whole process tree and the tmux session; killing a finished task is refused', async () => {
      const shellTask = await start(
        'sh-kill',
        'shell',
        'python3 -c "import time; time.sleep(300)" & setsid python3 -c "import time; time.sleep(300)" & sleep 300; wait',
      );
      const claudeTask = await start('cl-kill', 'claude', 'HANG:300 run the long job');
      await h.tickUntil('the task processes to run', () => processesOfTask(shellTask.id).length >= 4 && processesOfTask(claudeTask.id).length >= 3);
      // Claude's tool runs python in its own session: it is not in the pane's process group.
      await h.tickUntil('the hanging tool call', () => h.fleet.get('cl-kill')!.status === 'running' && processesOfTask(claudeTask.id).length >= 4);

      const [killedShell, killedClaude] = await Promise.all([h.fleet.kill('sh-kill'), h.fleet.kill('cl-kill')]);
      expect(killedShell.status).toBe('killed');
      expect(killedClaude.status).toBe('killed');
      expect(processesOfTask(shellTask.id)).toEqual([]);
      expect(processesOfTask(claudeTask.id)).toEqual([]);
      expect(() => execFileSync('tmux', ['-L', socket, 'has-session', '-t', `=sb-${shellTask.id}`], { stdio: 'ignore' })).toThrow();
      expect(h.eventsFor('sh-kill').find((e) => e.kind === 'finished')).toMatchObject({ record: { status: 'killed' } });

      await expectError(h.fleet.kill('sh-kill'), 'task_not_running', 'sh-kill is not running', 'killed');
      await expectError(h.fleet.kill('sh-ok'), 'task_not_running', 'succeeded');
      await expectError(h.fleet.kill('no-such-task'), 'unknown_name');
    });

    test('two tasks with one name: the second is refused', async () => {
      await start('dup', 'shell', 'true');
      await expectError(start('dup', 'shell', 'true'), 'name_taken', "a task named 'dup' already exists");
      await finishedEvent(h, 'dup');
      await expectError(start('dup', 'claude', 'hello'), 'name_taken');
      await h.fleet.forget('dup');
      expect((await start('dup', 'shell', 'true')).name).toBe('dup');
    });

    test('unknown executor, missing workspace, missing claude or tmux: specific errors, nothing left behind', async () => {
      await expectError(h.fleet.start({ name: 'e1', executor: 'nope', kind: 'shell', text: 'true', actor: 'a', channel: 'c' }), 'unknown_executor', "'nope'", 'main');
      const where = target === 'local' ? "local executor 'main'" : `ssh executor 'main' (${sshd!.user}@127.0.0.1:${sshd!.port})`;
      await expectError(start('e2', 'shell', 'true', { workspace: '/nonexistent/ws' }), 'workspace_missing', '/nonexistent/ws', where);
      const noClaude = await expectError(h.fleet.start({ name: 'e3', executor: 'noclaude', kind: 'claude', text: 'hi', actor: 'a', channel: 'c' }), 'missing_tool', 'claude not found', '/nonexistent/bin/claude', "executor 'noclaude'");
      expect((noClaude as { hint?: string }).hint).toContain('claudePath');
      await expectError(h.fleet.start({ name: 'e4', executor: 'notmux', kind: 'shell', text: 'true', actor: 'a', channel: 'c' }), 'missing_tool', 'tmux not found', '/nonexistent/bin/tmux', "executor 'notmux'");
      await expectError(start('Bad Name', 'shell', 'true'), 'invalid_name');
      await expectError(start('e5', 'shell', '   '), 'empty_prompt');
      for (const name of ['e1', 'e2', 'e3', 'e4', 'e5']) expect(h.fleet.get(name)).toBeNull();

      const statuses = await h.fleet.list();
      const byName = new Map(statuses.map((s) => [s.name, s]));
      expect(byName.get('main')).toMatchObject({ reachable: true, problems: [], tools: { tmux: expect.stringMatching(/\/tmux$/), claude: CLAUDE_PATH } });
      expect(byName.get('noclaude')!.problems.join()).toContain("claude not found on ");
      expect(byName.get('notmux')!.problems.join()).toContain('tmux not found on ');
      expect(byName.get('dead')).toMatchObject({ reachable: false, error: { code: 'executor_unreachable' } });
      expect(byName.get('dead')!.error!.message).toContain('connection refused');
    });

    test('a pane waiting for input needs attention and is never answered', async () => {
      await start('sh-ask', 'shell', 'read -r -p "Overwrite file? (y/N) " answer < /dev/tty; echo "got $answer"');
      const event = await h.tickUntil('needs_attention', () => h.eventsFor('sh-ask').find((e) => e.kind === 'needs_attention'));
      expect(event.kind === 'needs_attention' && event.paneTail).toContain('Overwrite file? (y/N)');
      expect(h.fleet.get('sh-ask')!.status).toBe('needs_attention');
      await h.fleet.tick();
      expect(h.eventsFor('sh-ask').filter((e) => e.kind === 'needs_attention')).toHaveLength(1);
      expect((await h.fleet.kill('sh-ask')).status).toBe('killed');
    });

    test('maxConcurrent queues extra tasks visibly; they start when a slot frees', async () => {
      const gate = join(workspace, 'queue-gate');
      await h.fleet.start({ name: 'q1', executor: 'one', kind: 'shell', text: `while [ ! -e ${gate} ]; do sleep 0.1; done; echo first`, actor: 'a', channel: 'c' });
      const second = await h.fleet.start({ name: 'q2', executor: 'one', kind: 'shell', text: 'echo second', actor: 'a', channel: 'c' });
      expect(second).toMatchObject({ status: 'queued', queuePosition: 1 });
      expect(h.fleet.tasks({ status: 'queued', executor: 'one' }).map((t) => t.name)).toEqual(['q2']);
      expect((await h.fleet.check('one')).queued).toBe(1);
      await h.fleet.tick();
      expect(h.fleet.get('q2')!.status).toBe('queued');

      writeFileSync(gate, '');
      await finishedEvent(h, 'q2');
      // A tick that reads `second` before the done file lands reports it as the card's newest line (a progress
      // event); whether one falls in that gap is timing, so only the order around it is fixed.
      const kinds = h.eventsFor('q2').map((e) => e.kind);
      expect(kinds.filter((k) => k !== 'progress')).toEqual(['started', 'finished']);
      expect(kinds[0]).toBe('started');
      expect(kinds.at(-1)).toBe('finished');
      expect(h.fleet.get('q1')!.status).toBe('succeeded');
      expect(await h.fleet.logs('q2')).toBe('second');
    });

    test('--label picks the reachable executor with that label and the fewest running tasks', async () => {
      const gate = join(workspace, 'label-gate');
      await start('lb-busy', 'shell', `while [ ! -e ${gate} ]; do sleep 0.1; done`);
      const picked = await h.fleet.start({ name: 'lb-1', label: 'gpu', kind: 'shell', text: 'true', actor: 'a', channel: 'c' });
      expect(picked.executor).toBe('spare');
      await expectError(h.fleet.start({ name: 'lb-2', label: 'tpu', kind: 'shell', text: 'true', actor: 'a', channel: 'c' }), 'unknown_executor', "label 'tpu'");
      writeFileSync(gate, '');
      await Promise.all([finishedEvent(h, 'lb-busy'), finishedEvent(h, 'lb-1')]);
    });

    test('logs are the last lines of the human log, ANSI-stripped; cleanup keeps them and removes the directory', async () => {
      const task = await start('sh-logs', 'shell', "printf '\\033[31mred\\033[0m line\\n'; printf 'progress 10%%\\rprogress 100%%\\n'; for i in 1 2 3 4 5; do echo line$i; done");
      await finishedEvent(h, 'sh-logs');
      const logs = await h.fleet.logs('sh-logs', 100);
      expect(logs).not.toContain('\u001b');
      expect(logs.split('\n').slice(0, 3)).toEqual(['red line', 'progress 10%', 'progress 100%']);
      expect(await h.fleet.logs('sh-logs', 2)).toBe('line4\nline5');

      const cleaned = await h.fleet.cleanup('sh-logs');
      expect(cleaned.remoteDir).toBeNull();
      expect(existsSync(task.remoteDir!)).toBe(false);
      expect(await h.fleet.logs('sh-logs', 2)).toBe('line4\nline5');
    });
  });

  describe(`${target} executor: a hang`, () => {
    test('no event for the staleness window with a tool call open → SIGTERM, then resumed in the same session', async () => {
      const hung = createHarness({ dir: root, executors: executors(), defaults: { staleAfterSec: 60, toolStaleAfterSec: 3 }, deps: { readIdentity: (p) => readFileSync(p) } });
      try {
        const task = await hung.fleet.start({ name: 'cl-hang', executor: 'main', kind: 'claude', text: 'HANG:120 wait for it', actor: 'a', channel: 'c' });
        const done = await finishedEvent(hung, 'cl-hang', 90_000);
        const resumed = hung.eventsFor('cl-hang').filter((e) => e.kind === 'resumed');
        if (resumed.length !== 1) console.log(JSON.stringify(resumed.map((e) => e.kind === 'resumed' && e.reason)), hung.logs.join('\n'));
        expect(resumed).toHaveLength(1);
        expect(resumed[0]).toMatchObject({ attempt: 2, reason: expect.stringMatching(/^hung: no new event for \d+ s with 1 tool call\(s\) open/) });
        expect(done.record).toMatchObject({ status: 'succeeded', attempts: 2, session_id: task.sessionId });
        // SIGTERM let claude end its tool; nothing of the first attempt is left running.
        expect(processesOfTask(task.id)).toEqual([]);
        expect(hung.fleet.attempts('cl-hang').map((a) => a.outcome)).toEqual(['hung', 'succeeded']);
      } finally {
        await hung.close();
      }
    });
  });
}
