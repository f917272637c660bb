import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';

/**
 * `answer` from the console end to end: the real bot process, the real `opencode` server running its `question`
 * tool (the fake model asks "Which color?"), the `switchboard` command as another person on the same machine,
 * and a restart of the bot while the question waits. Console users are members here, not admins, so the
 * access rules are the ones a chat has.
 */
const BIN = resolve(import.meta.dirname, '../../bin/switchboard.js');
let llm: FakeLlm;
let server: OpencodeServer;
let cwd: string;
const bots: ConsoleBot[] = [];

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  cwd = mkdtempSync(join(tmpdir(), 'sb-questions-'));
  writeFileSync(
    join(cwd, 'switchboard.yaml'),
    ['servers:', '  - name: lab', `    url: ${server.url}`, 'access:', '  consoleIsAdmin: false', '  members: [console:tester, console:mallory]'].join('\n'),
  );
});

afterAll(async () => {
  for (const bot of bots) await bot.end().catch(() => undefined);
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

async function startBot(): Promise<ConsoleBot> {
  const bot = await startConsoleBot({ cwd });
  bots.push(bot);
  return bot;
}

/** `switchboard <args…>` as `user`, on the bot's database. */
function cli(user: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, USER: user, LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

/** The answer OpenCode handed back to the model as the question tool's result. */
function toolResult(marker: string): string {
  const request = llm.requests.find((r) => r.afterToolResult && r.lastUserText.includes(marker));
  return JSON.stringify(request?.messages.filter((m) => m.role === 'tool').at(-1)?.content ?? null);
}

const count = (haystack: string, needle: RegExp) => haystack.match(new RegExp(needle.source, 'g'))?.length ?? 0;

describe('answering an agent’s question from the console', () => {
  it('lists the options, refuses a wrong choice and another person, and `answer` lets the run finish once', async () => {
    const bot = await startBot();
    await bot.exec('new kumo lab --agent build', /Send it work/, 60_000);
    await bot.exec('send kumo QUESTION-CONSOLE pick a color', /^QUESTION-CONSOLE pick a color$/m);
    const ask = await bot.waitFor(/❓ \*\*kumo\*\* asks: Which color\? \(Red \/ Blue\)[\s\S]*?or `deny kumo` to decline\./, 60_000);
    expect(ask).toMatch(/1\) Red — warm\n {2}2\) Blue — cool/);

    expect(await bot.exec('answer kumo Purple', /^❌.*/m)).toContain('`Purple` is not one of the choices');
    // Another console user may work here, but the question is tester's.
    const mallory = await cli('mallory', ['answer', 'kumo', 'Blue']);
    expect(mallory.code).not.toBe(0);
    expect(mallory.stderr).toContain('console:mallory may not answer the questions of kumo: it belongs to console:tester');
    expect(toolResult('QUESTION-CONSOLE')).toBe('null');

    await bot.exec('answer kumo blue', /💬 answered \*\*kumo\*\*: Blue \(by console:tester\)/);
    const final = await bot.waitFor(/📋 \*\*kumo\*\* finished.*\n.*/, 60_000);
    expect(final).toContain('Done: QUESTION-CONSOLE pick a color');
    expect(toolResult('QUESTION-CONSOLE')).toContain('\\"Which color?\\"=\\"Blue\\"');
    expect(await bot.exec('answer kumo Red', /^❌.*/m)).toContain('**kumo** is not asking anything');
    expect(count(bot.stdout(), /📋 \*\*kumo\*\* (finished|failed)/)).toBe(1);
    expect(await bot.end()).toBe(0);
  });

  it('takes the answer after the bot restarted while the question waited; the final arrives once', async () => {
    const first = await startBot();
    await first.exec('send kumo QUESTION-AFTER-RESTART pick again', /^QUESTION-AFTER-RESTART pick again$/m);
    await first.waitFor(/❓ \*\*kumo\*\* asks: Which color\?/, 60_000);
    expect(await first.signal('SIGTERM')).toBe(0);

    const second = await startBot();
    await second.exec('answer kumo red', /💬 answered \*\*kumo\*\*: Red \(by console:tester\)/);
    const final = await second.waitFor(/📋 \*\*kumo\*\* finished.*\n.*/, 60_000);
    expect(final).toContain('Done: QUESTION-AFTER-RESTART pick again');
    expect(toolResult('QUESTION-AFTER-RESTART')).toContain('\\"Which color?\\"=\\"Red\\"');
    await second.exec('status kumo', /💤 idle/);
    // Asked once (the restarted monitor remembers what it asked), finished once, across both processes.
    const both = first.stdout() + second.stdout();
    expect(count(both, /❓ \*\*kumo\*\* asks/)).toBe(1);
    expect(count(both, /📋 \*\*kumo\*\* (finished|failed)/)).toBe(1);
  });

  it('two questions at once: one answer each, in order, the second with two of its choices', { timeout: 180_000 }, async () => {
    // One bot on the database at a time, as a person runs it.
    for (const earlier of bots.splice(0)) await earlier.end().catch(() => undefined);
    const bot = await startBot();
    await bot.exec('send kumo QUESTIONS2-CONSOLE pick both', /^QUESTIONS2-CONSOLE pick both$/m);
    const ask = await bot.waitFor(/❓ \*\*kumo\*\* asks: Which color\? \(Red \/ Blue\)\nWhich sizes\? \(S \/ M \/ L\)[\s\S]*?decline\./, 60_000);
    expect(ask).toContain('Answer with `answer kumo <first> | <second>` (one answer a question, in order)');
    expect(await bot.exec('answer kumo Blue', /^❌.*/m)).toContain('2 questions need 2 answers, separated by `|`; got 1');
    expect(toolResult('QUESTIONS2-CONSOLE')).toBe('null');

    await bot.exec('answer kumo blue | s, L', /💬 answered \*\*kumo\*\*: Blue \| S, L \(by console:tester\)/);
    const final = await bot.waitFor(/📋 \*\*kumo\*\* finished.*\n.*QUESTIONS2-CONSOLE.*/, 60_000);
    expect(final).toContain('Done: QUESTIONS2-CONSOLE pick both');
    // Each question got its own answer (before, the first label went to every question).
    const result = toolResult('QUESTIONS2-CONSOLE');
    expect(result).toContain('\\"Which color?\\"=\\"Blue\\"');
    expect(result).toContain('\\"Which sizes?\\"=\\"S, L\\"');
    expect(await bot.end()).toBe(0);
  });
});

