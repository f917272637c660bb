import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';

/**
 * The monitor end to end: the real bot process, the real `opencode` binary, the scripted LLM. With the
 * default 5-minute interval, anything that arrives within seconds came from the event stream.
 */
let llm: FakeLlm;
let server: OpencodeServer;
const dirs: string[] = [];

function workdir(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-monitor-'));
  writeFileSync(join(dir, 'switchboard.yaml'), yaml);
  dirs.push(dir);
  return dir;
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

async function sessionIdle(url: string, sessionId: string): Promise<void> {
  for (;;) {
    const statuses = (await (await fetch(`${url}/session/status`)).json()) as Record<string, unknown>;
    const messages = (await (await fetch(`${url}/session/${sessionId}/message?limit=1`)).json()) as Array<{ info: { role: string; time: { completed?: number } } }>;
    const last = messages[messages.length - 1];
    if (!statuses[sessionId] && last?.info.role === 'assistant' && last.info.time.completed) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl, permission: { bash: 'ask' } });
});

afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('monitor with the default 5-minute interval (the event stream does the work)', () => {
  let bot: ConsoleBot;
  let cwd: string;

  beforeAll(async () => {
    cwd = workdir(`servers:\n  - name: lab\n    url: ${server.url}\n`);
    bot = await startConsoleBot({ cwd });
    await bot.exec('new kumo lab --agent build', /Send it work/);
  });
  afterAll(async () => {
    await bot?.end();
  });

  it('keeps one card up to date as todos change, then posts the final output once, within seconds of going idle', async () => {
    const before = bot.stdout().length;
    await bot.exec('send kumo TODO HOLDAFTER:p1 Fix parse()', /^TODO HOLDAFTER:p1 Fix parse\(\)$/m);
    // The card appears with the run and is edited when the todo list arrives (a pipe prints each new state once).
    await bot.waitFor(/^⚙️ \*\*kumo\*\* · working · \d+s$/m, 30_000);
    await bot.waitFor(/^⚙️ \*\*kumo\*\* · working · \d+s · todo 2\/4$/m, 30_000);
    const releasedAt = Date.now();
    llm.release('p1');
    const final = await bot.waitFor(/📋 \*\*kumo\*\* finished.*\n.*/, 30_000);
    expect(Date.now() - releasedAt).toBeLessThan(20_000);
    // The fake model has prices: the run's tokens (two steps of 10 in, 5 out) and cost are in the header.
    expect(final).toMatch(/📋 \*\*kumo\*\* finished · ✅ · todo 2\/4 · \d+s · 30 tokens · \$0\.21\nDone: TODO HOLDAFTER:p1 Fix parse\(\)/);
    await bot.waitFor(/^⚙️ \*\*kumo\*\* · finished ✅ \d+s · todo 2\/4$/m, 30_000);
    const run = bot.stdout().slice(before);
    expect(count(run, '📋 **kumo**')).toBe(1);
    // No message per change: the old progress and stall posts are gone.
    expect(run).not.toContain('is working');
    expect(run).not.toContain('is still busy');
    const check = await bot.exec('status kumo', /\*\*kumo\*\* · OpenCode.*/);
    expect(check).not.toContain('watched');
  });

  it('reports an agent error reply once, with ❌ and its message', async () => {
    await bot.exec('send kumo BADREQ please', /^BADREQ please$/m);
    const final = await bot.waitFor(/📋 \*\*kumo\*\* failed.*\n.*/, 30_000);
    expect(final).toContain('❌ APIError: fake invalid request: context too long');
  });

  it('asks for permission, and `approve` (only by the sender or an admin) lets the tool run', async () => {
    await bot.exec('send kumo BASH list the files', /^BASH list the files$/m);
    const ask = await bot.waitFor(/🔐 \*\*kumo\*\* asks permission: `bash echo hi-from-bash`[\s\S]*?only console:tester or an admin may answer\./, 30_000);
    expect(ask).toMatch(/1\) Approve once\n {2}2\) Always\n {2}3\) Deny/);
    await bot.exec('approve kumo once', /✅ approved once for \*\*kumo\*\*: `bash echo hi-from-bash`/);
    const final = await bot.waitFor(/📋 \*\*kumo\*\* finished.*\n.*/, 30_000);
    expect(final).toContain('Done: BASH list the files');
    expect(await bot.exec('approve kumo', /^❌.*/m)).toContain('**kumo** is not waiting for a permission');
  });

  it('takes a typed choice for a permission, and `deny` with no pending request is a clear error', async () => {
    await bot.exec('send kumo BASH again please', /^BASH again please$/m);
    await bot.waitFor(/3\) Deny/, 30_000);
    await bot.exec('3', /🚫 denied for \*\*kumo\*\*/);
    const final = await bot.waitFor(/📋 \*\*kumo\*\* (finished|failed).*\n.*/, 30_000);
    expect(final).toContain('failed');
    expect(await bot.exec('deny kumo', /^❌.*/m)).toContain('not waiting for a permission or an answer');
  });

  it('reports an abort from elsewhere once', async () => {
    await bot.exec('send kumo HOLD:ab1 take your time', /^HOLD:ab1 take your time$/m);
    await llm.waitForRequest('HOLD:ab1');
    const sessionId = /\*\*kumo\*\* → OpenCode session `(ses_\w+)`/.exec(bot.stdout())![1]!;
    await fetch(`${server.url}/session/${sessionId}/abort`, { method: 'POST' });
    const final = await bot.waitFor(/📋 \*\*kumo\*\* failed.*\n.*/, 30_000);
    expect(final).toContain('❌ aborted');
    llm.release('ab1');
  });

  it('reports a session deleted on the server, once, and stops watching', async () => {
    await bot.exec('new goner lab --agent build', /Send it work/);
    const sessionId = /\*\*goner\*\* → OpenCode session `(ses_\w+)`/.exec(bot.stdout())![1]!;
    await bot.exec('send goner HOLD:gone1 slow work', /^HOLD:gone1 slow work$/m);
    await llm.waitForRequest('HOLD:gone1');
    await fetch(`${server.url}/session/${sessionId}/abort`, { method: 'POST' });
    await bot.waitFor(/📋 \*\*goner\*\* failed/, 30_000);
    await bot.exec('watch goner', /👀 watching \*\*goner\*\* every 5m/);
    await fetch(`${server.url}/session/${sessionId}`, { method: 'DELETE' });
    const notice = await bot.waitFor(/🗑 the OpenCode session .* of \*\*goner\*\* was deleted/, 30_000);
    expect(notice).toContain('`forget goner` drops the name');
    expect(await bot.exec('unwatch goner', /^❌.*/m)).toContain('is not being watched');
    llm.release('gone1');
  });

  it('posts the final output of work that finished while Switchboard was down, exactly once', async () => {
    await bot.exec('new later lab --agent build', /Send it work/);
    const sessionId = /\*\*later\*\* → OpenCode session `(ses_\w+)`/.exec(bot.stdout())![1]!;
    await bot.exec('send later HOLD:down1 finish while I am away', /^HOLD:down1 finish while I am away$/m);
    await llm.waitForRequest('HOLD:down1');
    expect(await bot.end()).toBe(0);
    llm.release('down1');
    await sessionIdle(server.url, sessionId);

    bot = await startConsoleBot({ cwd });
    const final = await bot.waitFor(/📋 \*\*later\*\* finished.*\n.*/, 45_000);
    expect(final).toContain('Done: HOLD:down1 finish while I am away');
    // A console that never read a line exits 2 (an empty stdin is a misconfigured container): type something.
    await bot.exec('help watch', /usage: watch/);
    expect(await bot.end()).toBe(0);
    bot = await startConsoleBot({ cwd });
    await bot.exec('sessions', /later/);
    await bot.exec('help watch', /usage: watch/);
    expect(count(bot.stdout(), '📋 **later**')).toBe(0);
  });
});

