import { afterEach, describe, expect, it } from 'vitest';
import { InteractionFailedError, LIMITS, startDiscordTwin, testSnowflake, validateMessage, type DiscordTwin, type DiscordTwinOptions } from './index.js';
import { RawGateway, type Frame } from './raw-gateway.js';

/**
 * The twin's protocol answers, checked with a bare WebSocket and fetch: the cases discord.js guards against on
 * its own side (double acks, bad tokens, missing intents) or that would cost an identify throttle per test.
 */

const GUILD = testSnowflake(1);
const GENERAL = testSnowflake(2);
const ALICE = testSnowflake(10);
const INTENTS = { Guilds: 1, GuildMessages: 1 << 9, MessageContent: 1 << 15 };
const ALL = INTENTS.Guilds | INTENTS.GuildMessages | INTENTS.MessageContent;

let twin: DiscordTwin | undefined;
const sockets: RawGateway[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) await socket.close().catch(() => undefined);
  await twin?.close();
  twin = undefined;
});

async function start(options: DiscordTwinOptions = {}): Promise<DiscordTwin> {
  twin = await startDiscordTwin({
    guilds: [{ id: GUILD, channels: [{ id: GENERAL, name: 'general' }], members: [{ id: ALICE, username: 'alice' }] }],
    ...options,
  });
  return twin;
}

/** Identifies, and with the right token waits for READY, so the twin has a session to deliver user actions to. */
async function connect(discord: DiscordTwin, intents = ALL, token = discord.botToken): Promise<RawGateway> {
  const socket = await RawGateway.connect(`${discord.gatewayUrl}?v=10&encoding=json`);
  sockets.push(socket);
  await socket.next((f) => f.op === 10);
  socket.identify(token, intents);
  if (token === discord.botToken) await socket.dispatch('READY');
  return socket;
}

