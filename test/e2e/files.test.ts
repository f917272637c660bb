import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import type { ChatRequest } from '../fakes/llm/fake-llm.js';
import { localClaudeExecutorYaml } from '../helpers/claude-env.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { killTmuxServer } from '../helpers/tmux.js';
import * as slackHarness from '../slack/harness.js';
import * as discordHarness from '../discord/harness.js';

/**
 * Files attached in Slack (on an @-mention) and in Discord (on a `!sb` message, and the `/sb send` file option)
 * reach the agent: the real opencode server hands them to the scripted model as an image and as text, and a
 * real Claude task finds them in its task directory (0600), named in its prompt. Over a limit or of a type not
 * allowed, they are refused with the reason and nothing is sent. One opencode server, one bot per platform.
 */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const PNG_URL = `data:image/png;base64,${PNG.toString('base64')}`;
const LOG = 'line 1: ok\nline 2: TypeError: x is undefined\n';
const LIMITS = ['files:', '  maxBytes: 64KB', '  maxFiles: 3', '  types: [image/*, text/*, application/json]'];

let api: FakeAnthropic;
let root: string;
let slack: slackHarness.Harness;
let discord: discordHarness.Harness;
const sockets = [`sb-files-s-${process.pid}`, `sb-files-d-${process.pid}`];

const world = useOpencodeWorld(
  async ({ server }, keep) => {
    api = await startFakeAnthropic();
    keep({ stop: () => api.close() });
    root = mkdtempSync(join(tmpdir(), 'sb-files-'));
    keep({
      stop: async () => {
        for (const socket of sockets) killTmuxServer(socket);
        rmSync(root, { recursive: true, force: true });
      },
    });
    mkdirSync(join(root, 'work'));
    const executor = (socket: string, dir: string) => localClaudeExecutorYaml({ baseUrl: api.baseUrl, root: join(root, dir), socket });
    [slack, discord] = await Promise.all([
      slackHarness.startHarness({ mode: 'http', servers: { lab: server.url }, env: { HOME: root }, yaml: [...LIMITS, ...executor(sockets[0]!, 's')].join('\n') }),
      discordHarness.startHarness({ servers: { lab: server.url }, env: { HOME: root }, yaml: [...LIMITS, ...executor(sockets[1]!, 'd')] }),
    ]);
    keep(slack);
    keep(discord);
  },
  { hookTimeoutMs: 120_000, imageInput: true },
);

/** The parts of the model's latest user message: the prompt's text, a text file's text, an image's data URL. */
function seen(request: ChatRequest) {
  return {
    texts: request.lastUserParts.flatMap((p) => (p.type === 'text' ? [p.text] : [])),
    images: request.lastUserParts.flatMap((p) => (p.type === 'image' ? [p.url] : [])),
  };
}

const mention = (text: string) => `<@${slack.slack.bot.userId}> ${text}`;
const shown = (text: string) => decodeEntities(text);

