import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBot } from '../../src/main.js';
import { startSlackTwin, type SlackTwin } from '../twins/slack/index.js';
import { ALICE, APP_TOKEN, BOT_TOKEN, SECRET, WORK, asSlackSends } from './harness.js';

/**
 * The bot as `npm start` runs it: with SLACK_BOT_TOKEN and SLACK_APP_TOKEN in the environment, main.ts loads
 * the Slack adapter from `platformAdapters`, connects in Socket Mode, answers, and shuts down on SIGTERM.
 */
let slack: SlackTwin;
let dir: string;

beforeAll(async () => {
  slack = await startSlackTwin({ signingSecret: SECRET, botToken: BOT_TOKEN, appToken: APP_TOKEN, users: [{ id: ALICE, name: 'alice' }] });
  dir = mkdtempSync(join(tmpdir(), 'sb-slack-main-'));
});

afterAll(async () => {
  await slack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm start with Slack settings', () => {
  it('starts the Slack adapter, answers /sb, and stops cleanly on SIGTERM', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let stderrText = '';
    stderr.on('data', (chunk: Buffer) => (stderrText += chunk.toString()));
    stdout.resume();
    let terminate: (() => void) | undefined;
    const exit = runBot({
      cwd: dir,
      env: {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: slack.apiUrl,
        SLACK_ALLOWED_USERS: ALICE,
        SLACK_ALLOWED_CHANNELS: WORK,
        SWITCHBOARD_DB: join(dir, 'switchboard.db'),
        LOG_LEVEL: 'warn',
      },
      stdin,
      stdout,
      stderr,
      onSignal: (signal, handler) => {
        if (signal === 'SIGTERM') terminate = handler;
      },
    });
    await slack.waitForSocketConnection({ timeoutMs: 30_000 });
    await slack.user(ALICE).command('/sb', asSlackSends('help status'), { channel: WORK });
    const answer = await slack.waitForMessage({ channel: WORK, text: /usage: status/, timeoutMs: 30_000 });
    expect(answer.visibleText).toContain(`requested by <@${ALICE}>`);

    // The console's input ends, but Slack keeps the process up until SIGTERM.
    stdin.end();
    expect(terminate).toBeDefined();
    terminate!();
    expect(await exit).toBe(0);
    await slack.waitUntil(() => slack.socketConnections === 0 || undefined, { description: 'the socket to close' });
    expect(stderrText).not.toContain(BOT_TOKEN);
  });
});
