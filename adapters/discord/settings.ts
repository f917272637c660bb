import { booleanSetting, invalidSetting } from '../../src/config/env-values.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Everything the Discord adapter reads from the environment, validated once at start-up. */
export interface DiscordSettings {
  token: string;
  /** The application (bot) id; commands are registered under it and interaction tokens belong to it. */
  applicationId: string;
  /** Register `/sb` in this guild only (available at once); globally when unset. */
  guildId?: string;
  /** REST base such as `https://discord.com/api` (tests: the twin's); discord.js appends `/v10/...`. */
  apiUrl?: string;
  /** Message commands start with this (default `!sb`). */
  prefix: string;
  /** A thread per name: the prompt echo opens it, progress and outputs follow inside. */
  threads: boolean;
}

export const DISCORD_ENV = {
  token: 'DISCORD_TOKEN',
  applicationId: 'DISCORD_APPLICATION_ID',
  guildId: 'DISCORD_GUILD_ID',
  apiUrl: 'DISCORD_API_URL',
  prefix: 'DISCORD_PREFIX',
  threads: 'DISCORD_THREADS',
} as const;

const SNOWFLAKE = /^\d{17,20}$/;


export function discordSettingsFromEnv(env: Env): DiscordSettings {
  const token = env[DISCORD_ENV.token]?.trim();
  if (!token) throw invalidSetting(`${DISCORD_ENV.token} is not set (the bot token from the Developer Portal, Bot page)`);

  const applicationId = env[DISCORD_ENV.applicationId]?.trim();
  if (!applicationId) throw invalidSetting(`${DISCORD_ENV.applicationId} is not set (the Application ID on the Developer Portal's General Information page)`);
  if (!SNOWFLAKE.test(applicationId)) throw invalidSetting(`${DISCORD_ENV.applicationId} must be a Discord id (17–20 digits), not \`${applicationId}\``);

  const guildId = env[DISCORD_ENV.guildId]?.trim() || undefined;
  if (guildId !== undefined && !SNOWFLAKE.test(guildId)) throw invalidSetting(`${DISCORD_ENV.guildId} must be a Discord server id (17–20 digits), not \`${guildId}\``);

  const apiUrl = env[DISCORD_ENV.apiUrl]?.trim() || undefined;
  if (apiUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(apiUrl)) throw invalidSetting(`${DISCORD_ENV.apiUrl} must be an http(s) URL such as https://discord.com/api`);

  const prefix = env[DISCORD_ENV.prefix]?.trim() || '!sb';
  if (/\s/.test(prefix) || prefix.length > 16) throw invalidSetting(`${DISCORD_ENV.prefix} must be one word of at most 16 characters, not \`${prefix}\``);

  return {
    token,
    applicationId,
    ...(guildId ? { guildId } : {}),
    // discord.js joins `/v10/...` onto the base, so no trailing slash.
    ...(apiUrl ? { apiUrl: apiUrl.replace(/\/+$/, '') } : {}),
    prefix,
    threads: booleanSetting(env, DISCORD_ENV.threads, false),
  };
}
