import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type ChatRequest, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { HOSTILE_PROMPTS } from '../helpers/hostile-prompts.js';
import { closedPortUrl } from '../helpers/odd-servers.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';

/**
 * Hostile input through the real bot process (src/main.ts, console adapter on a pipe) against a real `opencode`
 * server and the scripted fake LLM: every line gets a specific answer, nothing is registered that should not
 * be, hostile prompts reach the model byte for byte and come back exactly, the process keeps answering, and the
 * audit log shows who sent what, where, when and how it went, in a table the database refuses to rewrite.
 */

let llm: FakeLlm;
let server: OpencodeServer;
let workdir: string;
let bot: ConsoleBot;

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  workdir = mkdtempSync(join(tmpdir(), 'sb-hostile-'));
  writeFileSync(join(workdir, 'switchboard.yaml'), ['servers:', '  - name: lab', `    url: ${server.url}`].join('\n'));
  bot = await startConsoleBot({ cwd: workdir, env: { SWITCHBOARD_HTTP_TIMEOUT: '20' } });
  // The first turn of a fresh OpenCode project loads the provider (slow on a busy machine): paid here, once.
  await bot.exec('new kumo lab --agent build', /Send it work/, 60_000);
  await bot.exec('send kumo warm up', /^warm up$/m);
  await bot.waitFor(/^Done: warm up$/m, 90_000);
}, 180_000);

