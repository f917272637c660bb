import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingLogger } from '../slack/harness.js';
import { allShowing, CARD_ADMINS, startCardBot, type CardBot } from '../helpers/card-bots.js';

/**
 * Live run cards from the app's CardSink to the channel: the real Bolt WebClient against the Slack twin and the
 * real discord.js client against the Discord twin. Each twin enforces its platform's edit limit; time is scaled
 * (Slack ×30: 50 chat.update per 2 s; Discord ×10: five edits per 500 ms per channel) with the adapters' card
 * budgets scaled alike, so 50 cards in one channel finish in seconds under the same rules.
 */
const SCALE = { slack: 30, discord: 10 } as const;

describe.each(['slack', 'discord'] as const)('%s: one message per run', (platform) => {
  const logger = recordingLogger();
  let bot: CardBot;
  const cardsOf = (key: string) => bot.messages().filter((m) => m.text.includes(`${key} `));
  const showing = (key: string, text: string) => cardsOf(key).find((m) => !m.deleted && m.text.includes(text));

  beforeAll(async () => {
    bot = await startCardBot({ platform, scale: SCALE[platform], minIntervalMs: 20, logger });
  });

  afterAll(async () => {
    await bot.stop();
  });

  it('posts a card once and edits it in place until it shows the newest state', async () => {
    bot.update('solo#1', '⚙️ solo#1 · working · step 0');
    await bot.when(() => showing('solo#1', 'step 0'));
    for (let i = 1; i <= 4; i++) {
      bot.update('solo#1', `⚙️ solo#1 · working · step ${i}`);
      await bot.when(() => showing('solo#1', `step ${i}`));
    }
    bot.update('solo#1', '✅ solo#1 · finished · step 5', true);
    await bot.when(() => showing('solo#1', 'finished'));
    const [card, ...others] = cardsOf('solo#1');
    expect(others).toHaveLength(0);
    expect(card!.edits).toBe(5);
    expect(bot.editCalls().ok).toBe(5);
  });

  it('50 live cards in one channel: no 429, every final state written, and an ordinary reply does not wait behind the edits', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `fleet${i}#1`);
    const editsBefore = bot.editCalls().ok;
    for (const key of keys) bot.update(key, `⚙️ ${key} · working · tick 0`);
    await bot.when(() => allShowing(bot, keys, 'tick 0'));
    for (let tick = 1; tick <= 3; tick++) {
      for (const key of keys) bot.update(key, `⚙️ ${key} · working · tick ${tick}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const key of keys) bot.update(key, `✅ ${key} · finished`, true);
    // An ordinary reply queued behind 50 pending final states goes out first.
    const postsBefore = bot.posts();
    await bot.app.switchboard.execute({ text: 'help', actor: { id: CARD_ADMINS[platform] }, origin: bot.origin });
    await bot.when(() => bot.posts() > postsBefore);
    const finalsWhenHelpArrived = keys.filter((key) => showing(key, 'finished')).length;
    expect(finalsWhenHelpArrived).toBeLessThan(50);

    await bot.when(() => allShowing(bot, keys, 'finished'));
    for (const key of keys) expect(cardsOf(key)).toHaveLength(1);
    const calls = bot.editCalls();
    expect(calls.limited).toBe(0);
    // At least each final state; far fewer than the 200 states handed to the sink (coalesced).
    expect(calls.ok - editsBefore).toBeGreaterThanOrEqual(50);
    expect(calls.ok - editsBefore).toBeLessThan(200);
  });

  it('after a restart mid-run the bot keeps editing the same message', async () => {
    bot.update('phoenix#1', '⚙️ phoenix#1 · working · before the restart');
    await bot.when(() => showing('phoenix#1', 'before the restart'));
    await bot.restart();
    bot.update('phoenix#1', '✅ phoenix#1 · finished · after the restart', true);
    await bot.when(() => showing('phoenix#1', 'after the restart'));
    expect(cardsOf('phoenix#1')).toHaveLength(1);
  });

  it('a card deleted in chat is posted again once, and then edited as before', async () => {
    bot.update('lazarus#1', '⚙️ lazarus#1 · working · one');
    await bot.when(() => showing('lazarus#1', 'one'));
    const first = showing('lazarus#1', 'one')!;
    bot.deleteMessage(first.id);
    bot.update('lazarus#1', '⚙️ lazarus#1 · working · two');
    await bot.when(() => showing('lazarus#1', 'two'));
    const second = showing('lazarus#1', 'two')!;
    expect(second.id).not.toBe(first.id);
    bot.update('lazarus#1', '✅ lazarus#1 · finished · three', true);
    await bot.when(() => showing('lazarus#1', 'three'));
    expect(cardsOf('lazarus#1').map((m) => [m.id, m.deleted])).toEqual([
      [first.id, true],
      [second.id, false],
    ]);
    expect(bot.app.cards.stats().replaced).toBe(1);
  });
});
