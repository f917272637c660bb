import { REST, Routes, type APIMessage } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDiscordTwin, testSnowflake, type DiscordTwin } from './index.js';

/**
 * Discord's edit limit as the twin enforces it: five edits per five seconds per channel, with the bucket headers
 * on every answer (so the real @discordjs/rest queues instead of meeting a 429) and a 429 with Retry-After for a
 * client that ignores them. The window is shrunk to 400 ms so the tests stay quick; the counting is the same.
 */
const GUILD = testSnowflake(1);
const ONE = testSnowflake(2);
const TWO = testSnowflake(3);

let discord: DiscordTwin;

beforeEach(async () => {
  discord = await startDiscordTwin({ guilds: [{ id: GUILD, channels: [{ id: ONE, name: 'one' }, { id: TWO, name: 'two' }] }] });
  discord.editLimit.windowMs = 400;
});

afterEach(async () => {
  await discord.close();
});

async function raw(method: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${discord.restApi}/v10${path}`, {
    method,
    headers: { authorization: `Bot ${discord.botToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function post(channel: string, content: string): Promise<string> {
  const response = await raw('POST', `/channels/${channel}/messages`, { content });
  return ((await response.json()) as APIMessage).id;
}

describe('Discord twin: message edit limit', () => {
  it('answers the sixth edit in a channel within the window with 429, Retry-After and the bucket headers; another channel is not affected', async () => {
    const one = await post(ONE, 'card one');
    const two = await post(TWO, 'card two');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await raw('PATCH', `/channels/${ONE}/messages/${one}`, { content: `state ${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = discord.restCalls({ route: 'PATCH /channels/:id/messages/:id' }).filter((c) => c.status === 429);
    expect(limited).toHaveLength(1);
    const again = await raw('PATCH', `/channels/${ONE}/messages/${one}`, { content: 'still too soon' });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(again.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(again.headers.get('x-ratelimit-bucket')).toBe('twin-message-edit');
    expect((await raw('PATCH', `/channels/${TWO}/messages/${two}`, { content: 'other channel' })).status).toBe(200);
    expect(discord.message(one)!.content).toBe('state 4');
  });

  it('the real @discordjs/rest reads the headers and queues: ten edits land in order with no 429', async () => {
    const rest = new REST({ api: discord.restApi }).setToken(discord.botToken);
    const id = await post(ONE, 'card');
    const started = Date.now();
    for (let i = 0; i < 10; i++) await rest.patch(Routes.channelMessage(ONE, id), { body: { content: `state ${i}` } });
    const calls = discord.restCalls({ route: 'PATCH /channels/:id/messages/:id' });
    expect(calls.filter((c) => c.status === 429)).toHaveLength(0);
    expect(calls).toHaveLength(10);
    // Ten edits at five per window cannot all fit in one window.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(discord.message(id)!.content).toBe('state 9');
  });

  it('an edit of a message deleted in the client answers 10008 Unknown Message', async () => {
    const id = await post(ONE, 'card');
    discord.deleteMessage(id);
    const response = await raw('PATCH', `/channels/${ONE}/messages/${id}`, { content: 'new state' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: number }).code).toBe(10008);
  });
});
