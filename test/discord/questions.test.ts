import { describe, expect, it } from 'vitest';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import type { TwinMessage } from '../twins/discord/index.js';
import { ALICE, BOB, WORK, startHarness, type Harness } from './harness.js';

/**
 * An agent's question, answered from Discord end to end: the real `opencode` server runs its `question` tool
 * (the fake model asks "Which color?"), the monitor posts it with one button per option, a press by someone the
 * question is not for is refused privately, and the sender's press answers it on the server; the run then
 * finishes with one final output, also when the bot restarted while the question waited. Real discord.js
 * against the Discord twin.
 */
let h: Harness;

const world = useOpencodeWorld(async ({ server }, keep) => {
  h = keep(await startHarness({ servers: { lab: server.url } }));
  await h.warmUp('lab');
});

function buttonsOf(message: TwinMessage): Array<{ label: string; custom_id: string }> {
  return (message.components as unknown as Array<{ components?: Array<{ label: string; custom_id: string }> }>).flatMap((row) => row.components ?? []);
}

describe('an agent’s question in Discord', () => {
  it('offers the options as buttons; someone else’s press is refused privately, the sender’s press answers and the run finishes once', async () => {
    await (await h.say(ALICE, '!sb new hue lab --agent build')).waitForBotReply({ text: /🆕 \*\*hue\*\*/ });
    const echo = await (await h.say(ALICE, '!sb send hue QUESTION-DISCORD pick a color')).waitForBotReply({ text: /📨 \*\*hue\*\*/ });
    const question = await h.botMessage(echo, { text: /❓ \*\*hue\*\* asks: Which color\? \(Red \/ Blue\)/, timeoutMs: 45_000 });
    expect(question.content).toContain('Answer with `answer hue <choice>`, or `deny hue` to decline.');
    const buttons = buttonsOf(question);
    expect(buttons.map((b) => b.label)).toEqual(['Red', 'Blue']);

    // Bob may work here, but the question is Alice's.
    const bobs = await h.discord.channel(WORK).user(BOB).clickButton(question, buttons[1]!.custom_id);
    const refusal = await bobs.waitForFollowUp();
    expect(refusal.ephemeral).toBe(true);
    expect(refusal.content).toContain(`❌ discord:${BOB} may not answer the questions of hue: it belongs to discord:${ALICE}`);
    expect(buttonsOf(h.discord.message(question.id)!)).toHaveLength(2);
    expect(h.discord.messages({ channel: WORK, author: h.discord.botUserId, afterId: question.id, text: /💬 answered/, includeEphemeral: false })).toEqual([]);

    const alices = await h.discord.channel(WORK).user(ALICE).clickButton(question, buttons[1]!.custom_id);
    expect((await alices.waitForAck()).type).toBe(6);
    const answered = await h.botMessage(question, { text: /💬 answered \*\*hue\*\*: Blue/ });
    expect(answered.content).toContain(`(by discord:${ALICE})`);
    const final = await h.botMessage(answered, { text: /📋 \*\*hue\*\* finished · ✅/, timeoutMs: 45_000 });
    expect(final.content).toContain('Done: QUESTION-DISCORD pick a color');
    const toolResult = world.llm.requests.find((r) => r.afterToolResult && r.lastUserText.includes('QUESTION-DISCORD'));
    expect(JSON.stringify(toolResult?.messages.filter((m) => m.role === 'tool').at(-1)?.content)).toContain('\\"Which color?\\"=\\"Blue\\"');
    const retired = h.discord.message(question.id)!;
    expect(buttonsOf(retired)).toEqual([]);
    expect(retired.content).toContain(`✓ **Blue** · chosen by <@${ALICE}>`);

    await h.untilIdle('hue');
    const bot = (text: RegExp) => h.discord.messages({ channel: WORK, author: h.discord.botUserId, afterId: echo.id, text, includeEphemeral: false });
    expect(bot(/❓ \*\*hue\*\* asks/)).toHaveLength(1);
    expect(bot(/💬 answered \*\*hue\*\*/)).toHaveLength(1);
    expect(bot(/📋 \*\*hue\*\* (finished|failed)/)).toHaveLength(1);
  });

  it('takes the sender’s press after a restart of the bot: the question is still answerable, and the final arrives once', async () => {
    await (await h.say(ALICE, '!sb new tint lab --agent build')).waitForBotReply({ text: /🆕 \*\*tint\*\*/ });
    const echo = await (await h.say(ALICE, '!sb send tint QUESTION-DISCORD-RESTART pick again')).waitForBotReply({ text: /📨 \*\*tint\*\*/ });
    const question = await h.botMessage(echo, { text: /❓ \*\*tint\*\* asks: Which color\?/, timeoutMs: 45_000 });
    await h.restart();

    const buttons = buttonsOf(h.discord.message(question.id)!);
    expect(buttons.map((b) => b.label)).toEqual(['Red', 'Blue']);
    const bobs = await h.discord.channel(WORK).user(BOB).clickButton(question, buttons[0]!.custom_id);
    expect((await bobs.waitForFollowUp()).content).toContain(`❌ discord:${BOB} may not answer the questions of tint: it belongs to discord:${ALICE}`);
    const alices = await h.discord.channel(WORK).user(ALICE).clickButton(question, buttons[0]!.custom_id);
    expect((await alices.waitForAck()).type).toBe(6);
    const answered = await h.botMessage(question, { text: /💬 answered \*\*tint\*\*: Red/ });
    const final = await h.botMessage(answered, { text: /📋 \*\*tint\*\* finished · ✅/, timeoutMs: 45_000 });
    expect(final.content).toContain('Done: QUESTION-DISCORD-RESTART pick again');
    const toolResult = world.llm.requests.find((r) => r.afterToolResult && r.lastUserText.includes('QUESTION-DISCORD-RESTART'));
    expect(JSON.stringify(toolResult?.messages.filter((m) => m.role === 'tool').at(-1)?.content)).toContain('\\"Which color?\\"=\\"Red\\"');

    await h.untilIdle('tint');
    const bot = (text: RegExp) => h.discord.messages({ channel: WORK, author: h.discord.botUserId, afterId: echo.id, text, includeEphemeral: false });
    // Asked once (the restarted monitor remembers what it asked), answered once, finished once.
    expect(bot(/❓ \*\*tint\*\* asks/)).toHaveLength(1);
    expect(bot(/💬 answered \*\*tint\*\*/)).toHaveLength(1);
    expect(bot(/📋 \*\*tint\*\* (finished|failed)/)).toHaveLength(1);
  });
});
