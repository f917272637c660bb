import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { slashLayout, commandLine } from '../../adapters/discord/slash-commands.js';
import { createFollowUps } from '../../src/commands/follow-ups.js';
import { allCommands } from '../../src/commands/index.js';
import { createPromptQueue } from '../../src/sessions/prompt-queue.js';
import { parseCommandLine } from '../../src/commands/grammar.js';
import { replyToPlainText, type Reply } from '../../src/core/reply.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { closedPortUrl } from '../helpers/odd-servers.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';
import { errorCode, plain, seedSession, seedTask, startCore, type Core } from './helpers/core-app.js';

/**
 * Follow-ups while a name is busy, through the real core (createApp on a temp SQLite file): who may queue or
 * interrupt, what bad input changes (nothing), the queue's bound, and, against the real `opencode` binary,
 * a queued prompt that a crash left half-sent is sent exactly once.
 */
const ALICE = { id: 'slack:UALICE', name: 'alice' };
const BOB = { id: 'slack:UBOB', name: 'bob' };
const VIEWER = { id: 'slack:UVIEW' };
const CONSOLE = { id: 'console:tester', name: 'tester' };

function yaml(serverUrl: string): string {
  return [
    'servers:',
    '  - name: lab',
    `    url: ${serverUrl}`,
    'executors:',
    '  - name: crib',
    '    type: ssh',
    '    host: 127.0.0.1',
    '    port: 2222',
    '    user: builder',
    '    identityFile: /dev/null',
    '    connectTimeoutSec: 1',
    'access:',
    '  admins: [slack:UADMIN]',
    '  members: [slack:UALICE, slack:UBOB]',
    '  viewers: [slack:UVIEW]',
    'limits:',
    '  commandsPerMinute: 10000',
  ].join('\n');
}

function queueRows(core: Core, name: string): Array<{ actor: string; text: string; state: string; interrupt: number }> {
  return core.db.prepare('SELECT actor, text, state, interrupt FROM prompt_queue WHERE name = ? ORDER BY ord, id').all(name) as never;
}

/** What the core posted (outside command replies), as plain text, oldest first. */
function posted(core: Core): string[] {
  return (core.db.prepare('SELECT reply FROM outbox ORDER BY id').all() as Array<{ reply: string }>).map((r) => replyToPlainText(JSON.parse(r.reply) as Reply));
}

