import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';

/**
 * Follow-ups while a name is busy, end to end: the real bot process, the real `opencode` binary, the scripted
 * LLM. OpenCode itself folds a prompt sent to a busy session into the running loop (one reply for both); these
 * tests pin what Switchboard does instead: queue, `send --now`, `abort`, and a queue that survives a restart.
 */
let llm: FakeLlm;
let server: OpencodeServer;
let cwd: string;
let bot: ConsoleBot;

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Prompts the LLM was asked to answer (title requests excluded), by their first line. */
function asked(marker: string): number {
  return llm.requests.filter((r) => r.tools && r.tools.length > 0 && !r.afterToolResult && r.lastUserText.includes(marker)).length;
}

async function sessionIdle(sessionId: string): Promise<void> {
  for (;;) {
    const statuses = (await (await fetch(`${server.url}/session/status`)).json()) as Record<string, unknown>;
    const messages = (await (await fetch(`${server.url}/session/${sessionId}/message?limit=1`)).json()) as Array<{ info: { role: string; time: { completed?: number } } }>;
    const last = messages[messages.length - 1];
    if (!statuses[sessionId] && last?.info.role === 'assistant' && last.info.time.completed) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function sessionOf(name: string): string {
  return new RegExp(`\\*\\*${name}\\*\\* → OpenCode session \`(ses_\\w+)\``).exec(bot.stdout())![1]!;
}

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  cwd = mkdtempSync(join(tmpdir(), 'sb-queue-'));
  writeFileSync(join(cwd, 'switchboard.yaml'), `servers:\n  - name: lab\n    url: ${server.url}\n`);
  bot = await startConsoleBot({ cwd });
});

