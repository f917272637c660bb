import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmStart, npmStartDir } from '../helpers/npm-start.js';
import { startDiscordTwin, type DiscordTwin } from '../twins/discord/index.js';
import { ALICE, GUILD, WORK } from './harness.js';

/**
 * The bot as `npm start` runs it: with DISCORD_TOKEN and DISCORD_APPLICATION_ID in the environment, main.ts loads
 * the Discord adapter from `platformAdapters`, logs in to the gateway, registers `/sb`, answers, and shuts down on
 * SIGTERM (the gateway connection closed, the process's exit status 0).
 */
let discord: DiscordTwin;
let dir: ReturnType<typeof npmStartDir>;

beforeAll(async () => {
  discord = await startDiscordTwin({
    defaultTimeoutMs: 30_000,
    guilds: [{ id: GUILD, name: 'lab', channels: [{ id: WORK, name: 'work' }], members: [{ id: ALICE, username: 'alice' }] }],
  });
  dir = npmStartDir('sb-discord-main-');
});

afterAll(async () => {
  await discord?.close();
  dir?.remove();
});

describe('npm start with Discord settings', () => {
  it('starts the Discord adapter, answers `!sb` and `/sb`, and stops cleanly on SIGTERM', async () => {
    const bot = npmStart(dir.dir, {
      DISCORD_TOKEN: discord.botToken,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_GUILD_ID: GUILD,
      DISCORD_API_URL: discord.restApi,
      DISCORD_ALLOWED_USERS: ALICE,
      DISCORD_ALLOWED_CHANNELS: WORK,
    });
    // The console's banner says ready only once every door is open: the gateway is connected by then.
    await bot.printed(/Switchboard ready/);
    expect(discord.connectionCount()).toBe(1);
    // Logged in (IDENTIFY on the gateway) and `/sb` registered in the guild: the bot is up.
    await discord.waitForIdentify();
    await discord.waitForCommands({ guildId: GUILD, names: ['sb'] });
    expect(discord.connectionCount()).toBe(1);

    const typed = await discord.channel(WORK).user(ALICE).sendMessage('!sb help status');
    const answer = await typed.waitForBotReply({ text: /usage: status/ });
    // (A typed command is answered as a reply to the message that typed it.)
    expect(answer.replyTo?.messageId).toBe(typed.id);
    const slash = await discord.channel(WORK).user(ALICE).slash('sb', { subcommand: 'help', options: { command: 'sessions' } });
    expect((await slash.waitForReply()).content).toMatch(/usage: sessions/);

    // The console's input ends, but Discord keeps the process up until SIGTERM.
    expect(await bot.stopWithSigterm()).toBe(0);
    await discord.waitFor(() => discord.connectionCount() === 0 || undefined, { description: 'the gateway connection to close' });
    expect(bot.stderr()).not.toContain(discord.botToken);
  });
});
