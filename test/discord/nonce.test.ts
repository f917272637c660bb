import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPEAT_NOTICE } from '../../src/core/adapter.js';
import { ALICE, WORK, startHarness, type Harness } from './harness.js';

/**
 * The window the outbox cannot close alone: Discord made the message, then the bot died before it noted that.
 * After the restart the row goes out again; its nonce (the row's delivery key and the part) with
 * `enforce_nonce` makes Discord hand back the first message, so the channel shows it once and no repeat notice.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

const botMessages = () => h.discord.messages({ channel: WORK, author: 'bot' });

describe('a message Discord accepted just before the bot died', () => {
  it('is not posted a second time after the restart', async () => {
    const asked = await h.say(ALICE, '!sb help status');
    const answer = await asked.waitForBotReply({ text: /status/ });
    // The outbox notes the send once Discord's answer is back, a moment after the twin shows the message.
    const row = await h.discord.waitFor(
      () => h.db.prepare<[], { id: number }>("SELECT id FROM outbox WHERE adapter = 'discord' AND sent_at IS NOT NULL ORDER BY id DESC LIMIT 1").get(),
      { description: 'the answer noted as sent' },
    );
    const before = botMessages().length;
    expect(before).toBeGreaterThan(0);

    // As a kill -9 between Discord's answer and the outbox's note leaves it: started, not sent.
    h.db.prepare('UPDATE outbox SET sent_at = NULL, message_id = NULL, attempt_started_at = created_at WHERE id = ?').run(row.id);
    await h.restart();
    await h.discord.waitFor(() => (h.db.prepare<[number], { sent_at: number | null }>('SELECT sent_at FROM outbox WHERE id = ?').get(row.id)?.sent_at ? true : undefined), {
      description: 'the interrupted row to be delivered again',
    });

    const after = botMessages();
    expect(after).toHaveLength(before);
    expect(after.filter((m) => m.content.includes(REPEAT_NOTICE))).toEqual([]);
    // The row now records the message Discord handed back: the one already in the channel.
    const resent = h.db.prepare<[number], { message_id: string | null }>('SELECT message_id FROM outbox WHERE id = ?').get(row.id)!;
    expect(resent.message_id).toBe(answer.id);
  });

  it('the twin refuses a nonce longer than Discord’s 25 characters, and dedupes only with enforce_nonce', async () => {
    const post = (body: Record<string, unknown>) =>
      fetch(`${h.discord.restApi}/v10/channels/${WORK}/messages`, {
        method: 'POST',
        headers: { authorization: `Bot ${h.discord.botToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const tooLong = await post({ content: 'x', nonce: 'n'.repeat(26), enforce_nonce: true });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { code: number }).code).toBe(50035);

    const first = (await (await post({ content: 'once', nonce: 'twin-nonce-1', enforce_nonce: true })).json()) as { id: string };
    const again = (await (await post({ content: 'once more', nonce: 'twin-nonce-1', enforce_nonce: true })).json()) as { id: string; content: string };
    expect(again.id).toBe(first.id);
    expect(again.content).toBe('once');
    const loose = (await (await post({ content: 'not enforced', nonce: 'twin-nonce-1' })).json()) as { id: string };
    expect(loose.id).not.toBe(first.id);
  });
});
