import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { closedPortUrl, startHtmlServer, startSilentServer, type OddServer } from '../helpers/odd-servers.js';
import { startOpencodeServer, removeServerRoot, type OpencodeServer } from '../helpers/opencode-server.js';

/**
 * The walking skeleton, end to end: the real bot process driven through its stdin/stdout, against the real
 * `opencode` binary (one open server, one with OPENCODE_SERVER_PASSWORD) and a scripted fake LLM.
 */
const PASSWORD = 'pa:ss-w0rd-for-lab-9f3c';

let llm: FakeLlm;
let open: OpencodeServer;
let secured: OpencodeServer;
let html: OddServer;
let silent: OddServer;
let workdir: string;
let bot: ConsoleBot;

function escape(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Re-asks `status` until the reply satisfies `done` (the server's own pace decides; no fixed sleeps). */
async function statusUntil(name: string, done: (reply: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A loaded server may time out now and then: that answer is an error line, and the loop asks again.
    const reply = await bot.exec(`status ${name}`, /^(\*\*\w+\*\* · OpenCode.*|❌ .*)$/m);
    const rest = await bot.exec('help status', /usage: status/);
    const full = reply + rest;
    if (done(full)) return full;
    if (Date.now() > deadline) throw new Error(`status ${name} never satisfied the condition; last:\n${full}`);
  }
}

beforeAll(async () => {
  llm = await startFakeLlm();
  [open, secured, html, silent] = await Promise.all([
    startOpencodeServer({ llmBaseUrl: llm.baseUrl }),
    startOpencodeServer({ llmBaseUrl: llm.baseUrl, password: PASSWORD }),
    startHtmlServer(),
    startSilentServer(),
  ]);
  workdir = mkdtempSync(join(tmpdir(), 'sb-console-'));
  writeFileSync(
    join(workdir, 'switchboard.yaml'),
    [
      'servers:',
      `  - name: lab`,
      `    url: ${secured.url}`,
      `    passwordEnv: LAB_PASSWORD`,
      `  - name: badpass`,
      `    url: ${secured.url}/`,
      `    passwordEnv: WRONG_PASSWORD`,
    ].join('\n'),
  );
  bot = await startConsoleBot({
    cwd: workdir,
    env: { LAB_PASSWORD: PASSWORD, WRONG_PASSWORD: 'not-the-password', SWITCHBOARD_HTTP_TIMEOUT: '5' },
  });
});

afterAll(async () => {
  await bot?.end().catch(() => undefined);
  await Promise.all([open?.stop(), secured?.stop(), html?.close(), silent?.close()]);
  await llm?.close();
  if (open) removeServerRoot(open);
  if (secured) removeServerRoot(secured);
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

describe('console adapter against real OpenCode servers', () => {
  it('lists the commands and explains one', async () => {
    const list = await bot.exec('help', /Type `help <command>`/);
    for (const verb of ['sessions', 'new', 'attach', 'send', 'status', 'todo', 'last', 'abort', 'agents', 'forget']) {
      expect(list).toMatch(new RegExp(`^  ${verb} `, 'm'));
    }
    const one = await bot.exec('help new', /examples:[\s\S]*new kumo lab --agent build/);
    expect(one).toContain('usage: new [name] <server> [--agent A] [--model provider/model] [--dir PATH] [--title T]');
    expect(await bot.exec('help sned', /^❌.*\n.*/m)).toContain('did you mean `send`?');
  });

  it('creates a named session with an agent and shows the OpenCode session id', async () => {
    const reply = await bot.exec(`new kumo ${open.url} --agent build`, /Send it work/);
    expect(reply).toMatch(/🆕 \*\*kumo\*\* → OpenCode session `ses_\w+` on http:\/\/127\.0\.0\.1:\d+/);
    expect(reply).toContain(`dir ${open.directory}`);
  });

  it('offers the primary agents when --agent is missing, and takes the pick by number', async () => {
    const offer = await bot.exec(`new ${open.url}`, /Pick one by number or name/);
    expect(offer).toMatch(/1\) build/);
    expect(offer).toMatch(/2\) plan/);
    expect(offer).not.toMatch(/explore|general|compaction|summary|title\b/);
    const picked = /Which agent should \*\*([a-z]{4})\*\*/.exec(offer)?.[1];
    expect(picked).toMatch(/^[bcdfghjklmnprstvz][aeiou][bcdfghjklmnprstvz][aeiou]$/);
    const created = await bot.exec('2', /Send it work/);
    expect(created).toContain(`🆕 **${picked}**`);
    expect(created).toContain('agent plan');

    // The same choice answered by name.
    const again = await bot.exec(`new ${open.url}`, /Pick one by number or name/);
    const another = /Which agent should \*\*([a-z]{4})\*\*/.exec(again)?.[1];
    const named = await bot.exec('build', /Send it work/);
    expect(named).toContain(`🆕 **${another}**`);
    expect(named).toContain('agent build');
  });

  it('relays a prompt, echoes it verbatim, and reads todo, status and last', async () => {
    const prompt = 'TODO Fix `parse()` and run the tests — <@U123> &amp; "quotes" $(id)';
    const echo = await bot.exec(`send kumo ${prompt}`, new RegExp(`^${escape(prompt)}$`, 'm'));
    expect(echo).toMatch(/📨 \*\*kumo\*\* ← tester \(agent build\)\n/);
    expect(echo.split('\n')).toContain(prompt);
    const request = await llm.waitForRequest('TODO Fix `parse()`');
    expect(request.lastUserText).toBe(prompt);

    const status = await statusUntil('kumo', (s) => /idle/.test(s) && /todo 2\/4/.test(s) && /latest: Done:/.test(s));
    expect(status).toContain('todo 2/4 · 🔄 Fix parse() and run the tests');
    expect(status).toContain('task: TODO Fix `parse()` and run the tests');

    const todo = await bot.exec('todo kumo', /🔲 Update the changelog/);
    expect(todo).toContain('**kumo** todo 2/4');
    expect(todo).toContain('✅ Read the failing test\n✅ Find the bug in parse()\n🔄 Fix parse() and run the tests\n🔲 Update the changelog');

    const last = await bot.exec('last kumo', /^Done: .*$/m);
    expect(last).toContain(`Done: ${prompt}`);

    // Names are listed in order, and the name picked earlier is random: kumo's line may be the last one.
    const sessions = await bot.exec('sessions', /^💤 kumo · .* · idle\b.*$/m);
    expect(sessions).toMatch(/💤 kumo .*opencode on http:\/\/127\.0\.0\.1:\d+ · idle · “TODO Fix `parse\(\)` and run the tests/);
  });

  it('uses a password-protected configured server by name, and never shows the password', async () => {
    const agents = await bot.exec('agents lab', /• \*\*plan\*\*/);
    expect(agents).toContain('Agents on lab:');
    const created = await bot.exec('new secure lab --agent plan --title "Secured run"', /Send it work/);
    expect(created).toContain('on lab');
    await bot.exec('send secure hello from the secured side', /^hello from the secured side$/m);
    await statusUntil('secure', (s) => /latest: Done: hello from the secured side/.test(s));
    const denied = await bot.exec('agents badpass', /^❌.*/m);
    expect(denied).toContain('authentication failed for server badpass');
  });

  it('attaches an existing session, aborts busy work and forgets a name without touching the server', async () => {
    const listed = (await (await fetch(`${open.url}/session`)).json()) as Array<{ id: string }>;
    const existing = listed[0]!.id;
    const attached = await bot.exec(`attach adopted ${open.url} ${existing}`, /🔗.*\n.*/);
    expect(attached).toContain(`🔗 **adopted** → OpenCode session \`${existing}\``);

    await bot.exec('send adopted HOLD:abort-me wait here', /^HOLD:abort-me wait here$/m);
    await llm.waitForRequest('HOLD:abort-me');
    await statusUntil('adopted', (s) => /busy/.test(s));
    expect(await bot.exec('abort adopted', /⏹.*/)).toContain('⏹ abort sent to **adopted**');
    // The monitor reports the aborted prompt by itself; let it say so before the name goes.
    await bot.waitFor(/📋 \*\*adopted\*\* failed.*\n[\s\S]*?❌ aborted/, 60_000);
    await statusUntil('adopted', (s) => /idle/.test(s));
    llm.release('abort-me');

    const forgotten = await bot.exec('forget adopted', /🗑.*/);
    expect(forgotten).toContain(`its OpenCode session ${existing} on ${open.url} was left untouched`);
    const still = await fetch(`${open.url}/session/${existing}`);
    expect(still.status).toBe(200);
    expect(await bot.exec('status adopted', /^❌ no name.*/m)).toContain('no name `adopted`');
  });

  it('answers every kind of bad input with a specific message and changes nothing', async () => {
    const before = await bot.exec('sessions', /secure.*\n/);
    const cases: Array<[string, RegExp]> = [
      ['frobnicate kumo', /unknown command `frobnicate`/],
      ['sned kumo hi', /unknown command `sned` \(did you mean `send`\?\)/],
      ['status kumu', /no name `kumu` \(did you mean `kumo`\?\)/],
      ['new ../x ' + open.url + ' --agent build', /invalid name "\.\.\/x"/],
      ['new "$(id)" ' + open.url + ' --agent build', /invalid name "\$\(id\)"/],
      ['new kumo ' + open.url + ' --agent build', /the name `kumo` is already taken/],
      ['new fresh htp:/nope --agent build', /is neither a configured server nor a URL|not a valid URL|only http/],
      ['new fresh http://exa mple.com --agent build', /not a valid URL|too many arguments/],
      ['new fresh http://user:pw@127.0.0.1:1 --agent build', /must not carry credentials/],
      ['new fresh ' + html.url + ' --agent build', /answers, but not as an OpenCode server/],
      ['new fresh ' + silent.url + ' --agent build', /did not answer within 5 s/],
      ['new fresh ' + open.url + ' --agent wizard', /has no agent `wizard`[\s\S]*agents there: build, plan/],
      ['new fresh ' + open.url + ' --agent build --model fake/nope', /has no model `fake\/nope`/],
      ['new fresh ' + open.url + ' --agent build --dir relative/path', /--dir must be an absolute path/],
      ['new fresh ' + open.url + ' --colour red', /unknown option `--colour`/],
      ['attach other ' + open.url + ' ses_doesnotexist123', /has no session ses_doesnotexist123/],
      ['attach other ' + open.url + ' not-a-session', /is not an OpenCode session id/],
      ['send kumo', /the prompt is empty|needs <prompt…>/],
      ['send kumo     ', /the prompt is empty|needs <prompt…>/],
      ['send', /`send` needs <name>/],
      ['todo', /`todo` needs <name>/],
      ['new', /`new` needs <server>/],
    ];
    for (const [line, expected] of cases) {
      const answer = await bot.exec(line, /^❌.*\n.*\n?/m);
      expect(answer, line).toMatch(expected);
    }
    const refused = await closedPortUrl();
    expect(await bot.exec(`agents ${refused}`, /^❌.*/m)).toMatch(/refused the connection/);

    const long = 'x'.repeat(100_001);
    expect(await bot.exec(`send kumo ${long}`, /^❌.*\n.*\n/m)).toContain('the prompt is 100,001 characters; the limit is 100,000');

    const after = await bot.exec('sessions', /secure.*\n/);
    // Names only (not `**name**`): a run card's line, printed whenever its state changes, starts alike.
    const sessionLines = (text: string) => text.split('\n').filter((line) => /^(💤|⚙️|⚠️) [a-z0-9-]+ +· /u.test(line));
    expect(sessionLines(after)).toEqual(sessionLines(before));
    expect(llm.requests.some((r) => r.lastUserText.startsWith('xxxxxxxx'))).toBe(false);
  });

  it('reports a session deleted on the server and offers forget', async () => {
    await bot.exec(`new doomed ${open.url} --agent build`, /Send it work/);
    const row = /doomed.*OpenCode session `(ses_\w+)`/.exec(bot.stdout())![1]!;
    const deleted = await fetch(`${open.url}/session/${row}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    const reply = await bot.exec('status doomed', /^❌.*\n.*/m);
    expect(reply).toContain(`the OpenCode session ${row} of doomed no longer exists on ${open.url}`);
    expect(reply).toContain('`forget doomed` drops the name');
    expect(await bot.exec('send doomed hello?', /^❌.*\n.*/m)).toContain('no longer exists');
  });

  it('keeps the registry across a restart, and never stores or prints the password', async () => {
    expect(await bot.end()).toBe(0);
    bot = await startConsoleBot({ cwd: workdir, env: { LAB_PASSWORD: PASSWORD, WRONG_PASSWORD: 'nope-nope', SWITCHBOARD_HTTP_TIMEOUT: '5' } });
    const sessions = await bot.exec('sessions', /secure.*\n/);
    for (const name of ['kumo', 'secure', 'doomed']) expect(sessions).toContain(name);
    await bot.exec('last secure', /Done: hello from the secured side/);

    const everything = bot.stdout() + bot.stderr();
    expect(everything).not.toContain(PASSWORD);
    const dataDir = join(workdir, 'data');
    for (const file of readdirSync(dataDir)) {
      expect(readFileSync(join(dataDir, file)).includes(Buffer.from(PASSWORD)), file).toBe(false);
    }
  });
});
