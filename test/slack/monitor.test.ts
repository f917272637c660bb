import { describe, expect, it, onTestFinished } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { listButtons } from '../twins/slack/index.js';
import { ADMIN, ALICE, BOB, WORK, startHarness, startWork, type Harness } from './harness.js';
import { liveMarkup, sectionTexts, shown } from './slack-render.js';
import { warmUp } from './warm-up.js';

/**
 * What the monitor posts, as Slack shows it: one live card per run and final outputs in the name's thread, long outputs
 * split with markers, and permission requests as buttons that only the sender (or an admin) can use.
 */
let h: Harness;

const world = useOpencodeWorld(async ({ server }, keep) => {
  await warmUp(server.url);
  h = keep(await startHarness({ mode: 'http', servers: { lab: server.url } }));
}, { permission: { bash: 'ask' } });

describe('monitor reports in Slack', { timeout: 150_000 }, () => {
  it('keeps one card in the thread the echo opened, edited as the run goes; the final output is a new message', async () => {
    onTestFinished(() => world.llm.release('sp1'));
    const echo = await startWork(h, 'prog', 'TODO HOLDAFTER:sp1 tidy the parser');
    const cards = () => h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /⚙️ \*prog\* ·/ });
    // While the run is held after its todo list, the card shows the checklist, the active item and the usage so far.
    const live = await h.slack.waitUntil(() => cards().find((m) => /todo 2\/4/.test(shown(m))), { timeoutMs: 60_000, description: 'the card with its todo list' });
    expect(shown(live)).toMatch(/⚙️ \*prog\* · working · \d+s · todo 2\/4/);
    expect(shown(live)).toContain('✅ Read the failing test');
    expect(shown(live)).toContain('🔄 Fix parse() and run the tests');
    expect(shown(live)).toContain('🔲 Update the changelog');
    expect(shown(live)).toMatch(/tokens 10 in · 5 out · \$0\.1\d · context 2%/);
    // (Posted with the list already, if the list came while the post still waited behind the echo: no edit yet.)
    world.llm.release('sp1');

    const final = await h.botMessage(echo.seq, { threadTs: echo.ts, text: /📋 \*prog\* finished · ✅/ });
    expect(shown(final)).toContain('Done: TODO HOLDAFTER:sp1 tidy the parser');
    expect(shown(final)).toMatch(/· 30 tokens · \$0\.21/);
    const done = await h.slack.waitUntil(() => cards().find((m) => /finished ✅/.test(shown(m))), { timeoutMs: 30_000, description: 'the card’s final state' });
    expect(shown(done)).toMatch(/⚙️ \*prog\* · finished ✅ \d+s · todo 2\/4/);
    expect(shown(done)).toMatch(/tokens 20 in · 10 out · \$0\.21/);
    // One card for the run, posted after the echo and before the final output, then only edited.
    expect(cards()).toHaveLength(1);
    expect(done.ts).toBe(live.ts);
    expect(done.seq).toBeGreaterThan(echo.seq);
    expect(done.seq).toBeLessThan(final.seq);
    expect(done.edits.length).toBeGreaterThan(live.edits.length);
    expect(h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /📋 \*prog\*/ })).toHaveLength(1);
    // The monitor speaks for nobody: no attribution, no mention.
    expect(liveMarkup(final.visibleText)).toEqual([]);
    expect(h.slack.messages({ channel: WORK, topLevel: true, predicate: (m) => m.seq > echo.seq && /prog\* (finished|·)/.test(m.visibleText) })).toEqual([]);
  });

  it('keeps editing the same card after a restart of the bot in the middle of the run', async () => {
    onTestFinished(() => world.llm.release('rs1'));
    const echo = await startWork(h, 'phoe', 'TODO HOLDAFTER:rs1 survive a restart');
    const cards = () => h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /⚙️ \*phoe\* ·/ });
    const before = await h.slack.waitUntil(() => cards().find((m) => /todo 2\/4/.test(shown(m))), { timeoutMs: 60_000, description: 'the card with its todo list' });
    await h.restart();
    world.llm.release('rs1');
    await h.botMessage(echo.seq, { threadTs: echo.ts, text: /📋 \*phoe\* finished · ✅/ });
    const done = await h.slack.waitUntil(() => cards().find((m) => /finished ✅/.test(shown(m))), { timeoutMs: 30_000, description: 'the card’s final state' });
    // The key comes from the prompt (persisted), so the restarted monitor drew onto the same message.
    expect(done.ts).toBe(before.ts);
    expect(cards()).toHaveLength(1);
    expect(h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /📋 \*phoe\*/ })).toHaveLength(1);
  });

  it('splits a 10 000-character final output over numbered messages in the thread, losing nothing', async () => {
    const line = Array.from({ length: 2_500 }, (_, i) => `r${i}`).join(' ');
    const prompt = `${`LONGOUT ${line}`.slice(0, 9_999)}Z`;
    expect(prompt).toHaveLength(10_000);
    const echo = await startWork(h, 'bulk', prompt);
    const first = await h.botMessage(echo.seq, { threadTs: echo.ts, text: /^\(1\/\d\)\n📋 \*bulk\* finished/ });
    const count = Number(/^\(1\/(\d)\)/.exec(first.visibleText)![1]);
    expect(count).toBeGreaterThan(1);
    const pieces = await h.slack.waitForMessages(count, { channel: WORK, threadTs: echo.ts, predicate: (m) => m.seq >= first.seq });
    pieces.forEach((m, i) => expect(m.visibleText.startsWith(`(${i + 1}/${count})\n`)).toBe(true));
    const body = pieces.flatMap((m) => sectionTexts(m.blocks)).filter((t) => !t.startsWith('📋'));
    expect(decodeEntities(body.join(''))).toBe(`Done: ${prompt}`);
  });

  it('asks permission with buttons; another member is refused privately, the sender approves', async () => {
    const echo = await startWork(h, 'perm', 'BASH say hi');
    const ask = await h.botMessage(echo.seq, { threadTs: echo.ts, text: /🔐 \*perm\* asks permission/ });
    // The request is its own message (it needs attention); the run's card says what the run waits for.
    await h.slack.waitUntil(() => h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /⚙️ \*perm\* · waiting for approval 🔐/ })[0], {
      timeoutMs: 30_000,
      description: 'the card waiting for approval',
    });
    expect(listButtons(ask.blocks).map((b) => [b.label, b.style])).toEqual([
      ['Approve once', 'primary'],
      ['Always', undefined],
      ['Deny', 'danger'],
    ]);

    const before = h.mark();
    await h.slack.user(BOB).clickButton(ask, { actionId: 'sb_choice_0' });
    const refusal = await h.ephemeral(before, { user: BOB });
    expect(refusal.threadTs).toBe(echo.ts);
    expect(decodeEntities(refusal.visibleText)).toContain(`slack:${BOB} may not answer the permission requests of perm: it belongs to slack:${ALICE}`);
    // Nothing was approved, and the buttons are still there for the sender.
    expect(h.slack.messages({ channel: WORK, threadTs: echo.ts, text: /approved/ })).toEqual([]);
    expect(listButtons(h.slack.message(WORK, ask.ts)!.blocks)).toHaveLength(3);

    await h.slack.user(ALICE).clickButton(ask, { actionId: 'sb_choice_0' });
    const approved = await h.botMessage(before, { threadTs: echo.ts, text: /✅ approved once for \*perm\*/ });
    expect(shown(approved)).toContain('`bash echo hi-from-bash`');
    const final = await h.botMessage(approved.seq, { threadTs: echo.ts, text: /📋 \*perm\* finished · ✅/ });
    expect(shown(final)).toContain('Done: BASH say hi');
    expect(listButtons(h.slack.message(WORK, ask.ts)!.blocks)).toEqual([]);
  });

  it('lets an admin answer someone else’s permission request', async () => {
    const echo = await startWork(h, 'perm2', 'BASH again please', BOB);
    const ask = await h.botMessage(echo.seq, { threadTs: echo.ts, text: /🔐 \*perm2\* asks permission/ });
    await h.slack.user(ADMIN).clickButton(ask, { actionId: 'sb_choice_2' });
    const denied = await h.botMessage(ask.seq, { threadTs: echo.ts, text: /🚫 denied for \*perm2\*/ });
    expect(shown(denied)).toContain(`(by slack:${ADMIN})`);
    expect(denied.visibleText).toContain(`requested by <@${ADMIN}>`);
  });
});
