import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordAdapter } from '../../adapters/discord/index.js';
import { discordSettingsFromEnv } from '../../adapters/discord/settings.js';
import { allMigrations, createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { Adapter } from '../../src/core/adapter.js';
import { systemClock } from '../../src/core/clock.js';
import type { Origin } from '../../src/core/origin.js';
import { reply } from '../../src/core/reply.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { startDiscordTwin, testSnowflake, type DiscordTwin, type TwinMessage } from '../twins/discord/index.js';
import { recordingLogger } from './harness.js';

/**
 * Live run cards through the real discord.js client against the Discord twin. The twin enforces Discord's edit
 * limit (five per window per channel) with the window shrunk to 500 ms, and the adapter's card budget (four per
 * window) is shrunk the same way, so 50 cards in one channel finish in seconds under the same rules.
 */
const GUILD = testSnowflake(1);
const WORK = testSnowflake(2);
const ADMIN = testSnowflake(12);
const WINDOW_MS = 500;
const origin: Origin = { adapter: 'discord', channel: WORK };

let dir: string;
let discord: DiscordTwin;
let bot: { db: Db; app: App; adapter: Adapter };
const logger = recordingLogger();

async function boot(): Promise<typeof bot> {
  const env = { DISCORD_TOKEN: discord.botToken, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_GUILD_ID: GUILD, DISCORD_API_URL: discord.restApi };
  const config = loadConfig(dir, env);
  const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
  const app = createApp({ config, env, db, clock: systemClock, logger, cards: { minEditIntervalMs: 300, pollMs: 50 } });
  const adapter = createDiscordAdapter(app.switchboard, {
    settings: discordSettingsFromEnv(env),
    logger,
    editBudget: { edits: 4, perMs: WINDOW_MS, scope: 'channel' },
    minIntervalMs: 20,
  });
  app.switchboard.register(adapter);
  await adapter.start();
  app.cards.start();
  return { db, app, adapter };
}

async function shutdown(): Promise<void> {
  await Promise.race([bot.app.switchboard.idle('discord'), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  await bot.adapter.stop();
  await bot.app.stop();
  bot.db.close();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-discord-cards-'));
  writeFileSync(join(dir, 'switchboard.yaml'), ['access:', `  admins: [discord:${ADMIN}]`, 'limits:', '  commandsPerMinute: 1000'].join('\n'));
  discord = await startDiscordTwin({
    defaultTimeoutMs: 30_000,
    guilds: [{ id: GUILD, name: 'lab', channels: [{ id: WORK, name: 'cards' }], members: [{ id: ADMIN, username: 'admin' }] }],
  });
  discord.editLimit.windowMs = WINDOW_MS;
  bot = await boot();
});

afterAll(async () => {
  await shutdown();
  await discord.close();
  rmSync(dir, { recursive: true, force: true });
});

const cardsOf = (prefix: string) => discord.messages({ channel: WORK, author: 'bot', includeDeleted: true }).filter((m) => m.content.includes(prefix));
const showing = (prefix: string, text: string) => discord.messages({ channel: WORK, author: 'bot' }).find((m) => m.content.includes(prefix) && m.content.includes(text));
/** Whether every card shows `text`, from one look at the channel (the check runs on every change the twin sees). */
const allShowing = (keys: string[], text: string) => {
  const shown = discord.messages({ channel: WORK, author: 'bot' }).filter((m) => m.content.includes(text)).map((m) => m.content);
  return keys.every((key) => shown.some((t) => t.includes(key + ' ')));
};
const update = (key: string, text: string, final = false) => bot.app.cards.update({ key, origin, threadKey: key.split('#')[0]!, reply: reply(text), ...(final ? { final } : {}) });
/** Resolves when `condition` holds, re-checked on every change the twin sees (no polling interval). */
const when = <T>(condition: () => T | undefined, timeoutMs = 30_000): Promise<TwinMessage> =>
  discord.waitForMessage({ predicate: () => Boolean(condition()), includeDeleted: true, timeoutMs });

describe('Discord: one message per run', () => {
  it('posts a card once and edits it in place until it shows the newest state', async () => {
    update('solo#1', '⚙️ solo · working · step 0');
    await when(() => showing('solo', 'step 0'));
    for (let i = 1; i <= 4; i++) {
      update('solo#1', `⚙️ solo · working · step ${i}`);
      await when(() => showing('solo', `step ${i}`));
    }
    update('solo#1', '✅ solo · finished · step 5', true);
    await when(() => showing('solo', 'finished'));
    const [card, ...others] = cardsOf('solo');
    expect(others).toHaveLength(0);
    expect(card!.editCount).toBe(5);
    expect(discord.restCalls({ route: 'PATCH /channels/:id/messages/:id' })).toHaveLength(5);
  });

  it('50 live cards in one channel: no 429, every final state written, far fewer edits than states', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `fleet${i}#1`);
    for (const key of keys) update(key, `⚙️ ${key} · working · tick 0`);
    await when(() => allShowing(keys, 'tick 0'));
    for (let tick = 1; tick <= 3; tick++) {
      for (const key of keys) update(key, `⚙️ ${key} · working · tick ${tick}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const key of keys) update(key, `✅ ${key} · finished`, true);
    await when(() => allShowing(keys, 'finished'), 60_000);
    for (const key of keys) expect(cardsOf(key + ' ')).toHaveLength(1);
    const edits = discord.restCalls({ route: 'PATCH /channels/:id/messages/:id' });
    expect(edits.filter((c) => c.status === 429)).toHaveLength(0);
    expect(edits.length).toBeGreaterThanOrEqual(50);
    expect(edits.length).toBeLessThan(200);
  });

  it('after a restart mid-run the bot keeps editing the same message', async () => {
    update('phoenix#1', '⚙️ phoenix · working · before the restart');
    await when(() => showing('phoenix', 'before the restart'));
    await shutdown();
    bot = await boot();
    update('phoenix#1', '✅ phoenix · finished · after the restart', true);
    await when(() => showing('phoenix', 'after the restart'));
    expect(cardsOf('phoenix')).toHaveLength(1);
  });

  it('a card deleted in chat is posted again once, and then edited as before', async () => {
    update('lazarus#1', '⚙️ lazarus · working · one');
    const first = await when(() => showing('lazarus', 'one')).then(() => showing('lazarus', 'one')!);
    discord.deleteMessage(first.id);
    update('lazarus#1', '⚙️ lazarus · working · two');
    await when(() => showing('lazarus', 'two'));
    const second = showing('lazarus', 'two')!;
    expect(second.id).not.toBe(first.id);
    update('lazarus#1', '✅ lazarus · finished · three', true);
    await when(() => showing('lazarus', 'three'));
    expect(cardsOf('lazarus').map((m) => [m.id, m.deleted])).toEqual([
      [first.id, true],
      [second.id, false],
    ]);
    expect(bot.app.cards.stats().replaced).toBe(1);
  });
});
