import type { AdapterFactory } from '../index.js';

/**
 * The Discord entry in `platformAdapters`. discord.js is imported only when DISCORD_TOKEN is set, so a
 * console-only or Slack-only bot never loads it.
 */
export const discordAdapterFactory: AdapterFactory = {
  name: 'discord',
  configured: (env) => Boolean(env.DISCORD_TOKEN?.trim()),
  async create({ core, env, logger }) {
    const { createDiscordAdapter, discordSettingsFromEnv } = await import('./index.js');
    return createDiscordAdapter(core, { settings: discordSettingsFromEnv(env), logger });
  },
};
