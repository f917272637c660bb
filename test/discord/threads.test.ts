import { describe, expect, it } from 'vitest';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import type { TwinMessage, TwinThread } from '../twins/discord/index.js';
import { ADMIN, ALICE, BOB, WORK, pingProblems, startHarness, type Harness } from './harness.js';

/**
 * A thread per name (DISCORD_THREADS=true): the prompt echo opens the name's thread, and progress, permission
 * asks and the final output follow inside, also across a gateway reconnect. OpenCode asks before running bash,
 * so the permission buttons are real.
 */
let h: Harness;

const world = useOpencodeWorld(async ({ server }, keep) => {
  h = keep(await startHarness({ servers: { lab: server.url }, env: { DISCORD_THREADS: 'true' } }));
  await h.warmUp('lab');
}, { permission: { bash: 'ask' } });

function buttonsOf(message: TwinMessage): Array<{ label: string; custom_id: string }> {
  return (message.components as unknown as Array<{ components?: Array<{ label: string; custom_id: string }> }>).flatMap((row) => row.components ?? []);
}

function inThread(thread: TwinThread, text: string | RegExp, after?: TwinMessage, timeoutMs = 45_000): Promise<TwinMessage> {
  return h.botMessage(after ?? '0', { channel: thread.id, text, timeoutMs });
}

let kumo: TwinThread;

describe('a thread per name', () => {
  it('opens the thread from the slash command’s echo; the run’s card and the final output follow inside', async () => {
    await h.answer(await h.slash(ALICE, 'new', { name: 'kumo', server: 'lab', agent: 'build' }));
    const echo = await h.answer(await h.slash(ALICE, 'send', { name: 'kumo', prompt: 'TODO HOLDAFTER:t1 fix parse()' }), /📨/);
    expect(echo.channelId).toBe(WORK);
    kumo = await h.discord.channel(WORK).waitForThread({ name: 'kumo' });
    expect(kumo.starterMessageId).toBe(echo.id);

    // One card for the run, edited in place: the checklist while the run is held, the final state after.
    const card = await inThread(kumo, /⚙️ \*\*kumo\*\* · working · \d+s · todo 2\/4/);
    expect(card.content).toContain('🔄 Fix parse() and run the tests');
    world.llm.release('t1');
    const final = await inThread(kumo, /📋 \*\*kumo\*\* finished/);
    expect(final.content).toContain('Done: TODO HOLDAFTER:t1 fix parse()');
    expect(final.content).toMatch(/· 30 tokens · \$0\.21/);
    const done = await inThread(kumo, /⚙️ \*\*kumo\*\* · finished ✅/);
    expect(done.id).toBe(card.id);
    expect(h.discord.messages({ channel: kumo.id, author: h.discord.botUserId, text: /⚙️ \*\*kumo\*\* ·/ })).toHaveLength(1);
    // Nothing about kumo's run landed in the channel itself after the echo.
    expect(h.discord.messages({ channel: WORK, author: h.discord.botUserId, afterId: echo.id })).toEqual([]);
  });

  it('opens a thread from a message command’s echo too', async () => {
    await (await h.say(BOB, '!sb new hetc lab --agent build')).waitForBotReply();
    const echo = await (await h.say(BOB, '!sb send hetc say hello')).waitForBotReply({ text: /📨/ });
    const hetc = await h.discord.channel(WORK).waitForThread({ name: 'hetc' });
    expect(hetc.starterMessageId).toBe(echo.id);
    expect((await inThread(hetc, /📋 \*\*hetc\*\* finished/)).content).toContain('Done: say hello');
  });

  it('takes commands typed in the thread (allowed by its parent channel) and answers there', async () => {
    const asked = await h.say(BOB, '!sb todo kumo', kumo.id);
    const answer = await asked.waitForBotReply({ channel: kumo.id });
    expect(answer.content).toContain('**kumo** todo 2/4');
    expect(answer.replyTo?.messageId).toBe(asked.id);

    const slash = await h.discord.channel(kumo.id).user(ALICE).slash('sb', { subcommand: 'last', options: { name: 'kumo' } });
    const last = await h.answer(slash);
    expect(last.channelId).toBe(kumo.id);
    expect(last.content).toContain('Done: TODO HOLDAFTER:t1 fix parse()');
  });

  it('routes a later prompt from the channel into the thread, and points the slash reply at it', async () => {
    const slash = await h.slash(ALICE, 'send', { name: 'kumo', prompt: 'second round' });
    const echo = await inThread(kumo, /📨 \*\*kumo\*\*/);
    expect(echo.content).toContain('second round');
    expect(echo.content).toContain(`-# requested by <@${ALICE}>`);
    const pointer = await h.answer(slash);
    expect(pointer.channelId).toBe(WORK);
    expect(pointer.content).toBe(`📨 **kumo** ← Alice (agent build)\n-# ↪ in <#${kumo.id}>`);
    expect(h.discord.threads({ name: 'kumo' })).toHaveLength(1);
    await inThread(kumo, /📋 \*\*kumo\*\* finished · ✅/, echo);
  });
});

