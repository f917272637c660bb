import { describe, expect, it } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { listButtons, type SlackMessage } from '../twins/slack/index.js';
import { ADMIN, ALICE, BOB, WORK, startHarness, startWork, type Harness } from './harness.js';
import { shown } from './slack-render.js';
import { warmUp } from './warm-up.js';

/**
 * An agent's question, answered from Slack end to end: the real `opencode` server runs its `question` tool
 * (the fake model asks "Which color?"), the monitor posts it with one button per option in the name's thread,
 * a press by someone the question is not for is refused privately, the sender's press answers it on the
 * server, and the run finishes with one final output, also when the bot restarted while the question waited.
 */
let h: Harness;

const world = useOpencodeWorld(async ({ server }, keep) => {
  await warmUp(server.url);
  h = keep(await startHarness({ mode: 'http', servers: { lab: server.url } }));
});

/** Creates `name`, sends it a prompt that makes the agent ask, and resolves with the echo and the question. */
async function ask(name: string, prompt: string, by = ALICE): Promise<{ echo: SlackMessage; question: SlackMessage }> {
  const echo = await startWork(h, name, prompt, by);
  const question = await h.botMessage(echo.seq, { threadTs: echo.ts, text: `❓ *${name}* asks: Which color? (Red / Blue)` });
  return { echo, question };
}

/** The tool result the model got back: OpenCode writes the answer into it. */
function toolResultMentioning(marker: string): string | undefined {
  const request = world.llm.requests.find((r) => r.afterToolResult && r.lastUserText.includes(marker));
  const tool = request?.messages.filter((m) => m.role === 'tool').at(-1);
  return tool === undefined ? undefined : JSON.stringify(tool.content);
}

const finals = (name: string, threadTs: string) => h.slack.messages({ channel: WORK, threadTs, text: new RegExp(`📋 \\*${name}\\* (finished|failed)`) });

describe('an agent’s question in Slack', { timeout: 150_000 }, () => {
  it('offers the options as buttons; someone else’s press is refused, the sender’s press answers and the run finishes once', async () => {
    const { echo, question } = await ask('hue', 'QUESTION-SLACK pick a color');
    expect(listButtons(question.blocks).map((b) => b.label)).toEqual(['Red', 'Blue']);
    expect(shown(question)).toContain('1. *Red* — warm\n2. *Blue* — cool');
    expect(shown(question)).toContain('Answer with `answer hue <choice>`, or `deny hue` to decline.');
    await h.slack.waitUntil(() => h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /⚙️ \*hue\* · asking a question ❓/ })[0], {
      timeoutMs: 30_000,
      description: 'the card asking a question',
    });

    // Bob may work here, but the question is Alice's: refused privately, nothing answered, the buttons stay.
    const before = h.mark();
    await h.slack.user(BOB).clickButton(question, { actionId: 'sb_choice_1' });
    const refusal = await h.ephemeral(before, { user: BOB, text: /❌/ });
    expect(refusal.threadTs).toBe(echo.ts);
    expect(decodeEntities(refusal.visibleText)).toContain(`slack:${BOB} may not answer the questions of hue: it belongs to slack:${ALICE}`);
    expect(h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /💬 answered/ })).toEqual([]);
    expect(listButtons(h.slack.message(WORK, question.ts)!.blocks)).toHaveLength(2);
    expect(toolResultMentioning('QUESTION-SLACK')).toBeUndefined();

    await h.slack.user(ALICE).clickButton(question, { actionId: 'sb_choice_1' });
    const answered = await h.botMessage(before, { threadTs: echo.ts, text: /💬 answered \*hue\*: Blue/ });
    expect(shown(answered)).toContain(`(by slack:${ALICE})`);
    const final = await h.botMessage(answered.seq, { threadTs: echo.ts, text: /📋 \*hue\* finished · ✅/ });
    expect(shown(final)).toContain('Done: QUESTION-SLACK pick a color');
    expect(toolResultMentioning('QUESTION-SLACK')).toContain('\\"Which color?\\"=\\"Blue\\"');
    const retired = h.slack.message(WORK, question.ts)!;
    expect(listButtons(retired.blocks)).toEqual([]);
    expect(retired.visibleText).toContain(`✓ *Blue* · chosen by <@${ALICE}>`);

    // A second press on the retired question changes nothing.
    const late = h.mark();
    await h.sb(ADMIN, 'status hue');
    expect(shown(await h.botMessage(late, { text: /\*hue\* · OpenCode/ }))).toContain('💤 idle');
    expect(finals('hue', echo.ts)).toHaveLength(1);
  });

  it('takes the answer after a restart of the bot: the question is still answerable, and the final arrives once', async () => {
    const { echo, question } = await ask('tint', 'QUESTION-RESTART pick again');
    await h.restart();

    // After the restart the buttons still belong to Alice only.
    const before = h.mark();
    await h.slack.user(BOB).clickButton(question, { actionId: 'sb_choice_0' });
    expect(decodeEntities((await h.ephemeral(before, { user: BOB, text: /❌/ })).visibleText)).toContain(
      `slack:${BOB} may not answer the questions of tint: it belongs to slack:${ALICE}`,
    );
    await h.slack.user(ALICE).clickButton(question, { actionId: 'sb_choice_0' });
    const answered = await h.botMessage(before, { threadTs: echo.ts, text: /💬 answered \*tint\*: Red/ });
    const final = await h.botMessage(answered.seq, { threadTs: echo.ts, text: /📋 \*tint\* finished · ✅/ });
    expect(shown(final)).toContain('Done: QUESTION-RESTART pick again');
    expect(toolResultMentioning('QUESTION-RESTART')).toContain('\\"Which color?\\"=\\"Red\\"');
    // Asked once (the restarted monitor knew it had asked), answered once, finished once.
    const late = h.mark();
    await h.sb(ALICE, 'status tint');
    expect(shown(await h.botMessage(late, { text: /\*tint\* · OpenCode/ }))).toContain('💤 idle');
    expect(h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /❓ \*tint\* asks/ })).toHaveLength(1);
    expect(h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /💬 answered \*tint\*/ })).toHaveLength(1);
    expect(finals('tint', echo.ts)).toHaveLength(1);
  });
});
