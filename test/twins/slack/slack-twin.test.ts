import type { AddressInfo } from 'node:net';
import { App, LogLevel, SocketModeReceiver, webApi, type Logger } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SocketAckTimeoutError, startSlackTwin, type SlackTwin } from './index.js';

/**
 * The twin driven by the real @slack/bolt 5 App, over HTTP and over Socket Mode. No Switchboard code: these tests
 * pin down the twin's own behaviour so the adapter's end-to-end tests can trust it.
 */
const SECRET = 'twin-test-signing-secret';
const FAST_RETRIES = { retries: 2, minTimeout: 10, maxTimeout: 50 };

interface RecordingLogger extends Logger {
  readonly errors: string[];
}

/** Bolt and web-api log through this; errors are kept so a test can assert that nothing went wrong quietly. */
function recordingLogger(): RecordingLogger {
  const errors: string[] = [];
  let level = LogLevel.ERROR;
  return {
    errors,
    debug() {},
    info() {},
    warn() {},
    error: (...msg: unknown[]) => {
      errors.push(msg.map(String).join(' '));
    },
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName() {},
  };
}

interface Started {
  readonly app: App;
  readonly logger: RecordingLogger;
}

let slack: SlackTwin;
let stopApp: (() => Promise<unknown>) | undefined;

beforeEach(async () => {
  slack = await startSlackTwin({ signingSecret: SECRET, botToken: 'xoxb-test', appToken: 'xapp-test' });
  stopApp = undefined;
});

afterEach(async () => {
  await stopApp?.();
  await slack.close();
});

/** HTTP receiver on an OS-chosen port; `app.start()` resolves with the http.Server, whose address has the port. */
async function startHttpApp(register: (app: App) => void): Promise<Started> {
  const logger = recordingLogger();
  const app = new App({
    token: slack.botToken,
    signingSecret: SECRET,
    logger,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: FAST_RETRIES },
  });
  register(app);
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  const { port } = server.address() as AddressInfo;
  slack.setEventsUrl(`http://127.0.0.1:${port}/slack/events`);
  stopApp = () => app.stop();
  return { app, logger };
}

/** Socket Mode: Bolt hands clientOptions to its SocketModeClient, so apps.connections.open reaches the twin too. */
async function startSocketApp(register: (app: App) => void): Promise<Started> {
  const logger = recordingLogger();
  const app = new App({
    token: slack.botToken,
    appToken: slack.appToken,
    socketMode: true,
    logger,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: FAST_RETRIES },
  });
  register(app);
  await app.start();
  stopApp = () => app.stop();
  return { app, logger };
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** For promises that live in the app rather than the twin, so a broken handler fails fast with a reason. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function platformError(error: unknown): string | undefined {
  const data = (error as { data?: { error?: string } }).data;
  return data?.error;
}

