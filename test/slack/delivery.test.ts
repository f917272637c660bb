import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { output, reply } from '../../src/core/reply.js';
import { startSilentServer, type OddServer } from '../helpers/odd-servers.js';
import { ALICE, OTHER, WORK, startHarness, type Harness } from './harness.js';
import { sectionTexts } from './slack-render.js';

/**
 * The HTTP receiver and the delivery path without an agent server: signatures, the 3 s ack, Slack's rate
 * limits and refusals, and what the outbox does with each. Messages are put in the real outbox directly where
 * a command would only get in the way.
 */
let h: Harness;
let silent: OddServer;

beforeAll(async () => {
  silent = await startSilentServer();
  h = await startHarness({ mode: 'http', servers: { quiet: silent.url }, requestTimeoutMs: 3_000 });
});

afterAll(async () => {
  await h?.stop();
  await silent?.close();
});

afterEach(() => {
  h.slack.channelMinIntervalMs = 0;
});

function auditRows(): number {
  return (h.db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
}

function enqueue(channel: string, text: string | ReturnType<typeof reply>, extra: { threadKey?: string; opensThread?: boolean } = {}): void {
  h.app.switchboard.outbox.enqueue({ origin: { adapter: 'slack', channel }, reply: typeof text === 'string' ? reply(text) : text, ...extra });
}

describe('the HTTP receiver', () => {
  it('rejects a bad signature and a stale timestamp with 401 and never runs the command', async () => {
    const before = auditRows();
    const tampered = await h.slack.user(ALICE).command('/sb', 'help', { channel: WORK, via: 'http', signing: 'bad-signature' });
    const stale = await h.slack.user(ALICE).command('/sb', 'help', { channel: WORK, via: 'http', signing: 'stale-timestamp' });
    const unsigned = await h.slack.user(ALICE).command('/sb', 'help', { channel: WORK, via: 'http', signing: 'unsigned' });
    expect([tampered.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);

    // A good request right after is answered, and it is the only one the core ever saw.
    const at = h.mark();
    await h.sb(ALICE, 'help');
    await h.botMessage(at, { text: /Switchboard commands/ });
    expect(auditRows()).toBe(before + 1);
    expect(h.slack.messages({ channel: WORK, text: /Switchboard commands/ })).toHaveLength(1);
  });

  it('acks within Slack’s 3 s even when the command waits on a silent server, and answers later', async () => {
    const at = h.mark();
    const started = Date.now();
    const ack = await h.sb(ALICE, 'agents quiet');
    expect(ack.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_500);
    const answer = await h.ephemeral(at, { user: ALICE });
    expect(decodeEntities(answer.visibleText)).toMatch(/did not answer within 3 s/);
  });
});

describe('delivery under Slack’s limits', () => {
  it('delivers a 429 storm on chat.postMessage once each, in order', async () => {
    h.slack.channelMinIntervalMs = 1_000;
    h.slack.failNext('chat.postMessage', { count: 3, retryAfterSec: 1 });
    const from = h.mark();
    for (let i = 1; i <= 5; i++) enqueue(OTHER, `storm ${i}`);
    const posted = await h.slack.waitForMessages(5, { channel: OTHER, predicate: (m) => m.seq > from && /storm/.test(m.text) });
    expect(posted.map((m) => m.visibleText)).toEqual(['storm 1', 'storm 2', 'storm 3', 'storm 4', 'storm 5']);
    await h.app.switchboard.idle('slack');
    expect(h.slack.messages({ channel: OTHER, text: /storm/ })).toHaveLength(5);
    const limited = h.slack.apiCalls({ method: 'chat.postMessage', outcome: 'rate_limited' });
    expect(limited.length).toBeGreaterThanOrEqual(3);
  });

  it('resumes a split message after a 429 on a later part, posting no part twice', async () => {
    h.slack.channelMinIntervalMs = 1_000;
    const body = Array.from({ length: 900 }, (_, i) => `row ${String(i).padStart(3, '0')} ${'-'.repeat(20)}`).join('\n');
    const from = h.mark();
    enqueue(OTHER, reply([output(body)]));
    const first = await h.slack.waitForMessage({ channel: OTHER, text: /^\(1\/\d\)/, predicate: (m) => m.seq > from });
    const count = Number(/^\(1\/(\d)\)/.exec(first.visibleText)![1]);
    expect(count).toBeGreaterThan(1);
    const parts = await h.slack.waitForMessages(count, { channel: OTHER, predicate: (m) => m.seq >= first.seq });
    await h.app.switchboard.idle('slack');
    expect(h.slack.messages({ channel: OTHER, predicate: (m) => m.seq >= first.seq })).toHaveLength(count);
    expect(parts.map((m) => m.visibleText.split('\n')[0])).toEqual(Array.from({ length: count }, (_, i) => `(${i + 1}/${count})`));
    expect(decodeEntities(parts.flatMap((m) => sectionTexts(m.blocks)).join(''))).toBe(body);
    expect(h.slack.apiCalls({ method: 'chat.postMessage', outcome: 'rate_limited', predicate: (c) => c.seq > first.seq }).length).toBeGreaterThan(0);
  });

  it('answers through the response_url when the bot is not in the channel, and the channel’s lane moves on', async () => {
    h.slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    const at = h.mark();
    const command = await h.sb(ALICE, 'help');
    const fallback = await command.waitForResponse();
    expect(fallback.responseType).toBe('ephemeral');
    expect(decodeEntities(JSON.stringify(fallback.blocks))).toContain('Switchboard commands');
    expect(JSON.stringify(fallback.blocks)).toContain('I cannot post in this channel (not_in_channel)');

    await h.sb(ALICE, 'help status');
    await h.botMessage(at, { text: /usage: status/ });
  });

  it('drops a message Slack will never take (channel gone), logs it, and keeps delivering', async () => {
    enqueue('CGONE', 'into the void');
    const at = h.mark();
    enqueue(WORK, 'still here');
    await h.botMessage(at, { text: 'still here' });
    await h.app.switchboard.idle('slack');
    expect(h.logger.lines.some((l) => l.includes('outbox: message rejected for good') && l.includes('channel_not_found'))).toBe(true);
    expect(h.app.switchboard.outbox.pending('slack')).toBe(0);
  });
});

describe('threads per name', () => {
  it('opens a thread with the first message about a name and keeps later ones in it', async () => {
    const at = h.mark();
    enqueue(OTHER, '📨 opening', { threadKey: 'tname', opensThread: true });
    const root = await h.botMessage(at, { channel: OTHER, text: 'opening' });
    enqueue(OTHER, 'progress about tname', { threadKey: 'tname' });
    const inThread = await h.botMessage(root.seq, { channel: OTHER, text: 'progress about tname' });
    expect(root.threadTs).toBeUndefined();
    expect(inThread.threadTs).toBe(root.ts);
  });

  it('posts everything at the top level with SLACK_THREADS=false', async () => {
    const flat = await startHarness({ mode: 'http', env: { SLACK_THREADS: 'false' } });
    try {
      const at = flat.mark();
      flat.app.switchboard.outbox.enqueue({ origin: { adapter: 'slack', channel: WORK }, reply: reply('📨 first'), threadKey: 'flat', opensThread: true });
      flat.app.switchboard.outbox.enqueue({ origin: { adapter: 'slack', channel: WORK }, reply: reply('after'), threadKey: 'flat' });
      const [first, second] = await flat.slack.waitForMessages(2, { channel: WORK, predicate: (m) => m.seq > at });
      expect([first!.threadTs, second!.threadTs]).toEqual([undefined, undefined]);
      expect(flat.app.switchboard.outbox.threadFor({ adapter: 'slack', channel: WORK }, 'flat')).toBeUndefined();
    } finally {
      await flat.stop();
    }
  });
});
