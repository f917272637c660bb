import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmStart, npmStartDir } from '../helpers/npm-start.js';
import { startSlackTwin, type SlackTwin } from '../twins/slack/index.js';
import { ALICE, APP_TOKEN, BOT_TOKEN, SECRET, WORK, asSlackSends } from './harness.js';

/**
 * The bot as `npm start` runs it: with SLACK_BOT_TOKEN and SLACK_APP_TOKEN in the environment, main.ts loads
 * the Slack adapter from `platformAdapters`, connects in Socket Mode, answers, and shuts down on SIGTERM.
 */
let slack: SlackTwin;
let dir: ReturnType<typeof npmStartDir>;

beforeAll(async () => {
  slack = await startSlackTwin({ signingSecret: SECRET, botToken: BOT_TOKEN, appToken: APP_TOKEN, users: [{ id: ALICE, name: 'alice' }] });
  dir = npmStartDir('sb-slack-main-');
});

afterAll(async () => {
  await slack?.close();
  dir?.remove();
});

/** Socket Mode against the twin, one allowed user in one channel. */
const slackSettings = () => ({
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_APP_TOKEN: APP_TOKEN,
  SLACK_API_URL: slack.apiUrl,
  SLACK_ALLOWED_USERS: ALICE,
  SLACK_ALLOWED_CHANNELS: WORK,
});

describe('npm start with Slack settings', () => {
  it('starts the Slack adapter, answers /sb, and stops cleanly on SIGTERM', async () => {
    const bot = npmStart(dir.dir, slackSettings());
    await slack.waitForSocketConnection({ timeoutMs: 30_000 });
    await slack.user(ALICE).command('/sb', asSlackSends('help status'), { channel: WORK });
    const answer = await slack.waitForMessage({ channel: WORK, text: /usage: status/, timeoutMs: 30_000 });
    expect(answer.visibleText).toContain(`requested by <@${ALICE}>`);

    // The console's input ends, but Slack keeps the process up until SIGTERM.
    expect(await bot.stopWithSigterm()).toBe(0);
    await slack.waitUntil(() => slack.socketConnections === 0 || undefined, { description: 'the socket to close' });
    expect(bot.stderr()).not.toContain(BOT_TOKEN);
  });

  it('started in a storm of 429s, waits them out as Slack asks, then starts (it used to exit with status 2)', async () => {
    const before = slack.apiCalls({ method: 'auth.test' }).length;
    slack.failNext('auth.test', { status: 429, retryAfterSec: 1, count: 2 });
    const bot = npmStart(dir.dir, slackSettings());
    await bot.printed(/Switchboard ready/);
    // Two refused, then the one that let it start.
    expect(slack.apiCalls({ method: 'auth.test' }).slice(before, before + 3).map((c) => c.outcome)).toEqual(['rate_limited', 'rate_limited', 'ok']);
    expect(bot.stderr()).toContain('slack: rate limited while starting; waiting as asked');
    await slack.waitForSocketConnection({ timeoutMs: 30_000 });
    await slack.user(ALICE).command('/sb', asSlackSends('help sessions'), { channel: WORK });
    expect((await slack.waitForMessage({ channel: WORK, text: /usage: sessions/, timeoutMs: 30_000 })).visibleText).toContain('usage: sessions');
    expect(await bot.stopWithSigterm()).toBe(0);
  });
});