describe('slash commands over HTTP', () => {
  it('acks, posts a thread with chat.postMessage, edits, and answers through respond()', async () => {
    const seen: Record<string, string>[] = [];
    const { logger } = await startHttpApp((app) => {
      app.command('/sb', async ({ command, ack, respond, client }) => {
        seen.push({ ...command });
        await ack({ text: `Starting: ${command.text}` });
        const parent = await client.chat.postMessage({ channel: command.channel_id, text: 'Working on kumo' });
        await client.chat.postMessage({ channel: command.channel_id, thread_ts: parent.ts, text: 'step 1 of 2' });
        await client.chat.update({ channel: command.channel_id, ts: parent.ts ?? '', text: 'Done: kumo' });
        await respond({ text: 'All done', response_type: 'ephemeral' });
      });
    });

    const result = await slack.user('U1', { name: 'alice' }).command('/sb', 'send kumo hi', { channel: 'C1', via: 'http' });

    expect(result).toMatchObject({ via: 'http', status: 200, text: 'Starting: send kumo hi', empty: false });
    const response = await result.waitForResponse();
    expect(response).toMatchObject({ text: 'All done', responseType: 'ephemeral', status: 200 });
    expect(response.invocation).toMatchObject({ kind: 'command', command: '/sb', user: 'U1', channel: 'C1' });

    // The payload carried every field Slack sends, signed so Bolt accepted it.
    expect(seen[0]).toMatchObject({
      command: '/sb',
      text: 'send kumo hi',
      user_id: 'U1',
      user_name: 'alice',
      channel_id: 'C1',
      team_id: slack.team.id,
      api_app_id: slack.bot.appId,
      response_url: result.invocation.responseUrl,
      trigger_id: result.invocation.triggerId,
    });

    const [parent] = slack.messages({ channel: 'C1', topLevel: true });
    expect(parent).toMatchObject({ text: 'Done: kumo', edited: true, user: slack.bot.userId });
    expect(parent?.ts).toMatch(/^1700000000\.\d{6}$/);
    expect(parent?.edits.map((e) => e.text)).toEqual(['Working on kumo']);
    expect(slack.messages({ channel: 'C1', threadTs: parent?.ts }).map((m) => m.text)).toEqual(['step 1 of 2']);
    expect(slack.transcript('C1')).toMatchInlineSnapshot(`
      "alice: /sb send kumo hi
      bot (only alice): Starting: send kumo hi
      bot: Done: kumo (edited)
        ↳ bot: step 1 of 2
      bot (only alice): All done"
    `);
    expect(slack.apiCalls().map((c) => c.method)).toEqual([
      'auth.test',
      'chat.postMessage',
      'chat.postMessage',
      'chat.update',
    ]);
    expect(logger.errors).toEqual([]);
  });

  it('rejects a bad signature and a stale timestamp with 401 without running the handler', async () => {
    let runs = 0;
    await startHttpApp((app) => {
      app.command('/sb', async ({ ack }) => {
        runs += 1;
        await ack();
      });
    });
    const user = slack.user('U1');

    const tampered = await user.command('/sb', 'x', { channel: 'C1', via: 'http', signing: 'bad-signature' });
    const stale = await user.command('/sb', 'x', { channel: 'C1', via: 'http', signing: 'stale-timestamp' });
    const wrongSecret = await user.command('/sb', 'x', { channel: 'C1', via: 'http', signing: 'wrong-secret' });
    expect([tampered.status, stale.status, wrongSecret.status]).toEqual([401, 401, 401]);
    expect(runs).toBe(0);

    const good = await user.command('/sb', 'x', { channel: 'C1', via: 'http' });
    expect(good).toMatchObject({ status: 200, empty: true });
    expect(runs).toBe(1);
  });

  it('delivers a user message as an Events API message event', async () => {
    await startHttpApp((app) => {
      app.message(async ({ message, say }) => {
        if (message.subtype === undefined && 'text' in message) {
          await say({ text: `echo: ${message.text}`, thread_ts: message.ts });
        }
      });
    });
    const { message, acks } = await slack.user('U7', { name: 'bob' }).say('hello bot', { channel: 'C9' });
    expect(acks).toHaveLength(1);
    const reply = await slack.waitForMessage({ channel: 'C9', threadTs: message.ts });
    expect(reply.text).toBe('echo: hello bot');
    expect(slack.transcript('C9')).toMatchInlineSnapshot(`
      "bob: hello bot
        ↳ bot: echo: hello bot"
    `);
  });
});

describe('response_url', () => {
  it('shows an in_channel ack in the channel and refuses a sixth respond()', async () => {
    const handlerDone = deferred<string[]>();
    await startHttpApp((app) => {
      app.command('/sb', async ({ ack, respond }) => {
        await ack({ text: 'Everyone sees this', response_type: 'in_channel' });
        const outcomes: string[] = [];
        for (let i = 1; i <= 6; i += 1) {
          await respond({ text: `update ${i}` }).then(
            () => outcomes.push('ok'),
            (error: unknown) => outcomes.push(String((error as { code?: string }).code)),
          );
        }
        handlerDone.resolve(outcomes);
      });
    });
    const result = await slack.user('U1').command('/sb', 'go', { channel: 'C1' });
    const respondStatuses = await withTimeout(handlerDone.promise, 5_000, 'the /sb handler to finish');

    expect(respondStatuses).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'slack_bolt_respond_error']);
    expect(result.responses().map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 404]);
    expect(slack.messages({ channel: 'C1' })).toEqual([
      expect.objectContaining({ text: 'Everyone sees this', source: 'ack' }),
    ]);
    expect(slack.ephemerals({ channel: 'C1', user: 'U1' })).toHaveLength(5);
  });
});

