import type { AdapterFactory } from '../index.js';

/**
 * The Slack entry in `platformAdapters`. Bolt is imported only when SLACK_BOT_TOKEN is set, so a console-only
 * or Discord-only bot never loads it.
 */
export const slackAdapterFactory: AdapterFactory = {
  name: 'slack',
  configured: (env) => Boolean(env.SLACK_BOT_TOKEN?.trim()),
  async create({ core, env, logger }) {
    const { createSlackAdapter, slackSettingsFromEnv } = await import('./index.js');
    return createSlackAdapter(core, { settings: slackSettingsFromEnv(env), logger });
  },
};