describe('monitor with a short interval: ticks, the stall watchdog, and a server that dies', () => {
  let bot: ConsoleBot;
  let flaky: OpencodeServer;

  beforeAll(async () => {
    flaky = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
    const cwd = workdir(`servers:\n  - name: flaky\n    url: ${flaky.url}\nmonitor:\n  interval: 2s\n  stallAfter: 4s\n  unreachableAfter: 2\n`);
    bot = await startConsoleBot({ cwd });
    await bot.exec('new tick flaky --agent build', /Send it work/);
  });
  afterAll(async () => {
    await bot?.end();
    await flaky?.stop();
    if (flaky) removeServerRoot(flaky);
  });

  it('ticks leave an unchanged card alone, and a quiet run shows as stalled on its card, not in a message', async () => {
    // Released however this ends, so a failure here does not leave the session busy for the next test.
    onTestFinished(() => llm.release('t1'));
    const before = bot.stdout().length;
    await bot.exec('send tick TODO HOLDAFTER:t1 long job', /^TODO HOLDAFTER:t1 long job$/m);
    // A fresh server boots an instance for its first prompt: on a loaded machine that takes a while.
    await bot.waitFor(/^⚙️ \*\*tick\*\* · working · \d+s · todo 2\/4$/m, 60_000);
    const stalled = await bot.waitFor(/^⚙️ \*\*tick\*\* · stalled ⏳ · \d+s · todo 2\/4$/m, 20_000);
    expect(stalled).toContain('stalled');
    // Several ticks have passed since: the unchanged state was not printed again.
    await bot.exec('status tick', /\*\*tick\*\* · OpenCode.*/);
    const run = bot.stdout().slice(before);
    expect(run.match(/^⚙️ \*\*tick\*\* · working · \d+s · todo 2\/4$/gm), run).toHaveLength(1);
    // Exactly one stall for the held spell (the count went from 1 to ≥ 1 once; it is exact again). A loaded
    // machine may also be quiet for 4 s before the todo list exists: that earlier spell is a stall of its own and
    // prints without `todo 2/4`, so it is not counted here; the held spell is never reported twice.
    expect(run.match(/^⚙️ \*\*tick\*\* · stalled ⏳ · \d+s · todo 2\/4$/gm), run).toHaveLength(1);
    expect(run).not.toContain('is still busy');
    llm.release('t1');
    await bot.waitFor(/📋 \*\*tick\*\* finished/, 30_000);
    await bot.waitFor(/^⚙️ \*\*tick\*\* · finished ✅ \d+s · todo 2\/4$/m, 30_000);
  });

  it('says once that the server is unreachable and once that it is back, then reports the broken run', async () => {
    await bot.exec('send tick HOLD:k1 survive a crash', /^HOLD:k1 survive a crash$/m);
    await llm.waitForRequest('HOLD:k1');
    await flaky.stop();
    const down = await bot.waitFor(/⚠️ server flaky is unreachable .*/, 30_000);
    expect(down).toContain('watching tick resumes when it is back');
    const port = flaky.port;
    const root = flaky.root;
    flaky = await startOpencodeServer({ llmBaseUrl: llm.baseUrl, root, port });
    await bot.waitFor(/✅ server flaky is back; watching tick again\./, 30_000);
    const final = await bot.waitFor(/📋 \*\*tick\*\* failed.*\n[\s\S]*?❌ .*/, 60_000);
    expect(final).toMatch(/❌ (the run stopped before it completed|aborted|.*Error)/);
    llm.release('k1');
    expect(count(bot.stdout(), '⚠️ server flaky is unreachable')).toBe(1);
    expect(count(bot.stdout(), '✅ server flaky is back')).toBe(1);
  });
});