describe('buttons (block_actions)', () => {
  it('delivers a click to app.action with the message, and applies replace_original', async () => {
    const clicks: Record<string, unknown>[] = [];
    await startHttpApp((app) => {
      app.command('/sb', async ({ ack, client, command }) => {
        await ack();
        await client.chat.postMessage({
          channel: command.channel_id,
          text: 'Run rm -rf build?',
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: 'Run `rm -rf build`?' } },
            {
              type: 'actions',
              block_id: 'confirm',
              elements: [
                { type: 'button', action_id: 'approve', value: 'job-42', text: { type: 'plain_text', text: 'Approve' } },
                { type: 'button', action_id: 'deny', value: 'job-42', text: { type: 'plain_text', text: 'Deny' } },
              ],
            },
          ],
        });
      });
      app.action('approve', async ({ ack, body, respond }) => {
        await ack();
        clicks.push(body as unknown as Record<string, unknown>);
        await respond({ replace_original: true, text: 'Approved by <@U2>' });
      });
    });

    await slack.user('U1').command('/sb', 'rm', { channel: 'C1' });
    const prompt = await slack.waitForMessage({ channel: 'C1', text: 'rm -rf build' });
    expect(prompt.visibleText).toBe('Run `rm -rf build`?\n[Approve] [Deny]');

    await expect(slack.user('U2').clickButton(prompt, { actionId: 'nope' })).rejects.toThrow(
      /Buttons there: \[Approve\] action_id=approve value=job-42; \[Deny\] action_id=deny/,
    );

    const click = await slack.user('U2').clickButton(prompt, { actionId: 'approve' }, { via: 'http' });
    expect(click).toMatchObject({ status: 200, empty: true });
    expect(clicks[0]).toMatchObject({
      type: 'block_actions',
      user: { id: 'U2' },
      channel: { id: 'C1' },
      container: { type: 'message', message_ts: prompt.ts, channel_id: 'C1' },
      message: { ts: prompt.ts, blocks: prompt.blocks },
      actions: [{ action_id: 'approve', block_id: 'confirm', value: 'job-42', type: 'button' }],
      response_url: click.invocation.responseUrl,
    });

    const replaced = await slack.waitForMessage({ channel: 'C1', text: 'Approved' });
    expect(replaced).toMatchObject({ ts: prompt.ts, edited: true, blocks: undefined });
    expect(slack.responses({ invocationId: click.invocation.id })).toHaveLength(1);
    // The buttons are gone now, so the same click is impossible, as in Slack.
    await expect(slack.user('U2').clickButton(prompt, { actionId: 'approve' })).rejects.toThrow(/no buttons/);
  });
});

