import type { App } from '../../src/app.js';
import type { Adapter } from '../../src/core/adapter.js';
import type { Db } from '../../src/sessions/database.js';

/** One boot of a chat harness's bot: the app on its database, with the platform's adapter. */
export interface BootedBot<A extends Adapter = Adapter> {
  db: Db;
  app: App;
  adapter: A;
}

/** Registers the adapter and starts it, then the app's scheduler, as runBot does. */
export async function startBot<A extends Adapter>(booted: BootedBot<A>): Promise<BootedBot<A>> {
  booted.app.switchboard.register(booted.adapter);
  await booted.adapter.start();
  await booted.app.start();
  return booted;
}

/**
 * Stops a booted bot: deliveries under way may finish first (5 s at most), so nothing touches the database after
 * it is closed.
 */
export async function stopBot(bot: BootedBot, platform: string): Promise<void> {
  await Promise.race([bot.app.switchboard.idle(platform), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  await bot.adapter.stop();
  await bot.app.stop();
  bot.db.close();
}
