import { Client, Events, GatewayIntentBits, RESTEvents, Routes, Status, type ClientOptions } from 'discord.js';
import type { Adapter, EditBudget } from '../../src/core/adapter.js';
import type { Logger } from '../../src/core/logger.js';
import { SwitchboardError } from '../../src/errors.js';
import { registerInbound, type DiscordCore } from './inbound.js';
import { createDiscordCardEdit, createOutbound } from './outbound.js';
import type { RenderLimits } from './render/limits.js';
import { createDiscordRest } from './rest-calls.js';
import type { DiscordSettings } from './settings.js';
import { slashLayout } from './slash-commands.js';

export { discordSettingsFromEnv, DISCORD_ENV, type DiscordSettings } from './settings.js';
export type { DiscordCore } from './inbound.js';

export interface DiscordAdapterOptions {
  settings: DiscordSettings;
  logger: Logger;
  /** Laid over the client options below (tests: a shorter REST timeout). */
  clientOptions?: Partial<ClientOptions>;
  limits?: RenderLimits;
  /** How long start() waits for the gateway to be ready. */
  readyTimeoutMs?: number;
  /** Card edits allowed per channel (tests shrink the window along with the twin's). */
  editBudget?: EditBudget;
  /** Spacing of posts to one channel (default 250 ms); tests with a twin shorten it. */
  minIntervalMs?: number;
}

/**
 * Discord allows five messages per five seconds per channel; the outbox spaces each channel's lane this much and
 * discord.js queues on the rate-limit headers for the rest.
 */
const MIN_INTERVAL_MS = 250;
/** Rate limits longer than this go back to the outbox (durable, per channel) instead of blocking in discord.js. */
const LONGEST_IN_PROCESS_WAIT_MS = 5_000;
/** Discord lets a channel's messages be edited five times per five seconds: cards use four of them. */
const EDIT_BUDGET: EditBudget = { edits: 4, perMs: 5_000, scope: 'channel' };

/**
 * The Discord adapter: the real discord.js client on the gateway (guild messages with content, interactions),
 * the `/sb` command registered from the grammar, handlers that turn messages, slash commands and button
 * presses into core calls, and `deliver`, which renders Replies as Discord messages.
 */
export function createDiscordAdapter(core: DiscordCore, options: DiscordAdapterOptions): Adapter {
  const { settings, logger } = options;
  const client = new Client({
    // Message commands need the message content, a privileged intent switched on in the Developer Portal.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    allowedMentions: { parse: [], repliedUser: false },
    ...options.clientOptions,
    rest: {
      ...(settings.apiUrl ? { api: settings.apiUrl } : {}),
      rejectOnRateLimit: (limit) => limit.retryAfter > LONGEST_IN_PROCESS_WAIT_MS,
      ...options.clientOptions?.rest,
    },
  });
  const layout = slashLayout(core.services.grammar);
  const inFlight = new Set<Promise<unknown>>();

  registerInbound(client, {
    core,
    prefix: settings.prefix,
    layout,
    logger,
    background(work) {
      const running: Promise<unknown> = work()
        .catch((error: unknown) => logger.error('discord: handling an event failed', { error: error instanceof Error ? error.message : String(error) }))
        .finally(() => inFlight.delete(running));
      inFlight.add(running);
    },
  });
  client.on(Events.Error, (error) => logger.error('discord: client error', { error: error.message }));
  client.on(Events.Warn, (message) => logger.warn('discord: client warning', { message }));
  client.rest.on(RESTEvents.RateLimited, (limit) => logger.debug('discord: rate limited', { route: limit.route, retryAfterMs: limit.retryAfter }));

  const discordRest = createDiscordRest(client.rest);
  const deliver = createOutbound({
    rest: discordRest,
    threads: settings.threads,
    logger,
    ...(options.limits ? { limits: options.limits } : {}),
  });

  async function registerCommands(): Promise<void> {
    const route = settings.guildId
      ? Routes.applicationGuildCommands(settings.applicationId, settings.guildId)
      : Routes.applicationCommands(settings.applicationId);
    try {
      await client.rest.put(route, { body: [layout.body] });
      const groups = [...new Set([...layout.verbs.values()].flatMap((v) => (v.group ? [v.group] : [])))];
      logger.info('discord: /sb registered', { scope: settings.guildId ? `guild ${settings.guildId}` : 'global', subcommands: layout.verbs.size, groups });
      if (layout.skipped.length) logger.warn('discord: these verbs cannot be /sb subcommands (name or Discord limits); they work as messages only', { verbs: layout.skipped });
    } catch (error) {
      // Messages still work; the log says how to make the slash command work too.
      logger.error('discord: could not register /sb (invite the bot with the applications.commands scope; check DISCORD_APPLICATION_ID and DISCORD_GUILD_ID)', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  let started = false;
  return {
    name: 'discord',
    minIntervalMs: options.minIntervalMs ?? MIN_INTERVAL_MS,
    async start() {
      let timer: NodeJS.Timeout | undefined;
      const ready = new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error('the gateway was not ready in time')), options.readyTimeoutMs ?? 60_000);
        client.once(Events.ClientReady, () => resolve());
      });
      // Observed below; a login failure must not leave it as an unhandled rejection.
      ready.catch(() => undefined);
      try {
        await client.login(settings.token);
        await ready;
      } catch (error) {
        await client.destroy();
        const message = error instanceof Error ? error.message : String(error);
        throw new SwitchboardError('config_invalid', /token/i.test(message) ? `Discord rejected DISCORD_TOKEN (${message})` : `cannot connect to Discord: ${message}`, {
          cause: error,
        });
      } finally {
        clearTimeout(timer);
      }
      started = true;
      if (client.application && client.application.id !== settings.applicationId) {
        logger.warn('discord: DISCORD_APPLICATION_ID is not the application of DISCORD_TOKEN', { configured: settings.applicationId, actual: client.application.id });
      }
      logger.info('discord: connected', { user: client.user?.tag, guilds: client.guilds.cache.size });
      await registerCommands();
    },
    async stop() {
      if (started) await client.destroy();
      started = false;
      // Commands already acknowledged still get their replies queued before we report stopped.
      await Promise.allSettled([...inFlight]);
    },
    deliver,
    edit: createDiscordCardEdit({ rest: discordRest, logger, ...(options.limits ? { limits: options.limits } : {}) }),
    editBudget: options.editBudget ?? EDIT_BUDGET,
    // During a gateway reconnect the client lives on but hears nothing: that is "not connected".
    connected: () => started && client.ws.status === Status.Ready,
  };
}