afterAll(async () => {
  await bot?.end().catch(() => undefined);
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** The names in the bot's own database, read from the file (the bot keeps running). */
function registeredNames(): string[] {
  const db = new Database(join(workdir, 'data', 'switchboard.db'), { readonly: true });
  try {
    return (db.prepare('SELECT name FROM names ORDER BY name').all() as Array<{ name: string }>).map((row) => row.name);
  } finally {
    db.close();
  }
}

/** The request for the agent's turn (it carries tools; a title request does not) whose user text is `prompt`. */
function turnRequest(prompt: string): ChatRequest | undefined {
  return llm.requests.find((r) => (r.tools?.length ?? 0) > 0 && !r.afterToolResult && r.lastUserText === prompt);
}

describe('hostile commands', () => {
  it('answers each one with a specific message and registers nothing', async () => {
    const closed = await closedPortUrl();
    const zwsp = '\u200b';
    const rlo = '\u202e';
    const cases: Array<[string, RegExp]> = [
      // Mentions and markdown are not commands.
      ['<!channel> status kumo', /^❌ unknown command `<!channel>`/m],
      ['@everyone sessions', /^❌ unknown command `@everyone`/m],
      ['<@U123> help', /^❌ unknown command `<@U123>`/m],
      ['**status** kumo', /^❌ unknown command `\*\*status\*\*`/m],
      ['`status kumo`', /^❌ unknown command ``status` \(did you mean `status`\?\)/m],
      ['> sessions', /^❌ unknown command `>`/m],
      // Zero-width and right-to-left characters make a different (invalid) name, never kumo; the answer shows them.
      [`status k${zwsp}umo`, /^❌ invalid name "k\\u200bumo": a name is 1–32 characters/m],
      [`status kumo${rlo}`, /^❌ invalid name "kumo\\u202e"/m],
      [`send \u200dkumo hi`, /^❌ invalid name "\\u200dkumo"/m],
      [`${rlo}status kumo`, /^❌ unknown command `\\u202estatus` \(did you mean `status`\?\)/m],
      // NUL bytes.
      ['status kumo\u0000', /^❌ invalid name "kumo\\u0000"/m],
      ['send\u0000kumo hi', /^❌ unknown command `send\\u0000kumo`/m],
      ['\u0000\u0000\u0000', /^❌ unknown command `\\u0000\\u0000\\u0000`/m],
      // Names that look like paths or shell.
      ['new ../x lab --agent build', /^❌ invalid name "\.\.\/x"/m],
      ['new "$(id)" lab --agent build', /^❌ invalid name "\$\(id\)"/m],
      ['new ;rm lab --agent build', /^❌ invalid name ";rm"/m],
      ['new kumo;id lab --agent build', /^❌ invalid name "kumo;id"/m],
      ['send ;rm -rf / hi', /^❌ invalid name ";rm"/m],
      ['status kumo;id', /^❌ invalid name "kumo;id"/m],
      ['forget ../x', /^❌ invalid name "\.\.\/x"/m],
      ['kill $(id)', /^❌ invalid name "\$\(id\)"/m],
      ['logs `id`', /^❌ invalid name "`id`"/m],
      ['start local --name ../x do it', /^❌ invalid name "\.\.\/x"/m],
      ['attach "$(id)" lab ses_abcdef123456', /^❌ invalid name "\$\(id\)"/m],
      // Option injections reach no shell: they are values, checked as values.
      ['send kumo --agent "$(id)" hi', /^❌ server lab has no agent `\$\(id\)`\nagents there: build, plan/m],
      ['new fresh lab --agent "$(id)"', /^❌ server lab has no agent `\$\(id\)`/m],
      ['new fresh lab --agent build --dir "$(id)"', /^❌ --dir must be an absolute path on the server, not `\$\(id\)`/m],
      ['new fresh lab --agent build --model "$(id)"', /^❌ `\$\(id\)` is not a model/m],
      ['new fresh lab --agent=build --exec "id"', /^❌ unknown option `--exec`/m],
      ['audit --since "$(id)"', /^❌ `\$\(id\)` is not a period/m],
      ['logs kumo --lines "$(id)"', /^❌ .*--lines/m],
      [`new fresh ${closed}/$(id) --agent build`, /^❌ .*refused the connection/m],
      ['new fresh http://169.254.169.254 --agent build', /^❌ refusing http:\/\/169\.254\.169\.254.*link-local or cloud metadata address\nan admin can allow it with `access.allowMetadataAddresses: true`/m],
      ['new fresh http://metadata.google.internal --agent build', /^❌ refusing .*metadata\.google\.internal is a link-local or cloud metadata address/m],
      // Long lines: bounded answers.
      ['x'.repeat(100_000), /^❌ unknown command `x{1,60}…?`/m],
      [`send kumo ${'y'.repeat(150_000)}`, /^❌ the prompt is 150,000 characters; the limit is 100,000/m],
      [`status ${'k'.repeat(100_000)}`, /^❌ invalid name "k{40}…"/m],
    ];
    for (const [line, expected] of cases) {
      const answer = await bot.exec(line, /❌.*\n/);
      expect(answer, JSON.stringify(line.slice(0, 80))).toMatch(expected);
      // However long the line, the answer is short, and what it quotes back cannot hide or reorder its text.
      expect(answer.length, JSON.stringify(line.slice(0, 80))).toBeLessThan(600);
      expect(answer, JSON.stringify(line.slice(0, 80))).not.toMatch(/[\u0000-\u0008\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/);
    }
    // Still running, still answering.
    expect(await bot.exec('help status', /usage: status/)).toContain('usage: status <name>');
    expect(registeredNames()).toEqual(['kumo']);
    const sessions = await bot.exec('sessions', /kumo .*\n/);
    expect(sessions.split('\n').filter((l) => l.includes(' · '))).toHaveLength(1);
    // No prompt from these lines reached the model.
    expect(llm.requests.some((r) => /yyyyyyyy|\$\(id\)|;rm/.test(r.lastUserText))).toBe(false);
  });

  it('an option value that is hostile but valid is kept as plain text', async () => {
    const created = await bot.exec('new fresh lab --agent build --title "$(id); rm -rf / `uname`"', /Send it work/);
    const sessionId = /\*\*fresh\*\* → OpenCode session `(ses_\w+)`/.exec(created)![1]!;
    const session = (await (await fetch(`${server.url}/session/${sessionId}`)).json()) as { title: string };
    expect(session.title).toBe('$(id); rm -rf / `uname`');
    expect(registeredNames()).toEqual(['fresh', 'kumo']);
  });
});

describe('hostile prompts', () => {
  for (const [what, prompt] of HOSTILE_PROMPTS) {
    it(`${what}: reaches the model byte for byte and is echoed exactly`, async () => {
      const marker = prompt.split(' ')[0]!;
      // `--` ends the options: everything after it is the prompt, byte for byte.
      await bot.exec(`send kumo -- ${prompt}`, '📨 **kumo** ← tester (agent build)');
      expect(await bot.waitFor(prompt)).toBe(`${prompt}\n`);
      // The watch the send started reports the turn's end; by then the model has seen the prompt.
      await bot.waitFor(/📋 \*\*kumo\*\* finished/, 60_000);
      await bot.waitFor(`Done: ${marker}`);
      const request = turnRequest(prompt);
      expect(request, `no turn request with exactly the ${what} prompt; seen: ${JSON.stringify(llm.requests.filter((r) => r.lastUserText.includes(marker)).map((r) => r.lastUserText))}`).toBeDefined();
    });
  }

  it('a 100 000-character prompt, the most the limit allows, arrives whole', async () => {
    // One space only: the fake model streams its answer (the prompt's first line) word by word.
    const unit = '$(id)<!channel>\u200b\u202eé😀;rm\u0000`x`';
    const prompt = `P-LONG ${unit.repeat(Math.ceil(100_000 / unit.length))}`.slice(0, 99_999) + '.';
    expect(prompt).toHaveLength(100_000);
    // No emoji cut in half by the slice.
    expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(prompt)).toBe(false);
    await bot.exec(`send kumo -- ${prompt}`, '📨 **kumo** ← tester (agent build)');
    expect(await bot.waitFor(prompt)).toBe(`${prompt}\n`);
    await bot.waitFor(/📋 \*\*kumo\*\* finished/, 60_000);
    await bot.waitFor('Done: P-LONG');
    expect(turnRequest(prompt)).toBeDefined();
  });

  it('bidi controls: the exact echo is followed by a line that counts them, so it cannot read differently unnoticed', async () => {
    const prompt = 'P-BIDI approve \u202eexe.txt\u202c now';
    await bot.exec(`send kumo -- ${prompt}`, '📨 **kumo** ← tester (agent build)');
    expect(await bot.waitFor(prompt)).toBe(`${prompt}\n`);
    const notice = await bot.waitFor(/⚠️ this prompt contains.*/);
    expect(notice.trimEnd().split('\n').at(-1)).toBe(
      '⚠️ this prompt contains 1 right-to-left override character (U+202E) and 1 pop directional formatting character (U+202C): ' +
        'invisible, and able to make the text above display in a different order than it was sent',
    );
    await bot.waitFor(/📋 \*\*kumo\*\* finished/, 60_000);
    expect(turnRequest(prompt)).toBeDefined();
  });
});

describe('audit, end to end', () => {
  it('shows who sent what, where, when, and how it went', async () => {
    const lines = (await bot.exec('audit --limit 500', /send kumo: “P-LONG.*\n/)).split('\n');
    const row = (pattern: RegExp) => lines.find((l) => pattern.test(l));
    const stamp = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`;
    // A prompt is shown by its first line, quoted.
    expect(row(new RegExp(`^${stamp} · console:tester · console:terminal · send kumo: “P-SHELL \\$\\(id\\) \`id\` ; rm -rf / && curl .*” · ✅$`))).toBeDefined();
    expect(row(new RegExp(`^${stamp} · console:tester · console:terminal · new kumo lab --agent build · ✅$`))).toBeDefined();
    // Refusals and mistakes, with their code.
    expect(row(/· console:terminal · new ;rm lab --agent build · ❌ invalid_name$/)).toBeDefined();
    expect(row(/· console:terminal · send kumo --agent "\$\(id\)" hi · ❌ usage$/)).toBeDefined();
    expect(row(/· new fresh http:\/\/169\.254\.169\.254 --agent build · ❌ forbidden$/)).toBeDefined();
    expect(row(/· ❌ prompt_too_long$/)).toBeDefined();
  });

  it('narrows to one name and a period', async () => {
    const recent = await bot.exec('audit kumo --since 1h', /send kumo: “P-LONG.*\n/);
    const rows = recent.split('\n').filter((l) => l.includes(' · console:terminal · '));
    expect(rows.length).toBeGreaterThan(8);
    for (const r of rows) expect(r).toMatch(/kumo/);
    expect(rows.some((r) => r.includes('fresh'))).toBe(false);
    expect(rows.some((r) => /send kumo: “P-MENTION <!channel>/.test(r))).toBe(true);
  });

  it('the audit table refuses UPDATE and DELETE, even to someone with the file', () => {
    const db = new Database(join(workdir, 'data', 'switchboard.db'));
    try {
      const count = () => (db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
      const before = count();
      expect(before).toBeGreaterThan(40);
      expect(() => db.prepare("UPDATE audit SET outcome = 'ok' WHERE outcome != 'ok'").run()).toThrow(/append-only/);
      expect(() => db.prepare("UPDATE audit SET actor = 'console:nobody'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
      expect(() => db.exec('DELETE FROM audit WHERE id = 1')).toThrow(/append-only/);
      expect(count()).toBe(before);
    } finally {
      db.close();
    }
  });

  it('is still the same process, answering', async () => {
    expect(await bot.exec('help', /Type `help <command>`/)).toMatch(/^ {2}audit /m);
  });
});
