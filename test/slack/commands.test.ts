import { describe, expect, it } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { listButtons, type SlackMessage } from '../twins/slack/index.js';
import { ADMIN, ALICE, BLOCKED, BOB, EVE, WORK, startHarness, type Harness } from './harness.js';
import { liveMarkup, preformattedTexts, sectionTexts, shown } from './slack-render.js';
import { warmUp } from './warm-up.js';

/**
 * Every verb through `/sb` over Slack's HTTP transport: the real Bolt App (signed requests from the twin), the
 * real core on SQLite, and a real `opencode` server driven by the scripted fake LLM.
 */
let h: Harness;

const world = useOpencodeWorld(async ({ server }, keep) => {
  await warmUp(server.url);
  h = keep(await startHarness({ mode: 'http', servers: { lab: server.url } }));
});

/** The monitor's last word on a name, in its thread: after it the session is idle and its output is final. */
function finalReport(after: SlackMessage, name: string, threadTs = after.ts): Promise<SlackMessage> {
  return h.botMessage(after.seq, { threadTs, text: new RegExp(`📋 \\*${name}\\* (finished|failed)`) });
}

describe('/sb over HTTP, with a real OpenCode server', { timeout: 150_000 }, () => {
  it('acks at once and answers help in the channel, attributed to the person who asked', async () => {
    const at = h.mark();
    const ack = await h.sb(ALICE, 'help');
    expect(ack.status).toBe(200);
    expect(ack.empty).toBe(true);
    const message = await h.botMessage(at, { text: /help <command>/ });
    for (const verb of ['sessions', 'new', 'attach', 'send', 'status', 'todo', 'last', 'abort', 'agents', 'forget']) {
      expect(shown(message)).toMatch(new RegExp(`^  ${verb} `, 'm'));
    }
    expect(liveMarkup(message.visibleText)).toEqual([`<@${ALICE}>`]);
    expect(message.visibleText).toMatch(/requested by <@UALICE>$/);
  });

  it('creates a session with --agent, lists agents and sessions', async () => {
    let at = h.mark();
    await h.sb(ALICE, 'new kumo lab --agent build');
    const created = await h.botMessage(at, { text: /kumo/ });
    expect(shown(created)).toMatch(/🆕 \*kumo\* → OpenCode session `ses_\w+` on lab/);

    at = h.mark();
    await h.sb(BOB, 'agents lab');
    const agents = await h.botMessage(at, { text: /Agents on lab/ });
    expect(shown(agents)).toContain('• *build*');
    expect(agents.visibleText).toContain(`requested by <@${BOB}>`);

    at = h.mark();
    await h.sb(ALICE, 'sessions');
    expect(shown(await h.botMessage(at, { text: /kumo/ }))).toMatch(/kumo .*opencode on lab/);

    at = h.mark();
    await h.sb(ALICE, 'watch kumo 5m');
    expect(shown(await h.botMessage(at, { text: /watching/ }))).toContain('👀 watching *kumo* every 5m');
    at = h.mark();
    await h.sb(ALICE, 'unwatch kumo');
    expect(shown(await h.botMessage(at, { text: /no longer watching/ }))).toContain('🙈 no longer watching *kumo*');
  });

  it('offers agents as buttons when --agent is missing; the pick creates the session and retires the buttons', async () => {
    const at = h.mark();
    await h.sb(ALICE, 'new lab');
    const offer = await h.botMessage(at, { text: /Which agent should/ });
    const buttons = listButtons(offer.blocks);
    expect(buttons.map((b) => b.label)).toEqual(['build', 'plan']);
    const name = /Which agent should \*([a-z]{4})\*/.exec(offer.visibleText)?.[1];
    expect(name).toBeDefined();

    // The choice is Alice's: Bob's press is refused privately, creates nothing, and leaves the buttons.
    const beforeBob = h.mark();
    await h.slack.user(BOB).clickButton(offer, { actionId: 'sb_choice_0' });
    const refusal = await h.ephemeral(beforeBob, { user: BOB, text: /❌/ });
    expect(decodeEntities(refusal.visibleText)).toContain(`slack:${BOB} may not pick the agent of ${name}: it belongs to slack:${ALICE}`);
    expect(h.app.switchboard.services.registry.isTaken(name!)).toBe(false);
    expect(listButtons(h.slack.message(WORK, offer.ts)!.blocks)).toHaveLength(2);

    const click = await h.slack.user(ALICE).clickButton(offer, { actionId: 'sb_choice_1' });
    expect(click.status).toBe(200);
    const created = await h.botMessage(offer.seq, { text: new RegExp(`🆕 \\*${name}\\*`) });
    expect(shown(created)).toContain('agent plan');
    const retired = await h.slack.waitUntil(() => {
      const now = h.slack.message(WORK, offer.ts);
      return now?.edited ? now : undefined;
    });
    expect(listButtons(retired.blocks)).toEqual([]);
    expect(retired.visibleText).toContain(`✓ *plan* · chosen by <@${ALICE}>`);
  });

  it('echoes a hostile prompt exactly and inertly, opens the name’s thread, and relays the same bytes', async () => {
    const prompt = 'check <@U123> <!here> <!channel> &lt; *bold* _it_ ~no~ <https://evil.example|click> ```js\nrm -rf /\n``` `tick` & done';
    const at = h.mark();
    await h.sb(ALICE, `send kumo ${prompt}`);
    const echo = await h.botMessage(at, { text: /📨/ });
    expect(echo.threadTs).toBeUndefined();
    expect(shown(echo)).toContain('📨 *kumo* ← alice (agent build)');
    // The prompt is one preformatted block holding its exact text (Slack parses nothing there); our prose
    // around it is mrkdwn, where nothing of the prompt appears.
    expect(preformattedTexts(echo.blocks)).toEqual([prompt]);
    expect(liveMarkup(sectionTexts(echo.blocks).join('\n'))).toEqual([]);
    expect(sectionTexts(echo.blocks).join('\n')).not.toContain('rm -rf');
    expect(liveMarkup(echo.text)).toEqual([]);
    expect((await world.llm.waitForRequest('check <@U123>')).lastUserText).toBe(prompt);

    // The next prompt for the same name lands in that thread.
    // The agent's output quotes the prompt; in Slack it is just as inert as the echo.
    const first = await finalReport(echo, 'kumo');
    expect(shown(first)).toContain('Done: check <@U123> <!here>');
    expect(liveMarkup(first.visibleText)).toEqual([]);
    const again = h.mark();
    await h.sb(ALICE, 'send kumo TODO second round');
    const second = await h.botMessage(again, { text: /TODO second round/ });
    expect(second.threadTs).toBe(echo.ts);
    expect(shown(await finalReport(second, 'kumo', echo.ts))).toContain('Done: TODO second round');
  });

  it('answers status, todo and last once the agent is done', async () => {
    let at = h.mark();
    await h.sb(BOB, 'status kumo');
    const status = shown(await h.botMessage(at, { text: /\*kumo\* · OpenCode/ }));
    expect(status).toContain('💤 idle');
    expect(status).toContain('todo 2/4 · 🔄 Fix parse() and run the tests');

    at = h.mark();
    await h.sb(BOB, 'todo kumo');
    expect(shown(await h.botMessage(at, { text: /todo 2\/4/ }))).toContain('✅ Read the failing test\n✅ Find the bug in parse()\n🔄 Fix parse() and run the tests\n🔲 Update the changelog');

    at = h.mark();
    await h.sb(BOB, 'last kumo');
    expect(shown(await h.botMessage(at, { text: /latest output/ }))).toContain('Done: TODO second round');
  });

  it('echoes a prompt with bidirectional controls byte for byte, and says they are there in a line of its own', async () => {
    await h.sb(ALICE, 'new bidi lab --agent build');
    await h.botMessage(0, { text: /🆕 \*bidi\*/ });
    // Displayed, this reads "approve the txt.exe" turned around: the overrides reorder it.
    const prompt = 'approve \u202eexe.txt\u202c and \u2066isolated\u2069 then \u202edone';
    const at = h.mark();
    await h.sb(ALICE, `send bidi ${prompt}`);
    const echo = await h.botMessage(at, { text: /📨 \*bidi\*/ });
    expect(preformattedTexts(echo.blocks)).toEqual([prompt]);
    expect(shown(echo)).toContain(
      '⚠️ this prompt contains 2 right-to-left override characters (U+202E), 1 pop directional formatting character (U+202C), ' +
        '1 left-to-right isolate character (U+2066) and 1 pop directional isolate character (U+2069)',
    );
    // The marker is ours: the controls themselves are only inside the code block.
    expect(sectionTexts(echo.blocks).join('\n')).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect((await world.llm.waitForRequest('approve \u202e')).lastUserText).toBe(prompt);
    await finalReport(echo, 'bidi', echo.threadTs ?? echo.ts);
  });

  it('attaches a 10 000-character prompt as a file, byte for byte, and splits the 10 000-character output with markers', async () => {
    await h.sb(ALICE, 'new long lab --agent build');
    await h.botMessage(0, { text: /🆕 \*long\*/ });
    const words = Array.from({ length: 2_000 }, (_, i) => `w${i}<&>`).join(' ');
    // No trailing space: OpenCode trims the agent's final text, and the output should equal `Done: <prompt>`.
    const prompt = `${`BIG ${words}`.slice(0, 9_999)}Z`;
    expect(prompt).toHaveLength(10_000);

    const at = h.mark();
    await h.sb(ALICE, `send long ${prompt}`);
    const echo = await h.botMessage(at, { text: /📨 \*long\*/ });
    expect(shown(echo)).toContain('📎 The full text (10,000 characters) is attached as `long-text.txt`');
    const file = await h.slack.waitForFile({ filename: 'long-text.txt' });
    expect(file.text).toBe(prompt);
    expect(file.content.equals(Buffer.from(prompt, 'utf8'))).toBe(true);
    expect(file.threadTs).toBe(echo.ts);
    expect((await world.llm.waitForRequest('BIG w0<&>')).lastUserText).toBe(prompt);

    await finalReport(echo, 'long');
    const before = h.mark();
    await h.sb(ALICE, 'last long');
    const first = await h.botMessage(before, { text: /^\(1\/\d\)\n\*long\* latest output/, topLevel: true });
    const count = Number(/^\(1\/(\d)\)/.exec(first.visibleText)![1]);
    // Escaping makes `<&>` three times longer, so 10 000 characters need several messages.
    expect(count).toBeGreaterThan(1);
    const pieces = await h.slack.waitForMessages(count, { channel: WORK, topLevel: true, predicate: (m) => m.seq >= first.seq });
    pieces.forEach((m, i) => expect(m.visibleText.startsWith(`(${i + 1}/${count})\n`)).toBe(true));
    const body = pieces.flatMap((m) => sectionTexts(m.blocks)).filter((t) => !t.startsWith('*long*'));
    expect(decodeEntities(body.join(''))).toBe(`Done: ${prompt}`);
    expect(pieces.flatMap((m) => liveMarkup(m.visibleText))).toEqual([`<@${ALICE}>`]);
  });

  it('attaches, aborts busy work and forgets a name', async () => {
    const sessions = (await (await fetch(`${world.server.url}/session`)).json()) as Array<{ id: string }>;
    const existing = sessions.at(-1)!.id;
    let at = h.mark();
    await h.sb(ALICE, `attach adopted lab ${existing}`);
    expect(shown(await h.botMessage(at, { text: /🔗/ }))).toContain(`🔗 *adopted* → OpenCode session \`${existing}\``);

    at = h.mark();
    await h.sb(ALICE, 'send adopted HOLD:slack-abort wait here');
    const echo = await h.botMessage(at, { text: /📨 \*adopted\*/ });
    await world.llm.waitForRequest('HOLD:slack-abort');
    at = h.mark();
    await h.sb(ALICE, 'abort adopted');
    expect(shown(await h.botMessage(at, { text: /⏹/ }))).toContain('⏹ abort sent to *adopted*');
    expect(shown(await finalReport(echo, 'adopted'))).toContain('❌ aborted');
    world.llm.release('slack-abort');

    at = h.mark();
    await h.sb(ADMIN, 'forget adopted');
    expect(shown(await h.botMessage(at, { text: /🗑/ }))).toContain(`🗑 forgot *adopted*; its OpenCode session ${existing}`);
  });

  it('answers a bad command privately to the person who typed it, and says what was wrong', async () => {
    const at = h.mark();
    await h.sb(ALICE, 'sned kumo hi');
    const error = await h.ephemeral(at, { user: ALICE });
    expect(decodeEntities(error.visibleText)).toContain('❌ unknown command `sned` (did you mean `send`?)');
    expect(h.slack.messages({ channel: WORK }).filter((m) => m.seq > at)).toEqual([]);
  });

  it('tells someone who is not allowed how an admin can allow them, privately', async () => {
    const at = h.mark();
    await h.sb(EVE, 'send kumo let me in');
    const refusal = decodeEntities((await h.ephemeral(at, { user: EVE })).visibleText);
    expect(refusal).toContain('slack:UEVE may not');
    expect(refusal).toContain('SLACK_ALLOWED_USERS');
  });

  it('refuses a channel that is not allowed and says how to allow it', async () => {
    const at = h.mark();
    await h.sb(ALICE, 'sessions', { channel: BLOCKED });
    const refusal = decodeEntities((await h.ephemeral(at, { user: ALICE, channel: BLOCKED })).visibleText);
    expect(refusal).toContain(`this channel (${BLOCKED}) may not command Switchboard`);
    expect(refusal).toContain(`add ${BLOCKED} to SLACK_ALLOWED_CHANNELS`);
    expect(h.slack.messages({ channel: BLOCKED })).toEqual([]);
  });

  it('takes commands by @-mention inside a name’s thread, and answers in that thread', async () => {
    const echo = h.slack.messages({ channel: WORK, text: /📨 \*kumo\*/, topLevel: true })[0]!;
    const at = h.mark();
    await h.slack.user(BOB).say(`<@${h.slack.bot.userId}> todo kumo`, { channel: WORK, threadTs: echo.ts });
    const answer = await h.botMessage(at, { text: /todo 2\/4/ });
    expect(answer.threadTs).toBe(echo.ts);
  });
});