describe('Web API rules', () => {
  it('retries a 429 in order; web-api truncates a fractional Retry-After to whole seconds', async () => {
    const { app } = await startHttpApp(() => {});
    slack.addChannel('C1');
    const rateLimitedFor: number[] = [];
    app.client.on(webApi.WebClientEvent.RATE_LIMITED, (sec: number) => rateLimitedFor.push(sec));
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 0.2, count: 1 });

    await app.client.chat.postMessage({ channel: 'C1', text: 'one' });
    await app.client.chat.postMessage({ channel: 'C1', text: 'two' });

    // parseInt('0.2') === 0: the client retries after its own backoff only.
    expect(rateLimitedFor).toEqual([0]);
    const attempts = slack.apiCalls({ method: 'chat.postMessage' });
    expect(attempts.map((c) => [c.args['text'], c.outcome, c.status])).toEqual([
      ['one', 'rate_limited', 429],
      ['one', 'ok', 200],
      ['two', 'ok', 200],
    ]);
    expect(attempts[0]?.retryAfterSec).toBe(0.2);
    expect(slack.messages({ channel: 'C1' }).map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('enforces a per-channel posting interval with whole-second Retry-After', async () => {
    const { app } = await startHttpApp(() => {});
    slack.addChannel('C1');
    slack.addChannel('C2');
    slack.channelMinIntervalMs = 300;

    await app.client.chat.postMessage({ channel: 'C1', text: 'first' });
    await app.client.chat.postMessage({ channel: 'C2', text: 'other channel, no wait' });
    await app.client.chat.postMessage({ channel: 'C1', text: 'second' });

    const attempts = slack.apiCalls({ method: 'chat.postMessage' });
    expect(attempts.map((c) => [c.args['channel'], c.outcome, c.retryAfterSec])).toEqual([
      ['C1', 'ok', undefined],
      ['C2', 'ok', undefined],
      ['C1', 'rate_limited', 1],
      ['C1', 'ok', undefined],
    ]);
    const [, , limited, retried] = attempts;
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(990);
  });

  it('rejects oversized text and blocks with Slack error codes, and records the attempts', async () => {
    const { app } = await startHttpApp(() => {});
    slack.addChannel('C1');
    const post = (args: Record<string, unknown>): Promise<string | undefined> =>
      app.client.chat
        .postMessage({ channel: 'C1', ...args } as never)
        .then(() => 'ok', (error: unknown) => platformError(error));
    const section = (chars: number) => ({ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(chars) } });

    expect(await post({ text: 'x'.repeat(40_000) })).toBe('ok');
    expect(await post({ text: 'x'.repeat(40_001) })).toBe('msg_too_long');
    expect(await post({ text: 'fallback', blocks: [section(3_000)] })).toBe('ok');
    expect(await post({ text: 'fallback', blocks: [section(3_001)] })).toBe('invalid_blocks');
    expect(await post({ text: 'fallback', blocks: Array.from({ length: 51 }, () => section(1)) })).toBe('invalid_blocks');
    expect(await post({ text: 'h', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }] })).toBe(
      'invalid_blocks',
    );
    expect(await post({ text: 'm', blocks: [{ type: 'markdown', text: 'x'.repeat(12_001) }] })).toBe('invalid_blocks');
    const pre = (text: string) => ({ type: 'rich_text', elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'text', text }] }] });
    expect(await post({ text: 'r', blocks: [pre('x'.repeat(4_000))] })).toBe('ok');
    expect(await post({ text: 'r', blocks: [pre('x'.repeat(4_001))] })).toBe('invalid_blocks');
    expect(await post({ text: 'b', blocks: ['not a block'] })).toBe('invalid_blocks_format');
    expect(await post({})).toBe('no_text');
    expect(await post({ channel: 'C404', text: 'hi' })).toBe('channel_not_found');
    expect(
      await app.client.chat.postMessage({ text: 'no channel' } as never).then(
        () => 'ok',
        (e: unknown) => platformError(e),
      ),
    ).toBe('channel_not_found');

    const rejected = slack.apiCalls({ method: 'chat.postMessage', outcome: 'error' });
    expect(rejected.map((c) => c.error)).toEqual([
      'msg_too_long',
      'invalid_blocks',
      'invalid_blocks',
      'invalid_blocks',
      'invalid_blocks',
      'invalid_blocks',
      'invalid_blocks_format',
      'no_text',
      'channel_not_found',
      'channel_not_found',
    ]);
    expect(rejected[1]?.response['response_metadata']).toEqual({
      messages: ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
    });
    expect(slack.messages()).toHaveLength(3);
  });

  it('checks the bearer token per method', async () => {
    const wrongBot = new webApi.WebClient('xoxb-wrong', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    await expect(wrongBot.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    const bot = new webApi.WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    await expect(bot.apps.connections.open({})).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(bot.auth.test()).resolves.toMatchObject({ ok: true, user_id: slack.bot.userId });
    expect(slack.apiCalls().map((c) => [c.method, c.token, c.error])).toEqual([
      ['auth.test', 'xoxb-wrong', 'invalid_auth'],
      ['apps.connections.open', 'xoxb-test', 'invalid_auth'],
      ['auth.test', 'xoxb-test', undefined],
    ]);
  });

  it('records files.uploadV2 with its bytes, title, channel and thread', async () => {
    const { app } = await startHttpApp(() => {});
    slack.addChannel('C1');
    const parent = await app.client.chat.postMessage({ channel: 'C1', text: 'Job finished' });

    await app.client.files.uploadV2({
      channel_id: 'C1',
      thread_ts: parent.ts ?? '',
      initial_comment: 'Full log attached',
      filename: 'run.log',
      title: 'Run log',
      content: 'line 1\nline 2\n',
    });

    const file = await slack.waitForFile({ filename: 'run.log' });
    expect(file).toMatchObject({
      title: 'Run log',
      text: 'line 1\nline 2\n',
      declaredLength: 14,
      channel: 'C1',
      threadTs: parent.ts,
      initialComment: 'Full log attached',
      completed: true,
    });
    expect(file.content.equals(Buffer.from('line 1\nline 2\n'))).toBe(true);
    // Bolt's own auth.test may land anywhere in this list, so leave it out.
    expect(slack.apiCalls({ predicate: (c) => c.method !== 'auth.test' }).map((c) => c.method)).toEqual([
      'chat.postMessage',
      'files.getUploadURLExternal',
      'upload_url',
      'files.completeUploadExternal',
    ]);
    expect(slack.transcript('C1')).toMatchInlineSnapshot(`
      "bot: Job finished
        ↳ bot: [file: run.log] Full log attached"
    `);
  });

  it('answers the other chat methods, lookups and DMs the way Slack does', async () => {
    const { app } = await startHttpApp(() => {});
    slack.addChannel('C1', { name: 'builds' });
    slack.user('U1', { name: 'alice', realName: 'Alice A' });
    const { client } = app;

    const posted = await client.chat.postMessage({ channel: 'C1', text: 'temporary' });
    await client.chat.delete({ channel: 'C1', ts: posted.ts ?? '' });
    await expect(client.chat.update({ channel: 'C1', ts: posted.ts ?? '', text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
    const eph = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'psst' });
    expect(eph.message_ts).toMatch(/^\d+\.\d{6}$/);
    await expect(client.chat.postEphemeral({ channel: 'C1', user: 'U404', text: 'x' })).rejects.toMatchObject({
      data: { error: 'user_not_found' },
    });
    await expect(client.conversations.info({ channel: 'C1' })).resolves.toMatchObject({
      channel: { id: 'C1', name: 'builds', is_channel: true },
    });
    await expect(client.users.info({ user: 'U1' })).resolves.toMatchObject({
      user: { id: 'U1', name: 'alice', real_name: 'Alice A', is_bot: false },
    });
    // Posting to a user id lands in the DM with them.
    const dm = await client.chat.postMessage({ channel: 'U1', text: 'hi alice' });
    expect(dm.channel).toBe('D1');
    await expect(client.chat.postMessage({ channel: 'C1', thread_ts: '1.000001', text: 'x' })).rejects.toMatchObject({
      data: { error: 'thread_not_found' },
    });

    expect(slack.messages({ channel: 'C1' })).toEqual([]);
    expect(slack.messages({ channel: 'C1', includeDeleted: true })).toEqual([
      expect.objectContaining({ text: 'temporary', deleted: true }),
    ]);
    expect(slack.transcript('C1')).toBe('bot (only alice): psst');
    expect(slack.transcript('D1')).toBe('bot: hi alice');
  });

  it('fails a wait with a message that lists what did arrive', async () => {
    const { app } = await startHttpApp(() => {});
    slack.addChannel('C1');
    await app.client.chat.postMessage({ channel: 'C1', text: 'something else' });
    await expect(slack.waitForMessage({ channel: 'C1', text: 'never', timeoutMs: 50 })).rejects.toThrow(
      /Timed out after 50 ms waiting for message matching \{channel: "C1", text: "never"\}\.\n1 messages arrived:\n {2}- C1 ts=1700000000\.000100 user=UBOT0001: "something else"/,
    );
  });
});

describe('Socket Mode', () => {
  it('connects with the app token, delivers a slash command and returns the ack payload', async () => {
    const { logger } = await startSocketApp((app) => {
      app.command('/sb', async ({ command, ack, client, respond }) => {
        await ack({ text: `On it: ${command.text}`, response_type: 'ephemeral' });
        await client.chat.postMessage({ channel: command.channel_id, text: 'Status: running' });
        await respond({ text: 'finished', response_type: 'in_channel' });
      });
    });
    expect(await slack.waitForSocketConnection()).toBe(1);
    expect(slack.apiCalls({ method: 'apps.connections.open' })[0]).toMatchObject({ token: 'xapp-test', outcome: 'ok' });

    const result = await slack.user('U1').command('/sb', 'status', { channel: 'C1', via: 'socket' });

    expect(result).toMatchObject({
      via: 'socket',
      status: 200,
      text: 'On it: status',
      responseType: 'ephemeral',
      body: { text: 'On it: status', response_type: 'ephemeral' },
    });
    await slack.waitForMessage({ channel: 'C1', text: 'finished' });
    expect(slack.envelopes()).toEqual([
      expect.objectContaining({
        type: 'slash_commands',
        acked: true,
        ackPayload: { text: 'On it: status', response_type: 'ephemeral' },
        payload: expect.objectContaining({ command: '/sb', text: 'status', channel_id: 'C1' }),
      }),
    ]);
    expect(slack.transcript('C1')).toMatchInlineSnapshot(`
      "U1: /sb status
      bot (only U1): On it: status
      bot: Status: running
      bot: finished"
    `);

    await stopApp?.();
    stopApp = undefined;
    await slack.close();
    expect(slack.socketConnections).toBe(0);
    expect(logger.errors).toEqual([]);
  });

  it('routes clicks over the socket by default once an app is connected', async () => {
    const { app } = await startSocketApp((app) => {
      app.action('retry', async ({ ack, respond }) => {
        await ack();
        await respond({ text: 'Retrying…' });
      });
    });
    await slack.waitForSocketConnection();
    slack.addChannel('C1');
    const posted = await app.client.chat.postMessage({
      channel: 'C1',
      text: 'Job failed',
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'Job failed' },
          accessory: { type: 'button', action_id: 'retry', text: { type: 'plain_text', text: 'Retry' } },
        },
      ],
    });
    const message = slack.message('C1', posted.ts ?? '');
    if (!message) throw new Error('posted message missing');

    const click = await slack.user('U3').clickButton(message, { actionId: 'retry' });

    expect(click).toMatchObject({ via: 'socket', empty: true });
    expect((await click.waitForResponse()).text).toBe('Retrying…');
    expect(slack.ephemerals({ user: 'U3' }).map((e) => e.text)).toEqual(['Retrying…']);
  });
  it('fails a delivery the app never acknowledges', async () => {
    await slack.close();
    slack = await startSlackTwin({ signingSecret: SECRET, socketAckTimeoutMs: 200 });
    await startSocketApp((app) => {
      app.command('/sb', async () => {
        // Never acks: Slack would show the user a timeout.
      });
    });
    await slack.waitForSocketConnection();

    await expect(slack.user('U1').command('/sb', 'x', { channel: 'C1' })).rejects.toBeInstanceOf(SocketAckTimeoutError);
    expect(slack.envelopes()).toEqual([expect.objectContaining({ type: 'slash_commands', acked: false })]);
  });

  it('reconnects when Slack asks the app to (a receiver passed in, with a short reconnect delay)', async () => {
    const logger = recordingLogger();
    // SocketModeClient waits clientPingTimeout × failures before reconnecting (5 s by default).
    const receiver = new SocketModeReceiver({
      appToken: slack.appToken,
      logger,
      clientPingTimeout: 100,
      installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: FAST_RETRIES } },
    });
    const app = new App({ receiver, token: slack.botToken, logger, clientOptions: { slackApiUrl: slack.apiUrl } });
    app.command('/sb', async ({ ack }) => {
      await ack('pong');
    });
    await app.start();
    stopApp = () => app.stop();
    await slack.waitForSocketConnection();

    slack.requestSocketReconnect();
    await slack.waitUntil(() => slack.apiCalls({ method: 'apps.connections.open' }).length >= 2, {
      description: 'a second apps.connections.open',
    });
    await slack.waitForSocketConnection();

    const result = await slack.user('U1').command('/sb', 'ping', { channel: 'C1' });
    expect(result).toMatchObject({ via: 'socket', text: 'pong' });
    expect(logger.errors).toEqual([]);
  });
});
