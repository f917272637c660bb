import type { Logger } from '../src/core/logger.js';
import { allShowing, startCardBot } from '../test/helpers/card-bots.js';
import { round } from './machine.js';

export interface CardFigure {
  platform: string;
  cards: number;
  /** Time runs this many times faster on both sides (the twin's limit and the bot's budget and intervals). */
  timeScale: number;
  /** States handed to the card sink. */
  states: number;
  /** Edits the twin accepted. */
  edits: number;
  /** Accepted edits per minute of real (unscaled) time, from the first edit to the last. */
  editsPerMin: number;
  http429: number;
  finalsWritten: string;
  /** From the last final state handed over to the last one shown, in real (unscaled) time. */
  finalLagMs: number;
}

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const CARDS = 50;
const TICKS = 10;

/**
 * 50 live cards in one channel, each drawn once a second (ten times), then finished: what the twin accepted,
 * whether it ever answered 429, and whether every card's final state was written. The twins enforce the
 * platforms' edit limits; time is scaled so the section runs in seconds (the figures are given in real time).
 */
async function run(platform: 'slack' | 'discord', scale: number): Promise<CardFigure> {
  // Production defaults (cards.minEditInterval 2 s; posts 1 s apart on Slack, 250 ms on Discord), scaled.
  const bot = await startCardBot({ platform, scale, minEditIntervalMs: 2_000 / scale, minIntervalMs: (platform === 'slack' ? 1_000 : 250) / scale, logger: quiet });
  try {
    const keys = Array.from({ length: CARDS }, (_, i) => `bench${i}#1`);
    let states = 0;
    for (const key of keys) {
      bot.update(key, `⚙️ ${key} · working · tick 0`);
      states++;
    }
    await bot.when(() => allShowing(bot, keys, 'tick 0'), 600_000);
    for (let tick = 1; tick <= TICKS; tick++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000 / scale));
      for (const key of keys) {
        bot.update(key, `⚙️ ${key} · working · tick ${tick}`);
        states++;
      }
    }
    for (const key of keys) {
      bot.update(key, `✅ ${key} · finished`, true);
      states++;
    }
    const finalsAt = Date.now();
    await bot.when(() => allShowing(bot, keys, 'finished'), 600_000);
    const finalLagMs = (Date.now() - finalsAt) * scale;
    const calls = bot.editCalls();
    const finals = keys.filter((key) => bot.messages().some((m) => !m.deleted && m.text.includes(`${key} `) && m.text.includes('finished'))).length;
    const spanMs = Math.max(1, (calls.lastAt - calls.firstAt) * scale);
    return {
      platform,
      cards: CARDS,
      timeScale: scale,
      states,
      edits: calls.ok,
      editsPerMin: round((calls.ok / spanMs) * 60_000),
      http429: calls.limited,
      finalsWritten: `${finals}/${CARDS}`,
      finalLagMs: Math.round(finalLagMs),
    };
  } finally {
    await bot.stop();
  }
}

export async function benchCards(): Promise<CardFigure[]> {
  // Slack: chat.update ~50 a minute per workspace (cards use 40); Discord: 5 edits per 5 s per channel (cards use 4).
  return [await run('slack', 10), await run('discord', 5)];
}
