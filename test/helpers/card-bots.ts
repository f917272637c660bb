import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDiscordAdapter } from '../../adapters/discord/index.js';
import { discordSettingsFromEnv } from '../../adapters/discord/settings.js';
import { createSlackAdapter } from '../../adapters/slack/index.js';
import { slackSettingsFromEnv } from '../../adapters/slack/settings.js';
import { allMigrations, createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { Adapter, EditBudget } from '../../src/core/adapter.js';
import { systemClock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import type { Origin } from '../../src/core/origin.js';
import { reply } from '../../src/core/reply.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { startDiscordTwin, testSnowflake, type DiscordTwin } from '../twins/discord/index.js';
import { startSlackTwin, type SlackTwin } from '../twins/slack/index.js';

/**
 * The core (createApp on a temp SQLite file) with one real chat adapter against its twin, for live-card tests and
 * the bench: the CardSink is driven directly, and the channel is read back through the twin as people see it.
 * `scale` shrinks time on both sides alike (the twin's edit window and the adapter's card budget), so 50 cards
 * finish in seconds under the same rules; 1 is the platforms' real limits.
 */
export interface CardBotOptions {
  platform: 'slack' | 'discord';
  scale?: number;
  /** Least time between two edits of one card (cards.minEditInterval). */
  minEditIntervalMs?: number;
  /** Spacing of ordinary posts in one channel (default: the adapter's own). */
  minIntervalMs?: number;
  logger: Logger;
}

export interface CardBot {
  readonly app: App;
  readonly origin: Origin;
  readonly slack?: SlackTwin;
  readonly discord?: DiscordTwin;
  update(key: string, text: string, final?: boolean): void;
  /** The bot's messages in the channel, deleted ones too, as text people read. */
  messages(): Array<{ id: string; text: string; deleted: boolean; edits: number }>;
  /** Resolves when `condition` holds, checked on every change the twin sees (no polling interval). */
  when(condition: () => unknown, timeoutMs?: number): Promise<void>;
  /** Messages the bot posted so far, public or private (a reply to a command may be either). */
  posts(): number;
  /** Edit calls the twin answered: accepted and refused with 429. */
  editCalls(): { ok: number; limited: number; firstAt: number; lastAt: number };
  deleteMessage(id: string): void;
  /** Stops the bot and starts it again on the same SQLite file; the twin stays. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const WORK = testSnowflake(2);
const GUILD = testSnowflake(1);
/** An admin of switchboard.yaml on each platform, for commands a test runs beside the cards. */
export const CARD_ADMINS = { slack: 'slack:UADMIN', discord: `discord:${testSnowflake(12)}` } as const;

export async function startCardBot(options: CardBotOptions): Promise<CardBot> {
  const scale = options.scale ?? 1;
  const dir = mkdtempSync(join(tmpdir(), `sb-cards-${options.platform}-`));
  writeFileSync(join(dir, 'switchboard.yaml'), ['access:', `  admins: [${CARD_ADMINS.slack}, ${CARD_ADMINS.discord}]`, 'limits:', '  commandsPerMinute: 1000'].join('\n'));
  let slack: SlackTwin | undefined;
  let discord: DiscordTwin | undefined;
  let env: Record<string, string>;
  if (options.platform === 'slack') {
    slack = await startSlackTwin({ signingSecret: 'cards-secret', botToken: 'xoxb-cards', appToken: 'xapp-cards', defaultTimeoutMs: 60_000, channels: [{ id: WORK, name: 'cards' }] });
    // Slack's chat.update: about 50 a minute per workspace.
    slack.setUpdateLimit(50, 60_000 / scale);
    env = { SLACK_BOT_TOKEN: 'xoxb-cards', SLACK_API_URL: slack.apiUrl, SLACK_SIGNING_SECRET: 'cards-secret', SLACK_PORT: '0', SLACK_HOST: '127.0.0.1' };
  } else {
    discord = await startDiscordTwin({ defaultTimeoutMs: 60_000, guilds: [{ id: GUILD, name: 'lab', channels: [{ id: WORK, name: 'cards' }] }] });
    discord.editLimit.windowMs = 5_000 / scale;
    env = { DISCORD_TOKEN: discord.botToken, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_GUILD_ID: GUILD, DISCORD_API_URL: discord.restApi };
  }
  // The adapters' production budgets, with the window scaled like the twin's.
  const budget: EditBudget = options.platform === 'slack' ? { edits: 40, perMs: 60_000 / scale, scope: 'adapter' } : { edits: 4, perMs: 5_000 / scale, scope: 'channel' };
  const origin: Origin = { adapter: options.platform, channel: WORK };
  const config = loadConfig(dir, env);

  async function boot(): Promise<{ db: Db; app: App; adapter: Adapter }> {
    const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
    const app = createApp({ config, env, db, clock: systemClock, logger: options.logger, cards: { minEditIntervalMs: options.minEditIntervalMs ?? 300, pollMs: 50 } });
    const knobs = { logger: options.logger, editBudget: budget, ...(options.minIntervalMs ? { minIntervalMs: options.minIntervalMs } : {}) };
    const adapter = slack ? createSlackAdapter(app.switchboard, { settings: slackSettingsFromEnv(env), ...knobs }) : createDiscordAdapter(app.switchboard, { settings: discordSettingsFromEnv(env), ...knobs });
    app.switchboard.register(adapter);
    await adapter.start();
    app.cards.start();
    return { db, app, adapter };
  }

  let bot = await boot();
  const shutdown = async () => {
    await Promise.race([bot.app.switchboard.idle(options.platform), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    await bot.adapter.stop();
    await bot.app.stop();
    bot.db.close();
  };

  return {
    get app() {
      return bot.app;
    },
    origin,
    ...(slack ? { slack } : {}),
    ...(discord ? { discord } : {}),
    update(key, text, final = false) {
      bot.app.cards.update({ key, origin, threadKey: key.split('#')[0]!, reply: reply(text), ...(final ? { final } : {}) });
    },
    messages() {
      if (slack) return slack.messages({ channel: WORK, user: 'bot', includeDeleted: true }).map((m) => ({ id: m.ts, text: m.visibleText, deleted: m.deleted, edits: m.edits.length }));
      return discord!.messages({ channel: WORK, author: 'bot', includeDeleted: true }).map((m) => ({ id: m.id, text: m.content, deleted: m.deleted, edits: m.editCount }));
    },
    async when(condition, timeoutMs = 60_000) {
      if (slack) await slack.waitUntil(() => condition(), { timeoutMs, description: 'the channel to show the expected cards' });
      else await discord!.waitForMessage({ predicate: () => Boolean(condition()), includeDeleted: true, timeoutMs });
    },
    posts() {
      if (slack) return slack.apiCalls({}).filter((c) => c.status === 200 && (c.method === 'chat.postMessage' || c.method === 'chat.postEphemeral')).length;
      return discord!.restCalls({}).filter((c) => c.status === 200 && c.method === 'POST' && /\/messages$|^\/webhooks\//.test(c.path)).length;
    },
    editCalls() {
      const calls = slack
        ? slack.apiCalls({ method: 'chat.update' }).map((c) => ({ at: c.at, status: c.status }))
        : discord!.restCalls({ route: 'PATCH /channels/:id/messages/:id' }).map((c) => ({ at: c.at, status: c.status }));
      const ok = calls.filter((c) => c.status === 200);
      return { ok: ok.length, limited: calls.filter((c) => c.status === 429).length, firstAt: ok[0]?.at ?? 0, lastAt: ok.at(-1)?.at ?? 0 };
    },
    deleteMessage(id) {
      if (slack) slack.deleteMessage(WORK, id);
      else discord!.deleteMessage(id);
    },
    async restart() {
      await shutdown();
      bot = await boot();
    },
    async stop() {
      await shutdown();
      await (slack ?? discord)!.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether every card key shows `text`, from one look at the channel. */
export function allShowing(bot: CardBot, keys: readonly string[], text: string): boolean {
  const shown = bot.messages().filter((m) => !m.deleted && m.text.includes(text)).map((m) => m.text);
  return keys.every((key) => shown.some((t) => t.includes(`${key} `)));
}
