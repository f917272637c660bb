import type { AddressInfo } from 'node:net';
import { App, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlackTwin, type SlackTwin } from './index.js';

/**
 * Slack delivers at least once: the twin retries as Slack does, driven by the real Bolt App. Events API over HTTP
 * is retried (same event_id, X-Slack-Retry-Num/-Reason) when no 2xx came within the deadline; a Socket Mode
 * envelope whose ack was lost comes again after the reconnect. Deadline and delays are shortened, not skipped.
 */
const SECRET = 'twin-retries-signing-secret';
const BOT = 'UBOT0001';

interface Seen {
  eventId: string;
  retryNum: number | undefined;
  retryReason: string | undefined;
}

let slack: SlackTwin;
let app: App | undefined;

beforeEach(async () => {
  // Only app_mention, so each say() is one event and a loss lands on it.
  slack = await startSlackTwin({ signingSecret: SECRET, subscribedEvents: ['app_mention'], eventRetries: { ackDeadlineMs: 300, retryDelaysMs: [0, 50, 100] } });
  app = undefined;
});

afterEach(async () => {
  await app?.stop();
  await slack.close();
});

/** `processBeforeResponse`: the HTTP answer waits for the listener, so a slow listener misses Slack's deadline. */
async function startHttpApp(listenerDelayMs = 0): Promise<Seen[]> {
  const seen: Seen[] = [];
  app = new App({ token: slack.botToken, signingSecret: SECRET, logLevel: LogLevel.ERROR, processBeforeResponse: true, clientOptions: { slackApiUrl: slack.apiUrl } });
  app.event('app_mention', async ({ body, context }) => {
    seen.push({ eventId: body.event_id, retryNum: context.retryNum, retryReason: context.retryReason });
    await new Promise((resolve) => setTimeout(resolve, listenerDelayMs));
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  slack.setEventsUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
  return seen;
}

describe('Events API retries over HTTP', () => {
  it('retries an event whose answer was lost, with the same event_id and X-Slack-Retry-Num 1 (http_timeout)', async () => {
    const seen = await startHttpApp();
    slack.loseNextEvent('response');
    const { acks } = await slack.user('U1').say(`<@${BOT}> hi`, { channel: 'C1' });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual({ eventId: seen[0]!.eventId, retryNum: 1, retryReason: 'http_timeout' });
    expect(seen[0]!.retryNum).toBeUndefined();
    expect(acks.at(-1)).toMatchObject({ status: 200 });
    expect(slack.eventAttempts().map((a) => [a.retryNum, a.retryReason, a.outcome])).toEqual([
      [0, undefined, 'http_timeout'],
      [1, 'http_timeout', 200],
    ]);
  });

  it('retries an app that answers after the deadline', async () => {
    const seen = await startHttpApp(500);
    await slack.user('U1').say(`<@${BOT}> slow`, { channel: 'C1' });
    expect(seen.map((s) => s.retryNum)).toEqual([undefined, 1, 2, 3]);
    expect(new Set(seen.map((s) => s.eventId)).size).toBe(1);
    expect(slack.eventAttempts().map((a) => a.outcome)).toEqual(['http_timeout', 'http_timeout', 'http_timeout', 'http_timeout']);
  });

  it('a delivery lost before it reached the app reaches it as a retry, once', async () => {
    const seen = await startHttpApp();
    slack.loseNextEvent('request', 2);
    await slack.user('U1').say(`<@${BOT}> again`, { channel: 'C1' });
    expect(seen).toEqual([{ eventId: expect.stringMatching(/^Ev/), retryNum: 2, retryReason: 'http_timeout' }]);
  });

  it('gives up after three retries', async () => {
    const seen = await startHttpApp();
    slack.loseNextEvent('request', 4);
    const { acks } = await slack.user('U1').say(`<@${BOT}> gone`, { channel: 'C1' });
    expect(seen).toEqual([]);
    expect(acks[0]).toMatchObject({ status: 0 });
    expect(slack.eventAttempts().map((a) => a.retryNum)).toEqual([0, 1, 2, 3]);
  });

  it('does not retry a forged request: it is the test\u2019s, not Slack\u2019s', async () => {
    const seen = await startHttpApp();
    const { acks } = await slack.user('U1').say(`<@${BOT}> forged`, { channel: 'C1', signing: 'bad-signature' });
    expect(acks[0]).toMatchObject({ status: 401 });
    expect(seen).toEqual([]);
    expect(slack.eventAttempts()).toEqual([]);
  });
});

/** Socket Mode with a quick reconnect; the envelope id reaches listeners as `context.envelopeId`. */
async function startSocketApp(onCommand: (envelopeId: string) => void): Promise<void> {
  const receiver = new SocketModeReceiver({
    appToken: slack.appToken,
    logLevel: LogLevel.ERROR,
    clientPingTimeout: 100,
    installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
    customPropertiesExtractor: (args: { envelope_id?: string }) => ({ envelopeId: args.envelope_id }),
  });
  app = new App({ receiver, token: slack.botToken, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: slack.apiUrl } });
  app.command('/sb', async ({ ack, context }) => {
    onCommand(String(context['envelopeId']));
    await ack('pong');
  });
  await app.start();
  await slack.waitForSocketConnection();
}

describe('Socket Mode redelivery', () => {
  it('sends an envelope whose ack was lost again after the reconnect, same envelope_id', async () => {
    const envelopes: string[] = [];
    await startSocketApp((id) => envelopes.push(id));

    slack.loseNextEnvelope('response');
    const result = await slack.user('U1').command('/sb', 'ping', { channel: 'C1' });
    expect(result).toMatchObject({ via: 'socket', text: 'pong' });
    expect(envelopes).toHaveLength(2);
    expect(envelopes[1]).toBe(envelopes[0]);
    expect(slack.apiCalls({ method: 'apps.connections.open' }).length).toBeGreaterThanOrEqual(2);
  });

  it('delivers an envelope lost on the way to the app after the reconnect, once', async () => {
    let runs = 0;
    await startSocketApp(() => (runs += 1));

    slack.loseNextEnvelope('request');
    const result = await slack.user('U1').command('/sb', 'ping', { channel: 'C1' });
    expect(result).toMatchObject({ via: 'socket', text: 'pong' });
    expect(runs).toBe(1);
  });
});
