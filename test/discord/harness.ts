import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientOptions } from 'discord.js';
import { discordAdapterFactory } from '../../adapters/discord/factory.js';
import { createDiscordAdapter, discordSettingsFromEnv } from '../../adapters/discord/index.js';
import { allMigrations, createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { Adapter } from '../../src/core/adapter.js';
import { systemClock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { replyToPlainText } from '../../src/core/reply.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { startBot, stopBot } from '../helpers/bot-lifecycle.js';
import {
  startDiscordTwin,
  testSnowflake,
  type DiscordTwin,
  type SlashOptionValue,
  type TwinInteraction,
  type TwinMessage,
  type UserMessage,
} from '../twins/discord/index.js';

/**
 * The whole bot as a Discord server sees it: the Discord twin, the real core (createApp on a temp SQLite file)
 * and the Discord adapter built by its real factory from an environment object, with the real discord.js client
 * inside. Tests act as people through the twin and assert on what the channel shows.
 */
export const GUILD = testSnowflake(1);
/** Channels: two allowed, one not. */
export const WORK = testSnowflake(2);
export const OTHER = testSnowflake(3);
export const BLOCKED = testSnowflake(4);
/** People: two members by id, an admin from switchboard.yaml, a member by role only, and someone nobody allowed. */
export const ALICE = testSnowflake(10);
export const BOB = testSnowflake(11);
export const ADMIN = testSnowflake(12);
export const ROLEY = testSnowflake(13);
export const EVE = testSnowflake(14);
/** Another bot in the server: its `!sb` messages must be ignored. */
export const BOTTY = testSnowflake(15);
export const OPS_ROLE = testSnowflake(20);
export const OTHER_ROLE = testSnowflake(21);

export interface RecordingLogger extends Logger {
  readonly lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  };
  return { lines, debug: () => undefined, info: at('info'), warn: at('warn'), error: at('error') };
}

export interface HarnessOptions {
  /** `servers:` entries for switchboard.yaml, e.g. `{ lab: server.url }`. */
  servers?: Record<string, string>;
  env?: Record<string, string>;
  /** Extra switchboard.yaml lines (monitor settings). */
  yaml?: string[];
  /** discord.js client options laid over the adapter's (a test without a message cache). */
  clientOptions?: Partial<ClientOptions>;
}

export interface Harness {
  discord: DiscordTwin;
  app: App;
  db: Db;
  adapter: Adapter;
  logger: RecordingLogger;
  env: Record<string, string>;
  /** A person types a message (`!sb …`) in a channel (default WORK). */
  say(user: string, text: string, channel?: string): Promise<UserMessage>;
  /** A person runs `/sb <subcommand>` (or `/sb <group> <subcommand>`, e.g. `'more schedules'`) with options. */
  slash(user: string, subcommand: string, options?: Record<string, SlashOptionValue>, channel?: string): Promise<TwinInteraction>;
  /** The next bot message (not ephemeral, not "thinking…") after `after`, matching the filter. */
  botMessage(after: TwinMessage | string, filter?: { channel?: string; text?: string | RegExp; timeoutMs?: number }): Promise<TwinMessage>;
  /** The answer to a slash command, once it is no longer "thinking…". */
  answer(interaction: TwinInteraction, text?: string | RegExp, timeoutMs?: number): Promise<TwinMessage>;
  /**
   * Readies a server for the file, through the core, posting nothing anyone sees: one prompt warms up
   * OpenCode (its first run in a fresh project is slow). Nothing holds the monitor's event stream open: it
   * closes when no name is watched (here at once, `streamLingerMs: 0`), and the next `send` opens it and waits
   * until it relays before the prompt goes, so no event of a run is lost to the reopening.
   */
  warmUp(server: string): Promise<void>;
  /** Asks the core directly (posting nothing) until `status <name>` says idle, so assertions never race the agent. */
  untilIdle(name: string, timeoutMs?: number): Promise<string>;
  /** Stops the bot (adapter, core, database) and starts it again on the same SQLite file; the twin stays. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-discord-'));
  const discord = await startDiscordTwin({
    defaultTimeoutMs: 20_000,
    guilds: [
      {
        id: GUILD,
        name: 'lab',
        channels: [
          { id: WORK, name: 'work' },
          { id: OTHER, name: 'other' },
          { id: BLOCKED, name: 'blocked' },
        ],
        roles: [
          { id: OPS_ROLE, name: 'ops' },
          { id: OTHER_ROLE, name: 'visitors' },
        ],
        members: [
          { id: ALICE, username: 'alice', globalName: 'Alice' },
          { id: BOB, username: 'bob' },
          { id: ADMIN, username: 'admin' },
          { id: ROLEY, username: 'roley', roles: [OPS_ROLE] },
          { id: EVE, username: 'eve', roles: [OTHER_ROLE] },
          { id: BOTTY, username: 'botty', bot: true },
        ],
      },
    ],
  });
  const servers = Object.entries(options.servers ?? {});
  writeFileSync(
    join(dir, 'switchboard.yaml'),
    [
      ...(servers.length ? ['servers:', ...servers.flatMap(([name, url]) => [`  - name: ${name}`, `    url: ${url}`])] : []),
      'access:',
      `  admins: [discord:${ADMIN}]`,
      'limits:',
      '  commandsPerMinute: 1000',
      ...(options.yaml ?? []),
    ].join('\n'),
  );
  const env: Record<string, string> = {
    // The bot's whole environment: like any process it has a PATH and a HOME (a local executor needs both).
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    DISCORD_TOKEN: discord.botToken,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_GUILD_ID: GUILD,
    DISCORD_API_URL: discord.restApi,
    DISCORD_ALLOWED_USERS: `${ALICE},${BOB}`,
    DISCORD_ALLOWED_ROLES: OPS_ROLE,
    DISCORD_ALLOWED_CHANNELS: `${WORK},${OTHER}`,
    ...options.env,
  };
  const logger = recordingLogger();
  const config = loadConfig(dir, env);
  const boot = async () => {
    const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
    // Streams close as soon as no name is watched: every `send` meets a stream reopening, as after a quiet spell.
    const app = createApp({ config, env, db, clock: systemClock, logger, requestTimeoutMs: 15_000, monitor: { streamLingerMs: 0 } });
    const adapter = options.clientOptions
      ? createDiscordAdapter(app.switchboard, { settings: discordSettingsFromEnv(env), logger, clientOptions: options.clientOptions })
      : await discordAdapterFactory.create({ core: app.switchboard, env, logger });
    return startBot({ db, app, adapter });
  };
  let bot = await boot();
  const shutdown = () => stopBot(bot, 'discord');
  const app = () => bot.app;

  const idOf = (m: TwinMessage | string) => (typeof m === 'string' ? m : m.id);
  return {
    discord,
    get app() {
      return bot.app;
    },
    get db() {
      return bot.db;
    },
    get adapter() {
      return bot.adapter;
    },
    logger,
    env,
    say: (user, text, channel = WORK) => discord.channel(channel).user(user).sendMessage(text),
    slash: (user, path, opts = {}, channel = WORK) => {
      const [group, subcommand] = path.includes(' ') ? path.split(' ') : [undefined, path];
      return discord.channel(channel).user(user).slash('sb', { ...(group ? { group } : {}), subcommand, options: opts });
    },
    botMessage(after, filter = {}) {
      const anchor = discord.message(idOf(after));
      return discord.waitForMessage({
        author: 'bot',
        includeEphemeral: false,
        ...(filter.channel ? { channel: filter.channel } : {}),
        ...(filter.text ? { text: filter.text } : {}),
        ...(filter.timeoutMs ? { timeoutMs: filter.timeoutMs } : {}),
        predicate: (m) => m.seq > (anchor?.seq ?? 0),
      });
    },
    answer: (interaction, text, timeoutMs) =>
      interaction.waitForReply({
        ...(timeoutMs ? { timeoutMs } : {}),
        ...(text ? { predicate: (m) => (typeof text === 'string' ? m.content.includes(text) : text.test(m.content)) } : {}),
      }),
    async warmUp(server) {
      // An adapter nobody registered: the warm-up's final report stays in the outbox, never in a channel.
      const nowhere = { adapter: 'warm-up', channel: 'none' };
      const quietly = async (text: string) => {
        const reply = await app().switchboard.execute({ text, actor: { id: `discord:${ADMIN}` }, origin: nowhere }, { post: false });
        if (reply.tone === 'error') throw new Error(`${text}: ${replyToPlainText(reply)}`);
      };
      const name = `warm-${server}`.slice(0, 32);
      await quietly(`new ${name} ${server} --agent build`);
      await quietly(`send ${name} warm up`);
      await eventually(async () => (app().switchboard.outbox.pending(nowhere.adapter) > 0 ? true : undefined), 'the warm-up run to finish', 90_000);
    },
    untilIdle: (name, timeoutMs = 30_000) =>
      eventually(async () => {
        const reply = await app().switchboard.execute(
          { text: `status ${name}`, actor: { id: `discord:${ALICE}` }, origin: { adapter: 'discord', channel: WORK } },
          { post: false },
        );
        const plain = replyToPlainText(reply);
        return /💤 idle/.test(plain) ? plain : undefined;
      }, `${name} to go idle`, timeoutMs),
    async restart() {
      await shutdown();
      bot = await boot();
    },
    async stop() {
      await shutdown();
      await discord.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Re-runs `probe` until it returns something (a state that arrives in its own time), failing after `timeoutMs`.
 * A probe that throws fails at once: no probe here has an error worth trying again, and a retried error hides one.
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let looks = 1; ; looks++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms (${looks} looks) waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Code blocks as Discord's client finds them: at each "```", its rule
 * /^```(?:([a-z0-9_+\-.#]+?)\n)?\n*([^\n][^]*?)\n*```/i, the first later "```" ending the block. Returns what
 * each block shows, and the raw text of each match.
 */
export function discordCodeBlocks(content: string): Array<{ shown: string; raw: string }> {
  const rule = /^```(?:([a-z0-9_+\-.#]+?)\n)?\n*([^\n][^]*?)\n*```/i;
  const blocks: Array<{ shown: string; raw: string }> = [];
  let i = 0;
  while (i < content.length) {
    const at = content.indexOf('```', i);
    if (at < 0) break;
    const match = rule.exec(content.slice(at));
    if (!match) {
      i = at + 1;
      continue;
    }
    blocks.push({ shown: match[2]!, raw: match[0] });
    i = at + match[0].length;
  }
  return blocks;
}

/** Every message the bot posted anywhere must have had `allowed_mentions: {parse: []}` and pinged nobody. */
export function pingProblems(discord: DiscordTwin): string[] {
  return discord
    .messages({ author: discord.botUserId, includeDeleted: true })
    .filter((m) => !m.loading)
    .flatMap((m) => {
      const problems: string[] = [];
      if (!m.allowedMentions || (m.allowedMentions.parse ?? ['?']).length !== 0) problems.push(`${m.id}: allowed_mentions ${JSON.stringify(m.allowedMentions)}`);
      if (m.mentions.everyone || m.mentions.users.length || m.mentions.roles.length) problems.push(`${m.id}: pinged ${JSON.stringify(m.mentions)}`);
      return problems.map((p) => `${p} in ${JSON.stringify(m.content.slice(0, 80))}`);
    });
}
