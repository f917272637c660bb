import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackAdapter, type SlackAdapter } from '../../adapters/slack/index.js';
import { slackSettingsFromEnv } from '../../adapters/slack/settings.js';
import { allMigrations, createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import type { Origin } from '../../src/core/origin.js';
import { reply } from '../../src/core/reply.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { startSlackTwin, type SlackTwin } from '../twins/slack/index.js';
import { recordingLogger } from './harness.js';

/**
 * Live run cards through the real Bolt WebClient against the Slack twin, from the app's CardSink to the channel.
 * Time is scaled down on both sides: the twin allows 10 chat.update calls per second (Slack: about 50 a minute)
 * and the adapter's card budget is 5 per second (production: 40 a minute; the wider margin covers the request
 * latency of a loaded test machine, which the scaling magnifies), so 50 cards finish in seconds under the same rules.
 */
const SECRET = 'cards-signing-secret';
const TOKEN = 'xoxb-cards';
const WORK = 'CCARDS';
const ADMIN = 'UADMIN';
const origin: Origin = { adapter: 'slack', channel: WORK };

let dir: string;
let slack: SlackTwin;
let bot: { db: Db; app: App; adapter: SlackAdapter };
const logger = recordingLogger();

async function boot(): Promise<typeof bot> {
  const env = { SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: slack.apiUrl, SLACK_SIGNING_SECRET: SECRET, SLACK_PORT: '0', SLACK_HOST: '127.0.0.1' };
  const config = loadConfig(dir, env);
  const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
  const app = createApp({ config, env, db, clock: systemClock, logger, cards: { minEditIntervalMs: 300, pollMs: 50 } });
  const adapter = createSlackAdapter(app.switchboard, {
    settings: slackSettingsFromEnv(env),
    logger,
    editBudget: { edits: 5, perMs: 1_000, scope: 'adapter' },
    minIntervalMs: 20,
  });
  app.switchboard.register(adapter);
  await adapter.start();
  app.cards.start();
  return { db, app, adapter };
}

async function shutdown(): Promise<void> {
  await Promise.race([bot.app.switchboard.idle('slack'), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  await bot.adapter.stop();
  await bot.app.stop();
  bot.db.close();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-slack-cards-'));
  writeFileSync(join(dir, 'switchboard.yaml'), ['access:', `  admins: [slack:${ADMIN}]`, 'limits:', '  commandsPerMinute: 1000'].join('\n'));
  slack = await startSlackTwin({ signingSecret: SECRET, botToken: TOKEN, appToken: 'xapp-cards', defaultTimeoutMs: 30_000, channels: [{ id: WORK, name: 'cards' }] });
  slack.setUpdateLimit(10, 1_000);
  bot = await boot();
});

afterAll(async () => {
  await shutdown();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

const cardsOf = (prefix: string) => slack.messages({ channel: WORK, user: 'bot', includeDeleted: true }).filter((m) => m.visibleText.includes(prefix));
const showing = (prefix: string, text: string) => slack.messages({ channel: WORK, user: 'bot' }).find((m) => m.visibleText.includes(prefix) && m.visibleText.includes(text));
/** Whether every card shows `text`, from one look at the channel (the check runs on every change the twin sees). */
const allShowing = (keys: string[], text: string) => {
  const shown = slack.messages({ channel: WORK, user: 'bot' }).filter((m) => m.visibleText.includes(text)).map((m) => m.visibleText);
  return keys.every((key) => shown.some((t) => t.includes(key + ' ')));
};
const update = (key: string, text: string, final = false) => bot.app.cards.update({ key, origin, threadKey: key.split('#')[0]!, reply: reply(text), ...(final ? { final } : {}) });

describe('Slack: one message per run', () => {
  it('posts a card once and edits it in place with chat.update until it shows the newest state', async () => {
    update('solo#1', '⚙️ solo · working · step 0');
    await slack.waitUntil(() => showing('solo', 'step 0'), { description: 'the card' });
    for (let i = 1; i <= 4; i++) {
      update('solo#1', `⚙️ solo · working · step ${i}`);
      await slack.waitUntil(() => showing('solo', `step ${i}`), { description: `step ${i}` });
    }
    update('solo#1', '✅ solo · finished · step 5', true);
    await slack.waitUntil(() => showing('solo', 'finished'), { description: 'the final state' });
    const [card, ...others] = cardsOf('solo');
    expect(others).toHaveLength(0);
    expect(card!.edits.length).toBe(5);
    expect(card!.visibleText).toContain('✅ solo · finished · step 5');
  });

  it('50 live cards in one channel: no 429, every final state written, and an ordinary reply does not wait behind the edits', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `fleet${i}#1`);
    for (const key of keys) update(key, `⚙️ ${key} · working · tick 0`);
    await slack.waitUntil(() => allShowing(keys, 'tick 0'), { description: '50 cards posted' });
    for (let tick = 1; tick <= 3; tick++) {
      for (const key of keys) update(key, `⚙️ ${key} · working · tick ${tick}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const key of keys) update(key, `✅ ${key} · finished`, true);
    // An ordinary reply queued behind 50 pending final states goes first.
    const posted = () => slack.apiCalls({}).filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.postEphemeral').length;
    const before = posted();
    await bot.app.switchboard.execute({ text: 'help', actor: { id: `slack:${ADMIN}` }, origin });
    await slack.waitUntil(() => posted() > before, { description: 'the help reply' });
    const finalsWhenHelpArrived = keys.filter((key) => showing(key + ' ', 'finished')).length;
    expect(finalsWhenHelpArrived).toBeLessThan(50);

    await slack.waitUntil(() => allShowing(keys, 'finished'), { description: 'every final state', timeoutMs: 60_000 });
    for (const key of keys) expect(cardsOf(key + ' ')).toHaveLength(1);
    const updates = slack.apiCalls({ method: 'chat.update' });
    expect(updates.filter((c) => c.status === 429)).toHaveLength(0);
    // Coalesced: far fewer edits than the 200 states handed to the sink.
    expect(updates.length).toBeLessThan(200);
    expect(updates.length).toBeGreaterThanOrEqual(50);
  });

  it('after a restart mid-run the bot keeps editing the same message', async () => {
    update('phoenix#1', '⚙️ phoenix · working · before the restart');
    await slack.waitUntil(() => showing('phoenix', 'before the restart'), { description: 'the card' });
    await shutdown();
    bot = await boot();
    update('phoenix#1', '✅ phoenix · finished · after the restart', true);
    await slack.waitUntil(() => showing('phoenix', 'after the restart'), { description: 'the edit after the restart' });
    expect(cardsOf('phoenix')).toHaveLength(1);
  });

  it('a card deleted in chat is posted again once, and then edited as before', async () => {
    update('lazarus#1', '⚙️ lazarus · working · one');
    const first = await slack.waitUntil(() => showing('lazarus', 'one'), { description: 'the card' });
    slack.deleteMessage(WORK, first.ts);
    update('lazarus#1', '⚙️ lazarus · working · two');
    const second = await slack.waitUntil(() => showing('lazarus', 'two'), { description: 'the fresh card' });
    expect(second.ts).not.toBe(first.ts);
    update('lazarus#1', '✅ lazarus · finished · three', true);
    await slack.waitUntil(() => showing('lazarus', 'three'), { description: 'the final state on the fresh card' });
    const all = cardsOf('lazarus');
    expect(all.map((m) => [m.ts, m.deleted])).toEqual([
      [first.ts, true],
      [second.ts, false],
    ]);
    expect(bot.app.cards.stats().replaced).toBe(1);
  });
});