async function api(discord: DiscordTwin, method: string, path: string, body?: unknown, auth: string | null = `Bot ${discord.botToken}`) {
  const response = await fetch(`${discord.restApi}/v10${path}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const sbCommand = {
  name: 'sb',
  description: 'Switchboard',
  options: [
    {
      type: 1,
      name: 'send',
      description: 'Relay a prompt',
      options: [
        { type: 3, name: 'name', description: 'Session', required: true, autocomplete: true },
        { type: 3, name: 'prompt', description: 'Prompt', required: true },
        { type: 4, name: 'priority', description: 'Priority', choices: [{ name: 'low', value: 1 }, { name: 'high', value: 2 }] },
      ],
    },
  ],
};

/** A twin with a connected raw client and /sb registered, ready for interactions. */
async function withSlash(options: DiscordTwinOptions = {}) {
  const discord = await start(options);
  const socket = await connect(discord);
  await socket.dispatch('GUILD_CREATE');
  expect((await api(discord, 'PUT', `/applications/${discord.applicationId}/guilds/${GUILD}/commands`, [sbCommand])).status).toBe(200);
  return { discord, socket };
}

async function interactionFrame(socket: RawGateway, from: number): Promise<{ id: string; token: string; data: any }> {
  const frame = await socket.dispatch('INTERACTION_CREATE', from);
  return frame.d as { id: string; token: string; data: any };
}

describe('REST basics', () => {
  it('requires the bot token, except on gateway discovery without /bot', async () => {
    const discord = await start();
    expect(await api(discord, 'GET', '/gateway/bot', undefined, null)).toMatchObject({ status: 401, body: { message: '401: Unauthorized', code: 0 } });
    expect((await api(discord, 'GET', '/gateway/bot', undefined, 'Bot wrong')).status).toBe(401);
    const ok = await api(discord, 'GET', '/gateway/bot');
    expect(ok.body).toMatchObject({ url: discord.gatewayUrl, shards: 1, session_start_limit: { max_concurrency: 1 } });
    expect((await api(discord, 'GET', '/gateway', undefined, null)).body).toEqual({ url: discord.gatewayUrl });
    expect(discord.restCalls().map((c) => [c.auth, c.status])).toEqual([
      ['none', 401],
      ['invalid', 401],
      ['bot', 200],
      ['none', 200],
    ]);
  });

  it('answers unknown routes with 404 and lists them in problems()', async () => {
    const discord = await start();
    expect((await api(discord, 'GET', '/guilds/1/audit-logs')).status).toBe(404);
    expect(discord.problems()).toEqual(['REST GET /guilds/1/audit-logs: no such route in the Discord twin']);
  });

  it('rejects fixture ids that are not snowflakes, naming them', async () => {
    await expect(startDiscordTwin({ guilds: [{ id: 'G1', channels: [{ id: 'C1' }] }] })).rejects.toThrow(/Not snowflakes: guild "G1", channel "C1"/);
  });
});

describe('gateway', () => {
  it('sends HELLO, READY with the application and GUILD_CREATE with channels, roles and members', async () => {
    const discord = await start({ heartbeatIntervalMs: 1234 });
    const socket = await connect(discord);
    expect(socket.frames[0]).toMatchObject({ op: 10, d: { heartbeat_interval: 1234 } });
    const ready = await socket.dispatch('READY');
    expect(ready).toMatchObject({ s: 1, d: { v: 10, user: { id: discord.botUserId, bot: true }, guilds: [{ id: GUILD, unavailable: true }], resume_gateway_url: discord.gatewayUrl, application: { id: discord.applicationId } } });
    const guild = (await socket.dispatch('GUILD_CREATE')).d as any;
    expect(guild.channels.map((c: any) => [c.id, c.name, c.type])).toEqual([[GENERAL, 'general', 0]]);
    expect(guild.members.map((m: any) => m.user.username).sort()).toEqual(['alice', 'switchboard']);
    expect(guild.roles.map((r: any) => r.name)).toEqual(['@everyone', 'switchboard']);
    socket.send(1, 2);
    await socket.next((f) => f.op === 11);
  });

  it('closes with 4004 on a wrong token and records the attempt', async () => {
    const discord = await start();
    const socket = await connect(discord, ALL, 'not-the-token');
    expect(await socket.closed()).toBe(4004);
    expect(discord.identifies()).toMatchObject([{ accepted: false, token: 'not-the-token', sessionId: null }]);
  });

  it('refuses zlib-stream compression, which it cannot speak', async () => {
    const discord = await start();
    const socket = await RawGateway.connect(`${discord.gatewayUrl}?v=10&encoding=json&compress=zlib-stream`);
    sockets.push(socket);
    expect(await socket.closed()).toBe(4012);
  });

  it('blanks guild message content without the MessageContent intent, unless the bot is mentioned', async () => {
    const discord = await start();
    const socket = await connect(discord, INTENTS.Guilds | INTENTS.GuildMessages);
    await socket.dispatch('GUILD_CREATE');
    const from = socket.frames.length;
    await discord.channel(GENERAL).user(ALICE).sendMessage('secret plan');
    await discord.channel(GENERAL).user(ALICE).sendMessage(`<@${discord.botUserId}> status`);
    const first = (await socket.dispatch('MESSAGE_CREATE', from)).d as any;
    const second = (await socket.next((f) => f.t === 'MESSAGE_CREATE' && (f.d as any).id !== first.id, from)).d as any;
    expect(first.content).toBe('');
    expect(second.content).toBe(`<@${discord.botUserId}> status`);
  });

  it('sends no MESSAGE_CREATE at all without the GuildMessages intent', async () => {
    const discord = await start();
    const socket = await connect(discord, INTENTS.Guilds);
    await socket.dispatch('GUILD_CREATE');
    const from = socket.frames.length;
    const user = discord.channel(GENERAL).user(ALICE);
    const starter = await user.sendMessage('hello');
    // A thread event is covered by Guilds; once it arrives, the message before it would have too.
    expect((await api(discord, 'POST', `/channels/${GENERAL}/messages/${starter.id}/threads`, { name: 'x' })).status).toBe(201);
    await socket.dispatch('THREAD_CREATE', from);
    expect(socket.frames.slice(from).map((f) => f.t)).toEqual(['THREAD_CREATE']);
  });

  it('replays missed dispatches on RESUME, in order, then sends RESUMED', async () => {
    const discord = await start();
    const first = await connect(discord);
    const ready = (await first.dispatch('READY')).d as { session_id: string };
    const lastSeen = (await first.dispatch('GUILD_CREATE')).s!;
    await first.close(4000);
    await discord.channel(GENERAL).user(ALICE).sendMessage('one');
    await discord.channel(GENERAL).user(ALICE).sendMessage('two');
    const second = await RawGateway.connect(`${discord.gatewayUrl}?v=10&encoding=json`);
    sockets.push(second);
    second.send(6, { token: discord.botToken, session_id: ready.session_id, seq: lastSeen });
    await second.dispatch('RESUMED');
    const dispatches = second.frames.filter((f: Frame) => f.op === 0);
    expect(dispatches.map((f) => [f.t, f.s, (f.d as any).content])).toEqual([
      ['MESSAGE_CREATE', lastSeen + 1, 'one'],
      ['MESSAGE_CREATE', lastSeen + 2, 'two'],
      ['RESUMED', lastSeen + 3, undefined],
    ]);
    expect(discord.resumes()).toMatchObject([{ accepted: true, seq: lastSeen, replayed: 2 }]);
  });

  it('replays dispatches the client already had when told to (a resumed session may see events again)', async () => {
    const discord = await start();
    const first = await connect(discord);
    const ready = (await first.dispatch('READY')).d as { session_id: string };
    await first.dispatch('GUILD_CREATE');
    const before = discord.gatewaySequence();
    await discord.channel(GENERAL).user(ALICE).sendMessage('seen once');
    const seen = (await first.dispatch('MESSAGE_CREATE')).s!;
    discord.dropConnection({ replaySince: before });
    const second = await RawGateway.connect(`${discord.gatewayUrl}?v=10&encoding=json`);
    sockets.push(second);
    second.send(6, { token: discord.botToken, session_id: ready.session_id, seq: seen });
    await second.dispatch('RESUMED');
    const dispatches = second.frames.filter((f: Frame) => f.op === 0);
    expect(dispatches.map((f) => [f.t, f.s, (f.d as any).content])).toEqual([
      ['MESSAGE_CREATE', seen, 'seen once'],
      ['RESUMED', seen + 1, undefined],
    ]);
    expect(discord.resumes()).toMatchObject([{ accepted: true, seq: seen, replayed: 1 }]);
  });

  it('answers RESUME of an unknown or cleanly closed session with op 9 (not resumable)', async () => {
    const discord = await start();
    const first = await connect(discord);
    const ready = (await first.dispatch('READY')).d as { session_id: string };
    await first.close(1000);
    const second = await RawGateway.connect(`${discord.gatewayUrl}?v=10&encoding=json`);
    sockets.push(second);
    second.send(6, { token: discord.botToken, session_id: ready.session_id, seq: 1 });
    expect((await second.next((f) => f.op === 9)).d).toBe(false);
  });

  it('stops acknowledging heartbeats after stopAcking()', async () => {
    const discord = await start();
    const socket = await connect(discord);
    await socket.dispatch('GUILD_CREATE');
    socket.send(1, 1);
    await socket.next((f) => f.op === 11);
    discord.stopAcking();
    socket.send(1, 2);
    socket.send(3, { since: null, activities: [], status: 'online', afk: false });
    await discord.waitFor(() => (discord.gatewayLog().filter((e) => e.direction === 'in').length >= 4 ? true : undefined), { description: 'the frames' });
    // The twin logs what it sends synchronously, so the log (not the socket) proves no second ACK went out.
    expect(discord.gatewayLog().filter((e) => e.direction === 'out' && e.op === 11)).toHaveLength(1);
  });

  it('answers op 8 with one GUILD_MEMBERS_CHUNK', async () => {
    const discord = await start();
    const socket = await connect(discord);
    await socket.dispatch('GUILD_CREATE');
    socket.send(8, { guild_id: GUILD, query: 'al', limit: 0, nonce: 'n1' });
    const chunk = (await socket.dispatch('GUILD_MEMBERS_CHUNK')).d as any;
    expect(chunk).toMatchObject({ guild_id: GUILD, chunk_index: 0, chunk_count: 1, nonce: 'n1' });
    expect(chunk.members.map((m: any) => m.user.username)).toEqual(['alice']);
  });
});

describe('interactions', () => {
  it('enforces one acknowledgement: the second gets 400 code 40060', async () => {
    const { discord, socket } = await withSlash();
    const from = socket.frames.length;
    const handle = await discord.channel(GENERAL).user(ALICE).slash('sb', { subcommand: 'send', options: { name: 'kumo', prompt: 'hi' } });
    const i = await interactionFrame(socket, from);
    expect(i.data).toMatchObject({ name: 'sb', options: [{ type: 1, name: 'send', options: [{ name: 'name', value: 'kumo' }, { name: 'prompt', value: 'hi' }] }] });
    const callback = `/interactions/${i.id}/${i.token}/callback`;
    expect((await api(discord, 'POST', callback, { type: 4, data: { content: 'ok' } }, null)).status).toBe(204);
    expect(await api(discord, 'POST', callback, { type: 4, data: { content: 'again' } }, null)).toMatchObject({ status: 400, body: { code: 40060 } });
    expect((await handle.waitForReply()).content).toBe('ok');
  });

  it('answers a first callback after the deadline with 404 10062, driven by an injected clock', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const { discord, socket } = await withSlash({ clock: { now: () => now } });
    const from = socket.frames.length;
    const handle = await discord.channel(GENERAL).user(ALICE).slash('sb', { subcommand: 'send', options: { name: 'kumo', prompt: 'hi' } });
    const i = await interactionFrame(socket, from);
    now += 3001;
    expect(await api(discord, 'POST', `/interactions/${i.id}/${i.token}/callback`, { type: 5 }, null)).toMatchObject({
      status: 404,
      body: { code: 10062, message: 'Unknown interaction' },
    });
    await expect(handle.waitForReply()).rejects.toBeInstanceOf(InteractionFailedError);
  });

  it('decodes %40original, and fills a deferred reply with the first follow-up', async () => {
    const { discord, socket } = await withSlash();
    const from = socket.frames.length;
    const handle = await discord.channel(GENERAL).user(ALICE).slash('sb', { subcommand: 'send', options: { name: 'kumo', prompt: 'hi' } });
    const i = await interactionFrame(socket, from);
    const defer = await api(discord, 'POST', `/interactions/${i.id}/${i.token}/callback?with_response=true`, { type: 5 }, null);
    expect(defer.body).toMatchObject({ interaction: { id: i.id, type: 2, response_message_loading: true }, resource: { type: 5, message: { flags: 128 } } });
    const webhook = `/webhooks/${discord.applicationId}/${i.token}`;
    const first = await api(discord, 'POST', `${webhook}?wait=true`, { content: 'done' }, null);
    expect(first.body).toMatchObject({ id: defer.body!.resource.message.id, content: 'done' });
    const second = await api(discord, 'POST', `${webhook}?wait=true`, { content: 'more', flags: 64 }, null);
    expect(second.body).toMatchObject({ content: 'more', flags: 64 });
    const edited = await api(discord, 'PATCH', `${webhook}/messages/%40original`, { content: 'done!' }, null);
    expect(edited).toMatchObject({ status: 200, body: { content: 'done!' } });
    expect((await handle.waitForReply()).content).toBe('done!');
    expect((await handle.waitForFollowUp()).ephemeral).toBe(true);
    expect(discord.channel(GENERAL).transcript()).toMatchInlineSnapshot(`
      "alice: /sb send name:kumo prompt:hi
      bot: done! (edited)
      bot (only alice): more"
    `);
  });

  it('expires the webhook token after interactionTokenTtlMs with 401 50027', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const { discord, socket } = await withSlash({ clock: { now: () => now }, interactionTokenTtlMs: 60_000 });
    const from = socket.frames.length;
    await discord.channel(GENERAL).user(ALICE).slash('sb', { subcommand: 'send', options: { name: 'kumo', prompt: 'hi' } });
    const i = await interactionFrame(socket, from);
    expect((await api(discord, 'POST', `/interactions/${i.id}/${i.token}/callback`, { type: 5 }, null)).status).toBe(204);
    now += 60_001;
    expect(await api(discord, 'PATCH', `/webhooks/${discord.applicationId}/${i.token}/messages/@original`, { content: 'late' }, null)).toMatchObject({
      status: 401,
      body: { code: 50027 },
    });
  });

  it('answers webhook calls before an acknowledgement with Discord errors', async () => {
    const { discord, socket } = await withSlash();
    const from = socket.frames.length;
    await discord.channel(GENERAL).user(ALICE).slash('sb', { subcommand: 'send', options: { name: 'kumo', prompt: 'hi' } });
    const i = await interactionFrame(socket, from);
    const webhook = `/webhooks/${discord.applicationId}/${i.token}`;
    expect((await api(discord, 'PATCH', `${webhook}/messages/@original`, { content: 'x' }, null)).body).toMatchObject({ code: 10008 });
    expect((await api(discord, 'POST', webhook, { content: 'x' }, null)).body).toMatchObject({ code: 10015 });
    expect((await api(discord, 'POST', `/webhooks/${discord.applicationId}/nope`, { content: 'x' }, null)).body).toMatchObject({ code: 10015 });
  });

  it('accepts deferUpdate on a click, then sees the edit through either route', async () => {
    const { discord, socket } = await withSlash();
    const posted = (await api(discord, 'POST', `/channels/${GENERAL}/messages`, {
      content: 'Deploy?',
      components: [{ type: 1, components: [{ type: 2, style: 1, label: 'Go', custom_id: 'go' }] }],
    })).body!;
    const from = socket.frames.length;
    const click = await discord.channel(GENERAL).user(ALICE).clickButton(posted.id, 'go');
    const i = await interactionFrame(socket, from);
    expect(i).toMatchObject({ type: 3, data: { custom_id: 'go', component_type: 2 }, message: { id: posted.id } });
    expect((await api(discord, 'POST', `/interactions/${i.id}/${i.token}/callback`, { type: 6 }, null)).status).toBe(204);
    await api(discord, 'PATCH', `/channels/${GENERAL}/messages/${posted.id}`, { content: 'Deploying…', components: [] });
    expect(await click.waitForReply()).toMatchObject({ id: posted.id, content: 'Deploying…', edited: true });
    await expect(discord.channel(GENERAL).user(ALICE).clickButton(posted.id, 'go')).rejects.toThrow('No button with custom_id "go"');
  });

  it('refuses callback types that do not fit the interaction', async () => {
    const { discord, socket } = await withSlash();
    const from = socket.frames.length;
    await discord.channel(GENERAL).user(ALICE).slash('sb', { subcommand: 'send', options: { name: 'kumo', prompt: 'hi' } });
    const i = await interactionFrame(socket, from);
    expect((await api(discord, 'POST', `/interactions/${i.id}/${i.token}/callback`, { type: 6 }, null)).body).toMatchObject({ code: 50035 });
    expect((await api(discord, 'POST', `/interactions/${i.id}/wrong-token/callback`, { type: 4, data: { content: 'x' } }, null)).body).toMatchObject({ code: 10062 });
  });

  it('validates slash invocations against the registered command', async () => {
    const { discord } = await withSlash();
    const alice = discord.channel(GENERAL).user(ALICE);
    await expect(alice.slash('nope')).rejects.toThrow('/nope is not registered for guild');
    await expect(alice.slash('sb')).rejects.toThrow('/sb: a subcommand is required (has: send)');
    await expect(alice.slash('sb', { subcommand: 'send', options: { name: 'kumo' } })).rejects.toThrow('missing required option "prompt"');
    await expect(alice.slash('sb', { subcommand: 'send', options: { name: 'kumo', prompt: 'x', colour: 'red' } })).rejects.toThrow('unknown option "colour"');
    await expect(alice.slash('sb', { subcommand: 'send', options: { name: 'kumo', prompt: 'x', priority: 3 } })).rejects.toThrow('expects one of 1, 2');
    await expect(alice.autocomplete('sb', { subcommand: 'send', focused: 'prompt', value: 'x' })).rejects.toThrow('not registered with autocomplete');
  });

  it('rejects command registrations Discord would reject', async () => {
    const discord = await start();
    const bad = await api(discord, 'PUT', `/applications/${discord.applicationId}/commands`, [{ name: 'Bad Name', description: '' }]);
    expect(bad).toMatchObject({ status: 400, body: { code: 50035, errors: { '0': { name: { _errors: [{ code: 'APPLICATION_COMMAND_INVALID_NAME' }] } } } } });
    expect((await api(discord, 'PUT', `/applications/${testSnowflake(5)}/commands`, [])).body).toMatchObject({ code: 50001 });
  });

  it('validates subcommand groups as Discord does: 25 options per level, valid names, one level of groups', async () => {
    const discord = await start();
    const put = (options: unknown[]) => api(discord, 'PUT', `/applications/${discord.applicationId}/guilds/${GUILD}/commands`, [{ name: 'sb', description: 'Switchboard', options }]);
    const sub = (name: string, options: unknown[] = []) => ({ type: 1, name, description: name, options });
    const group = (name: string, options: unknown[]) => ({ type: 2, name, description: name, options });
    const subs = (n: number, prefix = 'v') => Array.from({ length: n }, (_, i) => sub(`${prefix}${i}`));
    const formErrors = async (options: unknown[]) => {
      const answer = await put(options);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 50035 });
      return answer.body!.errors['0'];
    };

    // 24 subcommands and a group of 25 with options: what Switchboard's `/sb` looks like.
    const ok = await put([...subs(24), group('more', [sub('schedule', [{ type: 3, name: 'when', description: 'when', required: true }]), ...subs(24, 'm')])]);
    expect(ok.status).toBe(200);
    expect(discord.registeredCommands(GUILD)[0]!.options![24]).toMatchObject({ type: 2, name: 'more', options: expect.arrayContaining([expect.objectContaining({ name: 'schedule' })]) });

    expect(await formErrors(subs(26))).toMatchObject({ options: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } });
    expect(await formErrors([...subs(24), group('more', subs(26, 'm'))])).toMatchObject({ options: { '24': { options: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } } });
    expect(await formErrors([group('more', [sub('Bad Name'), sub('x'.repeat(33))])])).toMatchObject({
      options: { '0': { options: { '0': { name: { _errors: [{ code: 'APPLICATION_COMMAND_INVALID_NAME' }] } }, '1': { name: { _errors: [{ code: 'APPLICATION_COMMAND_INVALID_NAME' }] } } } } },
    });
    // A group inside a group, a plain option in a group, a subcommand inside a subcommand.
    const nesting = { _errors: [{ code: 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID' }] };
    expect(await formErrors([group('more', [group('deeper', [sub('x')])])])).toMatchObject({ options: { '0': { options: { '0': nesting } } } });
    expect(await formErrors([group('more', [{ type: 3, name: 'loose', description: 'loose' }])])).toMatchObject({ options: { '0': { options: { '0': nesting } } } });
    expect(await formErrors([sub('outer', [sub('inner')])])).toMatchObject({ options: { '0': { options: { '0': nesting } } } });
    // Subcommands and plain options at one level; an empty group; two options of one name.
    expect(await formErrors([sub('send'), { type: 3, name: 'loose', description: 'loose' }])).toMatchObject({ options: { '1': nesting } });
    expect(await formErrors([group('more', [])])).toMatchObject({ options: { '0': { options: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH' }] } } } });
    expect(await formErrors([sub('send'), group('send', [sub('x')])])).toMatchObject({ options: { '1': { name: { _errors: [{ code: 'APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME' }] } } } });
    // Names, descriptions and choices of the whole command over 8 000 characters.
    const long = Array.from({ length: 25 }, (_, g) => group(`g${g}`, Array.from({ length: 4 }, (_, i) => ({ ...sub(`s${i}`), description: 'd'.repeat(100) }))));
    expect(await formErrors(long)).toMatchObject({ _errors: [{ code: 'APPLICATION_COMMAND_TOO_LARGE' }] });
    // Nothing of the refused bodies was stored.
    expect(discord.registeredCommands(GUILD)[0]!.options).toHaveLength(25);
  });

  it('sends a grouped invocation as Discord does: SUB_COMMAND_GROUP › SUB_COMMAND › options, autocomplete too', async () => {
    const discord = await start();
    const socket = await connect(discord);
    await socket.dispatch('GUILD_CREATE');
    const body = {
      name: 'sb',
      description: 'Switchboard',
      options: [
        { type: 1, name: 'status', description: 'Status', options: [{ type: 3, name: 'name', description: 'n', required: true }] },
        {
          type: 2,
          name: 'more',
          description: 'More commands',
          options: [
            {
              type: 1,
              name: 'schedule',
              description: 'Schedule',
              options: [
                { type: 3, name: 'when', description: 'when', required: true },
                { type: 5, name: 'queue', description: 'queue' },
                { type: 3, name: 'command', description: 'command' },
              ],
            },
            { type: 1, name: 'budget', description: 'Budget', options: [{ type: 3, name: 'name', description: 'n', required: true, autocomplete: true }] },
          ],
        },
      ],
    };
    expect((await api(discord, 'PUT', `/applications/${discord.applicationId}/guilds/${GUILD}/commands`, [body])).status).toBe(200);
    const alice = discord.channel(GENERAL).user(ALICE);

    let from = socket.frames.length;
    await alice.slash('sb', { group: 'more', subcommand: 'schedule', options: { command: 'status kumo', when: '6h', queue: true } });
    const invoked = await interactionFrame(socket, from);
    expect(invoked.data).toMatchObject({ name: 'sb', type: 1 });
    expect(invoked.data.options).toEqual([
      {
        type: 2,
        name: 'more',
        options: [
          {
            type: 1,
            name: 'schedule',
            options: [
              { type: 3, name: 'when', value: '6h' },
              { type: 5, name: 'queue', value: true },
              { type: 3, name: 'command', value: 'status kumo' },
            ],
          },
        ],
      },
    ]);

    from = socket.frames.length;
    await alice.autocomplete('sb', { group: 'more', subcommand: 'budget', focused: 'name', value: 'ku' });
    const typed = await interactionFrame(socket, from);
    expect(typed.data.options).toEqual([{ type: 2, name: 'more', options: [{ type: 1, name: 'budget', options: [{ type: 3, name: 'name', value: 'ku', focused: true }] }] }]);

    // Top-level subcommands stay one level deep; a group needs its subcommand, and only its own.
    from = socket.frames.length;
    await alice.slash('sb', { subcommand: 'status', options: { name: 'kumo' } });
    expect((await interactionFrame(socket, from)).data.options).toEqual([{ type: 1, name: 'status', options: [{ type: 3, name: 'name', value: 'kumo' }] }]);
    await expect(alice.slash('sb', { group: 'more' })).rejects.toThrow('/sb more: a subcommand is required (has: schedule, budget)');
    await expect(alice.slash('sb', { group: 'more', subcommand: 'status', options: { name: 'kumo' } })).rejects.toThrow('unknown subcommand "status"');
    await expect(alice.slash('sb', { subcommand: 'schedule', options: { when: '6h' } })).rejects.toThrow('unknown subcommand "schedule"');
    await expect(alice.slash('sb', { group: 'less', subcommand: 'schedule' })).rejects.toThrow('unknown subcommand group "less"');
  });
});

describe('messages and limits', () => {
  it('rejects oversized embeds and empty messages with the codes Discord uses', async () => {
    const discord = await start();
    const post = (body: unknown) => api(discord, 'POST', `/channels/${GENERAL}/messages`, body);
    expect((await post({ embeds: [{ description: 'd'.repeat(4097) }] })).body).toMatchObject({
      code: 50035,
      errors: { embeds: { '0': { description: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } } },
    });
    expect((await post({ content: '   ' })).body).toMatchObject({ code: 50006, message: 'Cannot send an empty message' });
    expect((await post({ content: 'x', message_reference: { message_id: testSnowflake(77) } })).body).toMatchObject({ code: 50035 });
    expect((await api(discord, 'POST', `/channels/${testSnowflake(404)}/messages`, { content: 'x' })).body).toMatchObject({ code: 10003 });
  });

  it.each([
    ['content over 2000', { content: 'x'.repeat(LIMITS.content + 1) }, 50035],
    ['embed title over 256', { embeds: [{ title: 't'.repeat(257) }] }, 50035],
    ['11 embeds', { embeds: Array.from({ length: 11 }, () => ({ title: 't' })) }, 50035],
    ['embeds over 6000 in total', { embeds: [{ description: 'd'.repeat(4000) }, { description: 'd'.repeat(2001) }] }, 50035],
    ['6 action rows', { components: Array.from({ length: 6 }, (_, i) => ({ type: 1, components: [{ type: 2, style: 1, label: 'b', custom_id: `b${i}` }] })) }, 50035],
    ['6 buttons in a row', { components: [{ type: 1, components: Array.from({ length: 6 }, (_, i) => ({ type: 2, style: 1, label: 'b', custom_id: `b${i}` })) }] }, 50035],
    ['duplicate custom ids', { components: [{ type: 1, components: [{ type: 2, style: 1, custom_id: 'a' }, { type: 2, style: 1, custom_id: 'a' }] }] }, 50035],
    ['parse users with a users list', { content: 'x', allowed_mentions: { parse: ['users'], users: [ALICE] } }, 50035],
    ['nothing at all', {}, 50006],
  ])('rejects %s', (_name, body, code) => {
    const b = body as { content?: string; embeds?: never[]; components?: unknown[]; allowed_mentions?: never };
    const error = validateMessage({
      content: b.content ?? '',
      embeds: b.embeds ?? [],
      components: b.components ?? [],
      attachmentCount: 0,
      flags: 0,
      allowedMentions: b.allowed_mentions,
    });
    expect(error?.code).toBe(code);
  });

  it('accepts what Discord accepts at the limits', () => {
    const error = validateMessage({
      content: 'x'.repeat(2000),
      embeds: [{ title: 't'.repeat(256), description: 'd'.repeat(4096) }],
      components: Array.from({ length: 5 }, (_, r) => ({ type: 1, components: Array.from({ length: 5 }, (_, i) => ({ type: 2, style: 1, custom_id: `b${r}-${i}` })) })),
      attachmentCount: 10,
      flags: 0,
      allowedMentions: { parse: [] },
    });
    expect(error).toBeNull();
  });

  it('stores multipart uploads under their attachment names and serves the bytes', async () => {
    const discord = await start();
    const form = new FormData();
    form.append('payload_json', JSON.stringify({ content: 'report', attachments: [{ id: 0, filename: 'report.md', description: 'the report' }] }));
    form.append('files[0]', new Blob(['# done\n'], { type: 'text/markdown' }), 'upload.bin');
    const response = await fetch(`${discord.restApi}/v10/channels/${GENERAL}/messages`, { method: 'POST', headers: { authorization: `Bot ${discord.botToken}` }, body: form });
    const message = (await response.json()) as any;
    expect(message.attachments).toMatchObject([{ filename: 'report.md', description: 'the report', size: 7, content_type: 'text/markdown' }]);
    expect(discord.files()).toMatchObject([{ filename: 'report.md', contentType: 'text/markdown', size: 7, uploadedBy: 'bot' }]);
    expect(discord.restCalls()[0]!.files).toEqual([{ field: 'files[0]', filename: 'upload.bin', contentType: 'text/markdown', size: 7 }]);
    expect(await (await fetch(message.attachments[0].url)).text()).toBe('# done\n');
  });

  it('rejects uploads over maxUploadBytes with 413 40005', async () => {
    const discord = await start({ maxUploadBytes: 4 });
    const form = new FormData();
    form.append('payload_json', JSON.stringify({ content: 'big' }));
    form.append('files[0]', new Blob(['12345']), 'big.bin');
    const response = await fetch(`${discord.restApi}/v10/channels/${GENERAL}/messages`, { method: 'POST', headers: { authorization: `Bot ${discord.botToken}` }, body: form });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 40005 });
    expect(discord.files()).toEqual([]);
  });

  it('records reactions and dispatches them to sessions with the reactions intent', async () => {
    const discord = await start();
    const socket = await connect(discord, ALL | (1 << 10));
    const from = socket.frames.length;
    const user = await discord.channel(GENERAL).user(ALICE).sendMessage('deploy?');
    expect((await api(discord, 'PUT', `/channels/${GENERAL}/messages/${user.id}/reactions/${encodeURIComponent('✅')}/%40me`)).status).toBe(204);
    const reaction = (await socket.dispatch('MESSAGE_REACTION_ADD', from)).d as any;
    expect(reaction).toMatchObject({ message_id: user.id, user_id: discord.botUserId, emoji: { id: null, name: '✅' }, message_author_id: ALICE });
    expect(discord.message(user.id)?.reactions).toEqual([{ emoji: '✅', userId: discord.botUserId }]);
    expect(discord.channel(GENERAL).transcript()).toBe('alice: deploy? [reactions: ✅]');
  });

  it('lets a bot edit and delete its messages but not edit a user message', async () => {
    const discord = await start();
    await connect(discord);
    const posted = (await api(discord, 'POST', `/channels/${GENERAL}/messages`, { content: 'v1' })).body!;
    expect((await api(discord, 'PATCH', `/channels/${GENERAL}/messages/${posted.id}`, { content: 'v2' })).body).toMatchObject({ content: 'v2', edited_timestamp: expect.any(String) });
    const user = await discord.channel(GENERAL).user(ALICE).sendMessage('mine');
    expect((await api(discord, 'PATCH', `/channels/${GENERAL}/messages/${user.id}`, { content: 'hacked' })).body).toMatchObject({ code: 50005 });
    expect((await api(discord, 'DELETE', `/channels/${GENERAL}/messages/${posted.id}`)).status).toBe(204);
    expect(discord.messages({ channel: GENERAL }).map((m) => m.content)).toEqual(['mine']);
  });
});

describe('failure injection', () => {
  it('sends Discord 429 headers and body, global or per bucket', async () => {
    const discord = await start();
    discord.failNext(/^POST \/channels\/\d+\/messages$/, { retryAfterSec: 1.5 });
    discord.failNext('GET /channels/*', { retryAfterSec: 2, global: true });
    const bucket = await api(discord, 'POST', `/channels/${GENERAL}/messages`, { content: 'x' });
    expect(bucket.status).toBe(429);
    expect(Object.fromEntries([...bucket.headers].filter(([k]) => k.startsWith('x-ratelimit') || k === 'retry-after'))).toMatchObject({
      'retry-after': '1.5',
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset-after': '1.5',
      'x-ratelimit-bucket': expect.any(String),
      'x-ratelimit-scope': 'user',
    });
    expect(bucket.body).toEqual({ message: 'You are being rate limited.', retry_after: 1.5, global: false });
    const global = await api(discord, 'GET', `/channels/${GENERAL}`);
    expect(global.headers.get('x-ratelimit-global')).toBe('true');
    expect(global.body).toMatchObject({ global: true, retry_after: 2 });
    expect((await api(discord, 'GET', `/channels/${GENERAL}`)).status).toBe(200);
  });

  it('injects other statuses and counts, matching by method-less pattern or predicate', async () => {
    const discord = await start();
    const failure = discord.failNext('/channels/:id', { status: 503, count: 2, code: 0, message: 'upstream' });
    discord.failNext((r) => r.route === 'GET /users/@me', { status: 500 });
    expect((await api(discord, 'GET', `/channels/${GENERAL}`)).status).toBe(503);
    expect((await api(discord, 'GET', `/channels/${GENERAL}`)).body).toEqual({ message: 'upstream', code: 0 });
    expect((await api(discord, 'GET', `/channels/${GENERAL}`)).status).toBe(200);
    expect((await api(discord, 'GET', '/users/@me')).status).toBe(500);
    expect(failure).toMatchObject({ hits: 2, remaining: 0 });
    expect(discord.restCalls({ injected: true })).toHaveLength(3);
  });
});

describe('waits and transcripts', () => {
  it('fails a wait with a message that lists what did arrive', async () => {
    const discord = await start();
    await connect(discord);
    await discord.channel(GENERAL).user(ALICE).sendMessage('something else');
    await expect(discord.waitForMessage({ channel: GENERAL, text: 'never', timeoutMs: 50 })).rejects.toThrow(
      /Timed out after 50 ms waiting for a message matching \{channel: "\d+", text: "never"\}\.\n1 messages arrived:\n {2}- channel \d+ id=\d+ alice: "something else"/,
    );
  });

  it('renders embeds, buttons, files, mentions and standalone threads', async () => {
    const discord = await start();
    await connect(discord);
    await api(discord, 'POST', `/channels/${GENERAL}/messages`, {
      content: `Hi <@${ALICE}>`,
      embeds: [{ title: 'Status', description: 'all green', fields: [{ name: 'todo', value: '3/5' }] }],
      components: [{ type: 1, components: [{ type: 2, style: 1, label: 'Retry', custom_id: 'retry' }, { type: 2, style: 5, label: 'Docs', url: 'https://example.com' }] }],
    });
    const thread = (await api(discord, 'POST', `/channels/${GENERAL}/threads`, { name: 'kumo', type: 11 })).body!;
    await api(discord, 'POST', `/channels/${thread.id}/messages`, { content: 'line 1\nline 2' });
    await discord.channel(thread.id).user(ALICE).sendMessage('thanks');
    expect(discord.channel(GENERAL).transcript()).toMatchInlineSnapshot(`
      "bot: Hi @alice
        [embed: Status — all green]
        todo: 3/5
        [Retry] [Docs ↗]
      bot: [thread: kumo]
        ↳ bot: line 1
            line 2
        ↳ alice: thanks"
    `);
  });
});
