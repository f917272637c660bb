import type { Adapter } from '../src/core/adapter.js';
import type { Switchboard } from '../src/core/switchboard.js';
import type { Logger } from '../src/core/logger.js';
import { discordAdapterFactory } from './discord/factory.js';
import { slackAdapterFactory } from './slack/factory.js';

export interface AdapterContext {
  core: Switchboard;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}

/**
 * The chat platforms Switchboard can join. Each is loaded only when its settings are present, so a console-only
 * bot never loads Bolt or discord.js. The console is started by main.ts itself (it needs the process's stdio).
 */
export interface AdapterFactory {
  name: string;
  /** Whether the environment configures this platform (its token is set). */
  configured(env: AdapterContext['env']): boolean;
  create(context: AdapterContext): Promise<Adapter>;
}

export const platformAdapters: readonly AdapterFactory[] = [slackAdapterFactory, discordAdapterFactory];
