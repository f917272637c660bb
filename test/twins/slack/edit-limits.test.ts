import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlackTwin, type SlackTwin } from './index.js';

/**
 * chat.update's documented limit (Tier 3: about 50 a minute per workspace) as the twin enforces it, driven by the
 * real web-api client with `rejectRateLimitedCalls`, as the Slack adapter configures it. The twin's clock is moved
 * by hand, so the minute passes without waiting for it.
 */
let slack: SlackTwin;
let now = 1_700_000_000_000;
let client: webApi.WebClient;

beforeEach(async () => {
  slack = await startSlackTwin({ signingSecret: 'edit-limit-secret', botToken: 'xoxb-test', appToken: 'xapp-test', clock: { now: () => now } });
  slack.addChannel('C1');
  slack.addChannel('C2');
  client = new webApi.WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
});

afterEach(async () => {
  await slack.close();
});

describe('Slack twin: chat.update limit', () => {
  it('accepts 50 updates a minute across channels, answers the 51st with 429 and Retry-After, and accepts again once the minute has passed', async () => {
    const first = await client.chat.postMessage({ channel: 'C1', text: 'card 1' });
    const second = await client.chat.postMessage({ channel: 'C2', text: 'card 2' });
    for (let i = 0; i < 50; i++) {
      now += 100;
      await client.chat.update({ channel: i % 2 ? 'C1' : 'C2', ts: String(i % 2 ? first.ts : second.ts), text: `state ${i}` });
    }
    now += 100;
    const refused = await client.chat.update({ channel: 'C1', ts: String(first.ts), text: 'one too many' }).catch((error: unknown) => error);
    expect((refused as { code?: string }).code).toBe('slack_webapi_rate_limited_error');
    // The oldest update of the window was 5.1 s ago: room again in 55 s, rounded up to whole seconds.
    expect((refused as { retryAfter?: number }).retryAfter).toBe(55);
    const limited = slack.apiCalls({ method: 'chat.update' }).filter((c) => c.status === 429);
    expect(limited).toHaveLength(1);
    expect(slack.message('C1', String(first.ts))!.text).toBe('state 49');

    now += 55_000;
    await client.chat.update({ channel: 'C1', ts: String(first.ts), text: 'after the minute' });
    expect(slack.message('C1', String(first.ts))!.text).toBe('after the minute');
  });

  it('answers message_not_found for a message deleted in the client', async () => {
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'card' });
    slack.deleteMessage('C1', String(posted.ts));
    const failed = await client.chat.update({ channel: 'C1', ts: String(posted.ts), text: 'new state' }).catch((error: unknown) => error);
    expect((failed as { data?: { error?: string } }).data?.error).toBe('message_not_found');
  });

  it('a scaled-down limit (for quick tests) counts the same way', async () => {
    slack.setUpdateLimit(3, 1_000);
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'card' });
    for (let i = 0; i < 3; i++) await client.chat.update({ channel: 'C1', ts: String(posted.ts), text: `s${i}` });
    await expect(client.chat.update({ channel: 'C1', ts: String(posted.ts), text: 'refused' })).rejects.toMatchObject({ retryAfter: 1 });
    now += 1_000;
    await client.chat.update({ channel: 'C1', ts: String(posted.ts), text: 'accepted' });
    expect(slack.message('C1', String(posted.ts))!.text).toBe('accepted');
  });
});