describe('queueing without a server: access, bad input, the bound', () => {
  let core: Core;
  let lab: { name: string; url: string };

  beforeAll(async () => {
    lab = { name: 'lab', url: await closedPortUrl() };
  });
  afterEach(async () => {
    await core?.close();
  });

  /** `kumo` (alice's) with a run in progress: a watch on a prompt, as `send` leaves it. */
  function busyKumo(): Core {
    core = startCore({ yaml: yaml(lab.url) });
    seedSession(core, 'kumo', lab, ALICE.id, ALICE.id);
    const { registry, monitor } = core.app.switchboard.services;
    monitor.watch({ name: 'kumo', promptId: registry.get('kumo')!.lastPromptId!, sender: ALICE.id, since: core.clock.now() });
    return core;
  }

  it('queues for a member, in order, with the echo verbatim and the position; the card sees who queued', async () => {
    busyKumo();
    const first = await core.run(BOB, 'send kumo --  two  spaces `and` <@U1>');
    expect(plain(first)).toBe('📨 **kumo** ← bob · queued, runs after the current run (position 1)\n two  spaces `and` <@U1>');
    const second = await core.run(ALICE, 'send kumo second');
    expect(plain(second)).toContain('(position 2)');
    expect(queueRows(core, 'kumo').map((r) => [r.actor, r.text, r.state])).toEqual([
      [BOB.id, ' two  spaces `and` <@U1>', 'queued'],
      [ALICE.id, 'second', 'queued'],
    ]);
    expect(core.app.switchboard.services.followUps.queuedFor('kumo')).toEqual([
      { actor: 'bob', position: 1 },
      { actor: 'alice', position: 2 },
    ]);
    await core.run(BOB, 'send kumo third');
    expect(core.app.switchboard.services.followUps.queuedNote('kumo')).toBe('⏳ 3 prompts queued (bob ×2, alice)');
  });

  it('needs the same role as send: a viewer can neither queue nor interrupt, and nothing is queued', async () => {
    busyKumo();
    for (const line of ['send kumo let me in', 'send --now kumo let me in now']) {
      const refused = await core.run(VIEWER, line);
      expect(errorCode(refused)).toBe('forbidden');
    }
    expect(queueRows(core, 'kumo')).toHaveLength(0);
  });

  it('refuses bad input and changes nothing: an empty prompt, a value given to --now, a shell task', async () => {
    busyKumo();
    seedTask(core, { name: 'build', executor: 'crib', actor: ALICE.id, kind: 'shell' });
    expect(errorCode(await core.run(ALICE, 'send --now kumo'))).toBe('empty_prompt');
    const valued = await core.run(ALICE, 'send --now=yes kumo do it');
    expect(errorCode(valued)).toBe('usage');
    expect(plain(valued)).toContain('`--now` takes no value');
    expect(plain(await core.run(ALICE, 'send build again'))).toContain('build is a shell task; send works on claude tasks');
    expect(queueRows(core, 'kumo')).toHaveLength(0);
    expect(queueRows(core, 'build')).toHaveLength(0);
  });

  it('lets only the run\'s sender or an admin interrupt it, as `abort` does; a refusal queues nothing', async () => {
    busyKumo();
    const refused = await core.run(BOB, 'send --now kumo mine first');
    expect(errorCode(refused)).toBe('forbidden');
    expect(plain(refused)).toContain('slack:UBOB may not interrupt kumo: it belongs to slack:UALICE');
    expect(queueRows(core, 'kumo')).toHaveLength(0);
    // Without --now the same member simply queues.
    expect(plain(await core.run(BOB, 'send kumo mine after'))).toContain('(position 1)');
  });

  it('takes back a `send --now` whose interrupt could not reach the server', async () => {
    busyKumo();
    await core.run(BOB, 'send kumo waiting');
    const failed = await core.run(ALICE, 'send --now kumo urgent');
    expect(errorCode(failed)).toBe('unreachable');
    expect(queueRows(core, 'kumo').map((r) => r.text)).toEqual(['waiting']);
  });

  it('`abort` that cannot reach the server keeps the queue', async () => {
    busyKumo();
    await core.run(BOB, 'send kumo waiting');
    expect(errorCode(await core.run(ALICE, 'abort kumo'))).toBe('unreachable');
    expect(queueRows(core, 'kumo')).toHaveLength(1);
  });

  it('`forget` drops the queue, so no later name spelled the same ever gets those prompts', async () => {
    busyKumo();
    await core.run(BOB, 'send kumo for the old kumo');
    const forgot = await core.run({ id: 'slack:UADMIN' }, 'forget kumo');
    expect(plain(forgot)).toContain('; dropped 1 queued prompt (bob)');
    expect(queueRows(core, 'kumo')).toHaveLength(0);
  });

  /** A second dispatcher on the core's database and services, with its retry timer in the test's hands. */
  function dispatcherWithTimers() {
    const timers: Array<() => void> = [];
    const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const followUps = createFollowUps({ queue: createPromptQueue(core.db, core.clock), logger: quiet, setTimer: (run) => void timers.push(run) });
    followUps.attachServices(core.app.switchboard.services);
    return { followUps, timers };
  }

  it('keeps a queued prompt whose server is away, says so once, and tries again quietly', async () => {
    core = startCore({ yaml: yaml(lab.url) });
    seedSession(core, 'kumo', lab, ALICE.id, ALICE.id);
    const { followUps, timers } = dispatcherWithTimers();
    followUps.enqueue({ name: 'kumo', actor: BOB.id, actorName: 'bob', text: 'when you are back', origin: { adapter: 'slack', channel: 'CWORK' } });
    await followUps.idle();
    expect(queueRows(core, 'kumo').map((r) => [r.text, r.state])).toEqual([['when you are back', 'sending']]);
    const warnings = () => posted(core).filter((p) => p.includes('could not send the prompt bob queued for **kumo** yet'));
    expect(warnings()).toHaveLength(1);
    expect(timers).toHaveLength(1);
    timers.shift()!();
    for (let i = 0; i < 100 && timers.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(timers).toHaveLength(1);
    expect(warnings()).toHaveLength(1);
    expect(queueRows(core, 'kumo')).toHaveLength(1);
  });

  it('drops a queued prompt the target refuses for what it is, says so, and goes on to the next', async () => {
    core = startCore({ yaml: yaml(lab.url) });
    seedTask(core, { name: 'build', executor: 'crib', actor: ALICE.id, kind: 'shell', status: 'succeeded' });
    const { followUps, timers } = dispatcherWithTimers();
    for (const text of ['first', 'second']) followUps.enqueue({ name: 'build', actor: BOB.id, actorName: 'bob', text, origin: { adapter: 'slack', channel: 'CWORK' } });
    await followUps.idle();
    const refusals = posted(core).filter((p) => p.includes('the prompt bob queued for **build** was refused (build is a shell task; send works on claude tasks); it was dropped'));
    expect(refusals).toHaveLength(2);
    expect(queueRows(core, 'build')).toHaveLength(0);
    expect(timers).toHaveLength(0);
  });

  it('bounds a queue at 20 prompts: the 21st is refused with what to do', async () => {
    busyKumo();
    for (let i = 1; i <= 20; i++) expect(plain(await core.run(ALICE, `send kumo prompt ${i}`))).toContain(`(position ${i})`);
    const refused = await core.run(ALICE, 'send kumo one too many');
    expect(errorCode(refused)).toBe('limit_reached');
    expect(plain(refused)).toContain('kumo already has 20 prompts queued; the limit is 20');
    expect(queueRows(core, 'kumo')).toHaveLength(20);
  });

  it('queues a follow-up to a running Claude task, and `abort` drops it even when the task cannot be reached', async () => {
    core = startCore({ yaml: yaml(lab.url) });
    seedTask(core, { name: 'auth', executor: 'crib', actor: ALICE.id, kind: 'claude', status: 'running' });
    expect(plain(await core.run(ALICE, 'send auth also update the docs'))).toContain('queued, runs after the current run (position 1)');
    expect(plain(await core.run(BOB, 'send auth and the changelog'))).toContain('(position 2)');
    expect(plain(await core.run(ALICE, 'status auth'))).toContain('⏳ 2 prompts queued (alice, bob)');
    const aborted = await core.run(ALICE, 'abort auth');
    expect(errorCode(aborted)).toBe('executor_unreachable');
    expect(plain(aborted)).toContain('dropped 2 queued prompts (alice, bob)');
    expect(queueRows(core, 'auth')).toHaveLength(0);
  });
});

describe('the grammar and /sb', () => {
  it('parses --now as a flag anywhere before the prompt, and shows it in the usage', () => {
    expect(parseCommandLine('send --now kumo stop', allCommands)).toEqual({ verb: 'send', args: { name: 'kumo' }, options: { now: true }, text: 'stop' });
    expect(parseCommandLine('send kumo --now -- --now is text', allCommands)).toEqual({ verb: 'send', args: { name: 'kumo' }, options: { now: true }, text: '--now is text' });
  });

  it('adds `now` to the existing /sb send subcommand (still 25 subcommands) and reads it back', () => {
    const layout = slashLayout(allCommands);
    expect(layout.body.options).toHaveLength(25);
    const send = layout.verbs.get('send')!;
    expect(send.fields.find((f) => f.option === 'now')).toMatchObject({ kind: 'option', value: 'flag', required: false });
    const line = commandLine(send, (option) => ({ name: 'kumo', now: true, prompt: 'stop now' })[option]);
    expect(parseCommandLine(line, allCommands)).toEqual({ verb: 'send', args: { name: 'kumo' }, options: { now: true }, text: 'stop now' });
  });
});

describe('a queued prompt a crash left half-sent, against the real opencode server', () => {
  let llm: FakeLlm;
  let server: OpencodeServer;
  let core: Core;

  beforeAll(async () => {
    llm = await startFakeLlm();
    server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  });
  afterAll(async () => {
    await server?.stop();
    await llm?.close();
    if (server) removeServerRoot(server);
  });
  afterEach(async () => {
    await core?.close();
  });

  const asked = (text: string) => llm.requests.filter((r) => r.tools?.length && !r.afterToolResult && r.lastUserText === text).length;

  /** A queue row in `sending`, as the dispatcher leaves it just before (or just after) the server took the prompt. */
  async function halfSent(name: string, text: string, reachedServer: boolean): Promise<void> {
    // The server stamps messages with the real time; so does this core.
    core = startCore({ yaml: yaml(server.url), clock: { now: () => Date.now(), advance: () => undefined } });
    // The session is made on the server directly; `attach` is tried again if a loaded server was slow (3 s).
    const session = (await (await fetch(`${server.url}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { id: string };
    let attached = await core.run(CONSOLE, `attach ${name} lab ${session.id}`);
    for (let i = 0; i < 3 && errorCode(attached) === 'timeout'; i++) attached = await core.run(CONSOLE, `attach ${name} lab ${session.id}`);
    expect(errorCode(attached)).toBeUndefined();
    const { registry } = core.app.switchboard.services;
    const record = registry.get(name)!;
    const promptId = registry.recordPrompt({ name, actor: BOB.id, text, agent: 'build' });
    core.db
      .prepare(
        `INSERT INTO prompt_queue (name, ord, actor, actor_name, text, agent, origin, queued_at, state, prompt_id)
         VALUES (?, 1, ?, 'bob', ?, 'build', ?, ?, 'sending', ?)`,
      )
      .run(name, BOB.id, text, JSON.stringify(record.origin), core.clock.now(), promptId);
    if (reachedServer) {
      const sessionId = record.target.kind === 'opencode' ? record.target.sessionId : '';
      const response = await fetch(`${server.url}/session/${sessionId}/prompt_async`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ parts: [{ type: 'text', text }], agent: 'build' }),
      });
      expect(response.status).toBe(204);
      await llm.waitForRequest(text);
    }
  }

  /** Starts the app (as after a restart) and checks until the run's final output is posted. */
  async function finalOf(name: string, text: string): Promise<string[]> {
    await core.app.start();
    for (let i = 0; i < 200; i++) {
      const finals = posted(core).filter((p) => p.startsWith(`📋 **${name}**`));
      if (finals.length && core.app.switchboard.services.monitor.watching(name) === undefined) return finals;
      await new Promise((resolve) => setTimeout(resolve, 100));
      await core.app.monitor.checkNow([name]);
    }
    throw new Error(`no final for ${name}; posted:\n${posted(core).join('\n')}\nasked ${asked(text)}`);
  }

  it.each([
    { name: 'half', text: 'already on the server', reachedServer: true, what: 'sent before the crash: followed, never sent again' },
    { name: 'lost', text: 'never reached the server', reachedServer: false, what: 'not sent before the crash: sent once at start-up' },
  ])('$what, its final posted once', async ({ name, text, reachedServer }) => {
    await halfSent(name, text, reachedServer);
    const finals = await finalOf(name, text);
    expect(finals).toHaveLength(1);
    expect(finals[0]).toContain(`Done: ${text}`);
    expect(asked(text)).toBe(1);
    expect(queueRows(core, name)).toHaveLength(0);
  });
});