afterAll(async () => {
  await bot?.end().catch(() => undefined);
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('a send to a busy name', { timeout: 180_000 }, () => {
  it('queues the second prompt: two runs in order, each with its own final output, each posted once', async () => {
    await bot.exec('new q1 lab --agent build', /Send it work/);
    await bot.exec('send q1 HOLD:qa first prompt, slow', /^HOLD:qa first prompt, slow$/m);
    // The first prompt boots the server's instance for the directory: slow on a loaded machine.
    await llm.waitForRequest('HOLD:qa', 90_000);
    const echo = await bot.exec('send q1 second prompt, queued', /^second prompt, queued$/m);
    expect(echo).toContain('📨 **q1** ← tester · queued, runs after the current run (position 1)');
    const third = await bot.exec('send q1 third prompt, queued too', /^third prompt, queued too$/m);
    expect(third).toContain('(position 2)');
    expect(asked('second prompt')).toBe(0);

    llm.release('qa');
    const first = await bot.waitFor(/📋 \*\*q1\*\* finished.*\n.*/, 30_000);
    expect(first).toContain('Done: HOLD:qa first prompt, slow');
    expect(await bot.waitFor(/▶️ \*\*q1\*\*: running the prompt tester queued.*/, 30_000)).toContain('(1 more queued)');
    const second = await bot.waitFor(/📋 \*\*q1\*\* finished.*\n.*/, 30_000);
    expect(second).toContain('Done: second prompt, queued');
    const last = await bot.waitFor(/📋 \*\*q1\*\* finished.*\n.*/, 30_000);
    expect(last).toContain('Done: third prompt, queued too');

    // Once more through the whole output: every answer exactly once, in order (`help` only marks a moment).
    const help = await bot.exec('help send', /usage: send.*/);
    expect(help).toContain('usage: send <name> [--agent A] [--now] [prompt…]');
    const out = bot.stdout();
    for (const answer of ['Done: HOLD:qa first prompt, slow', 'Done: second prompt, queued', 'Done: third prompt, queued too']) {
      expect(count(out, answer)).toBe(1);
    }
    expect(out.indexOf('Done: HOLD:qa')).toBeLessThan(out.indexOf('Done: second prompt'));
    expect(out.indexOf('Done: second prompt')).toBeLessThan(out.indexOf('Done: third prompt'));
    expect(asked('second prompt, queued')).toBe(1);
    expect(asked('third prompt, queued too')).toBe(1);
  });

  it('`send --now` interrupts the current run, then sends at once', async () => {
    await bot.exec('send q1 HOLD:qn long job', /^HOLD:qn long job$/m);
    await llm.waitForRequest('HOLD:qn');
    const echo = await bot.exec('send --now q1 urgent: stop and fix the build', /^urgent: stop and fix the build$/m);
    expect(echo).toContain('📨 **q1** ← tester · interrupting the current run; runs as soon as it has stopped');
    const aborted = await bot.waitFor(/📋 \*\*q1\*\* failed[^]*?❌ interrupted by tester/, 30_000);
    // The old run's final (and its card, drawn from the same state) says who stopped it, not just "aborted".
    expect(aborted).not.toContain('Done: HOLD:qn');
    const final = await bot.waitFor(/📋 \*\*q1\*\* finished.*\n.*/, 30_000);
    expect(final).toContain('Done: urgent: stop and fix the build');
    llm.release('qn');
    expect(asked('urgent: stop and fix the build')).toBe(1);
  });

  it('`abort` stops the run and drops the queue, saying how many and whose', async () => {
    await bot.exec('send q1 HOLD:qx will be aborted', /^HOLD:qx will be aborted$/m);
    await llm.waitForRequest('HOLD:qx');
    await bot.exec('send q1 dropped one', /position 1/);
    await bot.exec('send q1 dropped two', /position 2/);
    expect(await bot.exec('status q1', /⏳ .*/)).toContain('⏳ 2 prompts queued (tester ×2)');
    const done = await bot.exec('abort q1', /⏹ .*/);
    expect(done).toContain('⏹ abort sent to **q1**; dropped 2 queued prompts (tester ×2)');
    await bot.waitFor(/📋 \*\*q1\*\* failed.*\n.*/, 30_000);
    llm.release('qx');
    // The queue is empty: the next prompt goes straight out, and the dropped ones never reach the agent.
    const next = await bot.exec('send q1 after the abort', /^after the abort$/m);
    expect(next).not.toContain('queued');
    expect(await bot.waitFor(/📋 \*\*q1\*\* finished.*\n.*/, 30_000)).toContain('Done: after the abort');
    expect(asked('dropped one')).toBe(0);
    expect(asked('dropped two')).toBe(0);
  });

  it('waits for a turn someone else started on the session (the OpenCode TUI, say), then sends', async () => {
    await bot.exec('new q3 lab --agent build', /Send it work/);
    const response = await fetch(`${server.url}/session/${sessionOf('q3')}/prompt_async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ parts: [{ type: 'text', text: 'HOLD:qf typed in the terminal' }] }),
    });
    expect(response.status).toBe(204);
    await llm.waitForRequest('HOLD:qf', 90_000);
    const echo = await bot.exec('send q3 after the terminal', /^after the terminal$/m);
    expect(echo).toContain('📨 **q3** ← tester · queued, runs after the current run (position 1)');
    expect(asked('after the terminal')).toBe(0);
    llm.release('qf');
    expect(await bot.waitFor(/📋 \*\*q3\*\* finished.*\n.*/, 30_000)).toContain('Done: HOLD:qf typed in the terminal');
    expect(await bot.waitFor(/📋 \*\*q3\*\* finished.*\n.*/, 30_000)).toContain('Done: after the terminal');
    expect(asked('after the terminal')).toBe(1);
  });

  it('a queued prompt survives a restart and is sent once, after the run it waited for', async () => {
    await bot.exec('new q2 lab --agent build', /Send it work/);
    const sessionId = sessionOf('q2');
    await bot.exec('send q2 HOLD:qr before the restart', /^HOLD:qr before the restart$/m);
    await llm.waitForRequest('HOLD:qr', 90_000);
    await bot.exec('send q2 queued across the restart', /position 1/);
    expect(await bot.end()).toBe(0);
    llm.release('qr');
    await sessionIdle(sessionId);

    bot = await startConsoleBot({ cwd });
    expect(await bot.waitFor(/📋 \*\*q2\*\* finished.*\n.*/, 45_000)).toContain('Done: HOLD:qr before the restart');
    expect(await bot.waitFor(/📋 \*\*q2\*\* finished.*\n.*/, 45_000)).toContain('Done: queued across the restart');
    // A line typed, so the console is not an empty stdin (which exits 2 when no other adapter runs).
    await bot.exec('help abort', /usage: abort.*/);
    expect(await bot.end()).toBe(0);

    // Another restart reports and sends nothing again.
    bot = await startConsoleBot({ cwd });
    await bot.exec('help abort', /usage: abort.*/);
    expect(count(bot.stdout(), '📋 **q2**')).toBe(0);
    expect(asked('queued across the restart')).toBe(1);
  });
});
