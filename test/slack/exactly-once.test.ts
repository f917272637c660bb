import { describe, expect, it } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { promptRuns, waitForPromptRun } from '../fakes/llm/fake-llm.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { listButtons, type SlackMessage } from '../twins/slack/index.js';
import { ALICE, startHarness, WORK, type Harness } from './harness.js';
import { warmUp } from './warm-up.js';

/**
 * Slack delivers at least once; Switchboard runs each delivery once. Real Bolt over HTTP against the twin, which
 * retries as Slack does (deadline 1 s and retries at once, after 4 s, after 4 s: Slack's shape, shorter), and the
 * real opencode with the scripted model, so "one run" is counted where it matters: prompts at the model.
 */
let h: Harness;
const BOT = 'UBOT0001';

const world = useOpencodeWorld(async ({ server }, keep) => {
  await warmUp(server.url);
  h = keep(await startHarness({
    mode: 'http',
    servers: { lab: server.url },
    // Only app_mention: a mention is then one event, and a lost delivery is that event's.
    twin: { subscribedEvents: ['app_mention'], eventRetries: { ackDeadlineMs: 1_000, retryDelaysMs: [0, 4_000, 4_000] } },
  }));
  const at = h.mark();
  await h.sb(ALICE, 'new kumo lab --agent build');
  await h.botMessage(at, { text: /🆕 \*kumo\*/ });
});

function echoes(marker: string, after: number): SlackMessage[] {
  return h.slack.messages({ channel: WORK, user: 'bot' }).filter((m) => m.seq > after && /📨/.test(m.visibleText) && m.visibleText.includes(marker));
}

/** Long enough for a second run, had there been one, to reach the model and the channel. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1_500));

describe('a mention Slack delivers more than once runs once', { timeout: 120_000 }, () => {
  it('a retry (same event_id, X-Slack-Retry-Num 1) of a mention that ran: one echo, one prompt at the model', async () => {
    const at = h.mark();
    h.slack.loseNextEvent('response');
    const said = await h.slack.user(ALICE).say(`<@${BOT}> send kumo RETRIED-ONCE fix the flaky test`, { channel: WORK });
    expect(h.slack.eventAttempts().slice(-2).map((a) => [a.retryNum, a.retryReason, a.outcome])).toEqual([
      [0, undefined, 'http_timeout'],
      [1, 'http_timeout', 200],
    ]);
    expect(said.acks.at(-1)).toMatchObject({ status: 200 });
    await h.botMessage(at, { text: /📨 \*kumo\*/ });
    await waitForPromptRun(world.llm, 'RETRIED-ONCE');
    await settle();
    expect(echoes('RETRIED-ONCE', at)).toHaveLength(1);
    expect(promptRuns(world.llm, 'RETRIED-ONCE')).toBe(1);
    expect(h.app.switchboard.services.audit.list({ target: 'kumo' }).filter((e) => e.prompt?.includes('RETRIED-ONCE'))).toHaveLength(1);
  });

  it('a retry that arrives after a restart of the bot is still recognised', async () => {
    const at = h.mark();
    // The answer to the first delivery is lost, and so is the retry Slack sends at once (the bot is restarting);
    // the second retry, four seconds on, reaches the restarted bot.
    h.slack.loseNextEvent('response');
    h.slack.loseNextEvent('request');
    const saying = h.slack.user(ALICE).say(`<@${BOT}> send kumo ACROSS-RESTART fix it`, { channel: WORK });
    await h.botMessage(at, { text: /ACROSS-RESTART/ });
    await h.restart();
    const said = await saying;
    expect(said.acks.at(-1)).toMatchObject({ status: 200 });
    const attempts = h.slack.eventAttempts().filter((a) => a.eventId === h.slack.eventAttempts().at(-1)!.eventId);
    // The second retry may find the bot still restarting (connection refused); then the third gets through.
    expect(attempts.slice(0, 2).map((a) => [a.retryNum, a.outcome])).toEqual([
      [0, 'http_timeout'],
      [1, 'http_timeout'],
    ]);
    expect(attempts.at(-1)).toMatchObject({ outcome: 200 });
    await waitForPromptRun(world.llm, 'ACROSS-RESTART');
    await settle();
    expect(echoes('ACROSS-RESTART', at)).toHaveLength(1);
    expect(promptRuns(world.llm, 'ACROSS-RESTART')).toBe(1);
    expect(h.logger.lines.some((l) => l.includes('a repeated delivery was ignored'))).toBe(true);
  });

  it('a first delivery lost before it reached the bot: its retry runs, exactly once', async () => {
    const at = h.mark();
    h.slack.loseNextEvent('request');
    await h.slack.user(ALICE).say(`<@${BOT}> send kumo LOST-FIRST fix it`, { channel: WORK });
    expect(h.slack.eventAttempts().slice(-2).map((a) => [a.retryNum, a.outcome])).toEqual([
      [0, 'http_timeout'],
      [1, 200],
    ]);
    await h.botMessage(at, { text: /LOST-FIRST/ });
    await waitForPromptRun(world.llm, 'LOST-FIRST');
    await settle();
    expect(echoes('LOST-FIRST', at)).toHaveLength(1);
    expect(promptRuns(world.llm, 'LOST-FIRST')).toBe(1);
  });
});

describe('a button pressed twice', { timeout: 120_000 }, () => {
  it('runs once; the second press is told who chose', async () => {
    const at = h.mark();
    await h.sb(ALICE, 'new lab');
    const offer = await h.botMessage(at, { text: /Which agent should/ });
    const name = /Which agent should \*([a-z]{4})\*/.exec(offer.visibleText)?.[1];
    expect(name).toBeDefined();

    const alice = h.slack.user(ALICE);
    const [first, second] = await Promise.all([alice.clickButton(offer, { actionId: 'sb_choice_0' }), alice.clickButton(offer, { actionId: 'sb_choice_0' })]);
    expect([first.status, second.status]).toEqual([200, 200]);

    const created = await h.botMessage(offer.seq, { text: new RegExp(`🆕 \\*${name}\\*`) });
    const told = await h.ephemeral(offer.seq, { user: ALICE, text: /already chosen/ });
    expect(decodeEntities(told.visibleText)).toContain('that choice was already chosen by alice');
    await settle();
    const createdMessages = h.slack.messages({ channel: WORK, user: 'bot' }).filter((m) => m.seq > offer.seq && m.visibleText.includes(`🆕 *${name}*`));
    expect(createdMessages.map((m) => m.ts)).toEqual([created.ts]);
    expect(listButtons(h.slack.message(WORK, offer.ts)!.blocks)).toEqual([]);
    const audited = h.app.switchboard.services.audit.list({ target: name! }).filter((e) => e.verb === 'new' && e.outcome === 'ok' && e.command?.includes('--agent'));
    expect(audited).toHaveLength(1);
  });
});