// The three stories are independent (their own bot, names and markers), so they run side by side.
describe.concurrent('files into a prompt', { timeout: 90_000 }, () => {
  it('Slack: an image and a text file on an @-mention reach the OpenCode session as an image and as text, the echo lists them; too big, a disallowed type or past its size: refused, nothing sent', async () => {
    let at = slack.mark();
    await slack.sb(slackHarness.ALICE, 'new kumo lab --agent build');
    await slack.botMessage(at, { text: '🆕 *kumo*' });
    at = slack.mark();
    await slack.slack.user(slackHarness.ALICE).say(mention('send kumo see the screenshot SLACKFILES'), {
      channel: slackHarness.WORK,
      files: [
        { name: 'screen.png', mimetype: 'image/png', content: PNG },
        { name: 'app.log', mimetype: 'text/plain', content: LOG },
      ],
    });
    const echo = await slack.botMessage(at, { text: /📨 \*kumo\*/ });
    expect(shown(echo.visibleText)).toContain('see the screenshot SLACKFILES');
    expect(shown(echo.visibleText)).toMatch(/📎 2 files: `screen\.png` \(\d+ B, image\/png\) · `app\.log` \(\d+ B, text\/plain\)/);
    const request = await world.llm.waitForRequest('SLACKFILES', 30_000);
    const { texts, images } = seen(request);
    expect(images).toEqual([PNG_URL]);
    // OpenCode gives the model a text file as a Read of it: the call, then the file's exact text.
    expect(texts).toEqual(['see the screenshot SLACKFILES', 'Called the Read tool with the following input: {"filePath":"app.log"}', LOG]);
    // Fetched from url_private_download with the bot token, as Slack requires.
    const fetched = slack.slack.sharedFiles.downloads.filter((d) => d.name === 'screen.png' || d.name === 'app.log');
    expect(fetched.map((d) => [d.name, d.status, d.authorization])).toEqual(
      expect.arrayContaining([
        ['screen.png', 200, `Bearer ${slackHarness.BOT_TOKEN}`],
        ['app.log', 200, `Bearer ${slackHarness.BOT_TOKEN}`],
      ]),
    );
    await slack.botMessage(at, { text: /Done: see the screenshot SLACKFILES/, timeoutMs: 30_000 });

    // Refused: an oversized file, a disallowed type, a download that runs past its declared size; nothing is sent.
    const before = world.llm.requests.length;
    const alice = slack.slack.user(slackHarness.ALICE);
    at = slack.mark();
    await alice.say(mention('send kumo TOOBIG'), { channel: slackHarness.WORK, files: [{ name: 'huge.log', mimetype: 'text/plain', content: 'x'.repeat(70 * 1024) }] });
    let refusal = await slack.ephemeral(at, { user: slackHarness.ALICE, text: /huge\.log/ });
    expect(shown(refusal.text)).toContain('"huge.log" is 70 KB; the limit is 64 KB a file. Nothing was sent');
    at = slack.mark();
    await alice.say(mention('send kumo ZIPPED'), { channel: slackHarness.WORK, files: [{ name: 'src.zip', mimetype: 'application/zip', content: 'PK' }] });
    refusal = await slack.ephemeral(at, { user: slackHarness.ALICE, text: /src\.zip/ });
    expect(shown(refusal.text)).toContain('"src.zip" is application/zip, which may not be attached. Nothing was sent');
    // Neither was fetched: declared size and type are checked first.
    expect(slack.slack.sharedFiles.downloads.filter((d) => d.name === 'huge.log' || d.name === 'src.zip')).toEqual([]);
    at = slack.mark();
    await alice.say(mention('send kumo LIAR'), { channel: slackHarness.WORK, files: [{ name: 'small.txt', mimetype: 'text/plain', size: 10, content: 'y'.repeat(200 * 1024) }] });
    refusal = await slack.ephemeral(at, { user: slackHarness.ALICE, text: /small\.txt/ });
    expect(shown(refusal.text)).toContain('"small.txt" is larger than the limit of 64 KB a file. Nothing was sent');
    expect(world.llm.requests.slice(before).filter((r) => /TOOBIG|ZIPPED|LIAR/.test(r.lastUserText))).toEqual([]);
    expect(slack.slack.messages({ channel: slackHarness.WORK, text: /TOOBIG|ZIPPED|LIAR/, user: 'bot' })).toEqual([]);
  });

  it('Slack: a Claude task started with a file finds it in its task directory (0600), named after the prompt', async () => {
    const at = slack.mark();
    await slack.slack.user(slackHarness.ALICE).say(mention(`start local --name bake --workspace ${join(root, 'work')} read the log CLAUDEFILES`), {
      channel: slackHarness.WORK,
      files: [{ name: '../../etc/app.log', mimetype: 'text/plain', content: LOG }],
    });
    const echo = await slack.botMessage(at, { text: /task \*bake\* started/ });
    expect(shown(echo.visibleText)).toMatch(/📎 1 file: `app\.log` \(\d+ B, text\/plain\)/);
    const tasks = join(root, 's', 'tasks');
    const dir = readdirSync(tasks).map((d) => join(tasks, d)).find((d) => readFileSync(join(d, 'task.json'), 'utf8').includes('"bake"'))!;
    const file = join(dir, 'files', 'app.log');
    expect(readFileSync(file, 'utf8')).toBe(LOG);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const request = await api.waitForRequest('CLAUDEFILES', 30_000);
    expect(request.lastUserText).toBe(`read the log CLAUDEFILES\n\nAttached files (in ${dir}/files): app.log (${LOG.length} B, text/plain)`);
    await slack.botMessage(at, { text: /📋 \*bake\* finished · ✅/, timeoutMs: 60_000 });

    // A follow-up to the finished task with a file: the same directory, the next run's prompt names it.
    const next = slack.mark();
    await slack.slack.user(slackHarness.ALICE).say(mention('send bake and this trace FOLLOWFILE'), {
      channel: slackHarness.WORK,
      files: [{ name: 'trace.json', mimetype: 'application/json', content: '{"ok":false}' }],
    });
    const resumed = await slack.botMessage(next, { text: /📨 \*bake\*.*resuming the conversation/ });
    expect(shown(resumed.visibleText)).toMatch(/📎 1 file: `trace\.json` \(12 B, application\/json\)/);
    expect(readFileSync(join(dir, 'files', 'trace.json'), 'utf8')).toBe('{"ok":false}');
    expect(statSync(join(dir, 'files', 'trace.json')).mode & 0o777).toBe(0o600);
    const followUp = await api.waitForRequest('FOLLOWFILE', 30_000);
    expect(followUp.lastUserText).toBe(`and this trace FOLLOWFILE\n\nAttached files (in ${dir}/files): trace.json (12 B, application/json)`);
    await slack.botMessage(next, { text: /📋 \*bake\* finished · ✅/, timeoutMs: 60_000 });
  });

  it('Discord: a Claude task started from a `!sb start` message gets the image and the text file in its directory (0600)', async () => {
    const sent = await discord.discord.channel(discordHarness.WORK).user(discordHarness.ALICE).sendMessage({
      content: `!sb start local --name knead --workspace ${join(root, 'work')} look at both DISCORDCLAUDE`,
      files: [
        { name: 'shot.png', contentType: 'image/png', data: PNG },
        { name: 'trace.txt', contentType: 'text/plain', data: LOG },
      ],
    });
    const echo = await discord.botMessage(sent, { text: /task \*\*knead\*\* started/ });
    expect(echo.content).toMatch(/📎 2 files: `shot\.png` \(\d+ B, image\/png\) · `trace\.txt` \(\d+ B, text\/plain\)/);
    const tasks = join(root, 'd', 'tasks');
    const dir = readdirSync(tasks).map((d) => join(tasks, d)).find((d) => readFileSync(join(d, 'task.json'), 'utf8').includes('"knead"'))!;
    expect(readFileSync(join(dir, 'files', 'shot.png'))).toEqual(PNG);
    expect(readFileSync(join(dir, 'files', 'trace.txt'), 'utf8')).toBe(LOG);
    expect([statSync(join(dir, 'files', 'shot.png')).mode & 0o777, statSync(join(dir, 'files', 'trace.txt')).mode & 0o777]).toEqual([0o600, 0o600]);
    const request = await api.waitForRequest('DISCORDCLAUDE', 30_000);
    expect(request.lastUserText).toBe(`look at both DISCORDCLAUDE\n\nAttached files (in ${dir}/files): shot.png (${PNG.length} B, image/png), trace.txt (${LOG.length} B, text/plain)`);
    await discord.botMessage(sent, { text: /📋 \*\*knead\*\* finished · ✅/, timeoutMs: 60_000 });
  });

  it('Discord: attachments on a `!sb send` message and the `/sb send` file option reach the session; a disallowed one is refused', async () => {
    const user = discord.discord.channel(discordHarness.WORK).user(discordHarness.ALICE);
    const made = await discord.say(discordHarness.ALICE, '!sb new sora lab --agent build');
    await discord.botMessage(made, { text: /🆕 \*\*sora\*\*/ });
    const sent = await user.sendMessage({
      content: '!sb send sora look at these DISCORDFILES',
      files: [
        { name: 'shot.png', contentType: 'image/png', data: PNG },
        { name: 'trace.txt', contentType: 'text/plain', data: LOG },
      ],
    });
    const echo = await discord.botMessage(sent, { text: /📨 \*\*sora\*\*/ });
    expect(echo.content).toMatch(/📎 2 files: `shot\.png` \(\d+ B, image\/png\) · `trace\.txt` \(\d+ B, text\/plain\)/);
    let { texts, images } = seen(await world.llm.waitForRequest('DISCORDFILES', 30_000));
    expect(images).toEqual([PNG_URL]);
    expect(texts).toContain(LOG);
    // Files cannot wait in the queue: the next send with files goes once this run's final output is out.
    await discord.botMessage(echo, { text: /Done: look at these DISCORDFILES/, timeoutMs: 30_000 });

    const interaction = await user.slash('sb', { subcommand: 'send', options: { name: 'sora', prompt: 'and this one SLASHFILE', file: { file: { name: 'more.png', contentType: 'image/png', data: PNG } } } });
    const answer = await discord.answer(interaction, /📨 \*\*sora\*\*/);
    expect(answer.content).toMatch(/📎 1 file: `more\.png`/);
    ({ texts, images } = seen(await world.llm.waitForRequest('SLASHFILE', 30_000)));
    expect(images).toEqual([PNG_URL]);
    expect(texts[0]).toBe('and this one SLASHFILE');
    await discord.botMessage(answer, { text: /Done: and this one SLASHFILE/, timeoutMs: 30_000 });

    const before = world.llm.requests.length;
    const zipped = await user.sendMessage({ content: '!sb send sora DISCORDZIP', files: [{ name: 'a.zip', contentType: 'application/zip', data: 'PK' }] });
    const refusal = await discord.botMessage(zipped, { text: /a\.zip/ });
    expect(refusal.content).toContain('"a.zip" is application/zip, which may not be attached. Nothing was sent');
    expect(world.llm.requests.slice(before).filter((r) => r.lastUserText.includes('DISCORDZIP'))).toEqual([]);
  });
});
