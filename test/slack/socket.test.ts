import { SocketModeReceiver } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { boltLoggerFor } from '../../adapters/slack/bolt-logger.js';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { envelopeIdOf } from '../../adapters/slack/receiver.js';
import { promptRuns, waitForPromptRun } from '../fakes/llm/fake-llm.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { listButtons } from '../twins/slack/index.js';
import { ALICE, BOB, recordingLogger, startHarness, type Harness } from './harness.js';
import { liveMarkup, preformattedTexts, sectionTexts } from './slack-render.js';
import { warmUp } from './warm-up.js';

/**
 * The same bot over Socket Mode: Bolt dials the twin's WebSocket, commands and clicks arrive as envelopes and
 * are acked over the socket. The receiver is passed in with a short ping timeout so a reconnect is quick.
 */
let h: Harness;

const world = useOpencodeWorld(async ({ server }, keep) => {
  await warmUp(server.url);
  h = keep(await startHarness({
    mode: 'socket',
    servers: { lab: server.url },
    receiver: (slack) =>
      new SocketModeReceiver({
        appToken: slack.appToken,
        logger: boltLoggerFor(recordingLogger()),
        // Short enough for a quick reconnect, long enough that a busy machine does not miss pongs.
        clientPingTimeout: 1_000,
        installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
        customPropertiesExtractor: envelopeIdOf,
      }),
  }));
});

describe('/sb over Socket Mode', { timeout: 150_000 }, () => {
  it('acks over the socket and answers in the channel', async () => {
    const at = h.mark();
    const ack = await h.sb(ALICE, 'help send');
    expect(ack).toMatchObject({ via: 'socket', status: 200, empty: true });
    const answer = await h.botMessage(at, { text: /usage: send/ });
    expect(answer.visibleText).toContain(`requested by <@${ALICE}>`);
  });

  it('offers agents as buttons and takes the pick over the socket', async () => {
    const at = h.mark();
    await h.sb(BOB, 'new sock lab');
    const offer = await h.botMessage(at, { text: /Which agent should \*sock\*/ });
    const click = await h.slack.user(BOB).clickButton(offer, { actionId: 'sb_choice_0' });
    expect(click.via).toBe('socket');
    const created = await h.botMessage(offer.seq, { text: /🆕 \*sock\*/ });
    expect(decodeEntities(created.visibleText)).toContain('agent build');
  });

  it('echoes a hostile prompt inertly and relays it exactly', async () => {
    const prompt = '<!channel> ping <@U999> then ``` close & <https://x.example|open>';
    const at = h.mark();
    await h.sb(BOB, `send sock ${prompt}`);
    const echo = await h.botMessage(at, { text: /📨 \*sock\*/ });
    expect(preformattedTexts(echo.blocks)).toEqual([prompt]);
    expect(liveMarkup(sectionTexts(echo.blocks).join('\n'))).toEqual([]);
    expect((await world.llm.waitForRequest('ping <@U999>')).lastUserText).toBe(prompt);
  });

  it('runs a command whose envelope came again after a reconnect (its ack was lost) once', async () => {
    const made = h.mark();
    await h.sb(BOB, 'new once lab --agent build');
    await h.botMessage(made, { text: /🆕 \*once\*/ });
    const at = h.mark();
    h.slack.loseNextEnvelope('response');
    const ack = await h.sb(BOB, 'send once REDELIVERED-ENVELOPE check the build');
    expect(ack.via).toBe('socket');
    const sent = h.slack.envelopes().filter((e) => e.type === 'slash_commands').at(-1)!;
    await h.botMessage(at, { text: /REDELIVERED-ENVELOPE/ });
    await waitForPromptRun(world.llm, 'REDELIVERED-ENVELOPE');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(h.logger.lines.some((l) => l.includes('a repeated delivery was ignored') && l.includes(`slack:envelope:${sent.envelopeId}`))).toBe(true);
    const echoes = h.slack.messages({ user: 'bot' }).filter((m) => m.seq > at && m.visibleText.includes('📨') && m.visibleText.includes('REDELIVERED-ENVELOPE'));
    expect(echoes).toHaveLength(1);
    expect(promptRuns(world.llm, 'REDELIVERED-ENVELOPE')).toBe(1);
  });

  it('reconnects when Slack asks it to, and keeps answering', async () => {
    const opens = h.slack.apiCalls({ method: 'apps.connections.open' }).length;
    h.slack.requestSocketReconnect();
    await h.slack.waitUntil(() => h.slack.apiCalls({ method: 'apps.connections.open' }).length > opens, {
      description: 'a new apps.connections.open',
    });
    await h.slack.waitForSocketConnection();
    const at = h.mark();
    const ack = await h.sb(ALICE, 'help todo');
    expect(ack.via).toBe('socket');
    await h.botMessage(at, { text: /usage: todo/ });
    expect(listButtons((await h.botMessage(at, { text: /usage: todo/ })).blocks)).toEqual([]);
  });
});