describe('a thread that cannot take posts', () => {
  it('gives way to its channel rather than losing the message', async () => {
    h.discord.failNext(`POST /channels/${kumo.id}/messages`, { status: 404, code: 10003, message: 'Unknown Channel' });
    const asked = await h.say(ALICE, '!sb send kumo third round');
    const echo = await asked.waitForBotReply({ text: /📨 \*\*kumo\*\*/ });
    expect(echo.channelId).toBe(WORK);
    expect(echo.content).toContain('third round');
    expect(h.logger.lines.some((l) => l.includes('cannot post in the thread'))).toBe(true);
    // The thread itself is still the name's: the final output goes there.
    await inThread(kumo, /📋 \*\*kumo\*\* finished/, echo);
  });
});

describe('permission buttons', () => {
  it('refuses someone else’s press privately, and approves the sender’s', async () => {
    const echo = await (await h.say(ALICE, '!sb send kumo BASH list the files')).waitForBotReply({ channel: kumo.id, text: /📨/ });
    const ask = await inThread(kumo, /🔐 \*\*kumo\*\* asks permission: `bash echo hi-from-bash`/, echo);
    expect(ask.content).toContain(`only discord:${ALICE} or an admin may answer`);
    const buttons = buttonsOf(ask);
    expect(buttons.map((b) => b.label)).toEqual(['Approve once', 'Always', 'Deny']);

    const bobs = await h.discord.channel(kumo.id).user(BOB).clickButton(ask, buttons[0]!.custom_id);
    const refusal = await bobs.waitForFollowUp();
    expect(refusal.ephemeral).toBe(true);
    expect(refusal.content).toContain(`❌ discord:${BOB} may not answer the permission requests of kumo`);
    // Still waiting: the buttons stay, and nothing was approved.
    expect(buttonsOf(h.discord.message(ask.id)!)).toHaveLength(3);

    const alices = await h.discord.channel(kumo.id).user(ALICE).clickButton(ask, buttons[0]!.custom_id);
    expect((await alices.waitForAck()).type).toBe(6);
    const approved = await inThread(kumo, /✅ approved once for \*\*kumo\*\*/, ask);
    expect(approved.content).toContain('`bash echo hi-from-bash`');
    const final = await inThread(kumo, /📋 \*\*kumo\*\* finished/, approved);
    expect(final.content).toContain('Done: BASH list the files');
    const retired = h.discord.message(ask.id)!;
    expect(buttonsOf(retired)).toEqual([]);
    expect(retired.content).toContain(`✓ **Approve once** · chosen by <@${ALICE}>`);
    // Bob's press left no trace in the thread.
    expect(h.discord.messages({ channel: kumo.id, author: h.discord.botUserId, afterId: ask.id, text: new RegExp(`${BOB}`), includeEphemeral: false })).toEqual([]);
  });

  it('lets an admin deny on the sender’s behalf', async () => {
    const echo = await (await h.say(ALICE, '!sb send kumo BASH again')).waitForBotReply({ channel: kumo.id, text: /📨/ });
    const ask = await inThread(kumo, /🔐 \*\*kumo\*\* asks permission/, echo);
    await h.discord.channel(kumo.id).user(ADMIN).clickButton(ask, buttonsOf(ask)[2]!.custom_id);
    expect((await inThread(kumo, /🚫 denied for \*\*kumo\*\*/, ask)).content).toContain(`by discord:${ADMIN}`);
    await inThread(kumo, /📋 \*\*kumo\*\* (finished|failed)/, ask);
  });
});

describe('a gateway reconnect in the middle of a watch', () => {
  it('resumes, answers what was typed meanwhile, and still posts the final output exactly once', async () => {
    const echo = await (await h.say(ALICE, '!sb send kumo TODO HOLDAFTER:rc1 survive a reconnect')).waitForBotReply({ channel: kumo.id, text: /📨/ });
    await inThread(kumo, /⚙️ \*\*kumo\*\* · working · \d+s · todo 2\/4/, echo);

    const reconnect = h.discord.forceReconnect();
    await reconnect.waitForResume({ timeoutMs: 15_000 });
    const drop = h.discord.dropConnection();
    // Typed while the bot is away: Discord replays it on RESUME.
    const asked = await h.say(BOB, '!sb status kumo', kumo.id);
    await drop.waitForResume({ timeoutMs: 15_000 });
    expect((await asked.waitForBotReply({ channel: kumo.id })).content).toContain('**kumo**');
    expect(h.discord.identifies()).toHaveLength(1);

    world.llm.release('rc1');
    const final = await inThread(kumo, /📋 \*\*kumo\*\* finished/, echo);
    expect(final.content).toContain('Done: TODO HOLDAFTER:rc1 survive a reconnect');
    // Something after it, through the same client: if the final were posted twice, it would be by now.
    const later = await (await h.say(ALICE, '!sb help abort', kumo.id)).waitForBotReply({ channel: kumo.id });
    const finals = h.discord.messages({ channel: kumo.id, author: h.discord.botUserId, afterId: echo.id, text: /📋 \*\*kumo\*\*/ });
    expect(finals.map((m) => m.id)).toEqual([final.id]);
    expect(later.seq).toBeGreaterThan(final.seq);
  });

  it('never let a bot message ping anyone', () => {
    expect(pingProblems(h.discord)).toEqual([]);
    expect(h.discord.problems()).toEqual([]);
    expect(h.logger.lines.filter((l) => l.startsWith('error'))).toEqual([]);
  });
});
