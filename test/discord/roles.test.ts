import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, text } from '../../src/core/reply.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';
import type { TwinMessage } from '../twins/discord/index.js';
import { ADMIN, ALICE, BOB, EVE, GUILD, OTHER_ROLE, ROLEY, WORK, startHarness, type Harness } from './harness.js';

/**
 * Who may do what, through Discord's real path: `/sb`, `!sb` messages and button presses through the twin, the real
 * discord.js client, the real core and a real `opencode` server. Alice is a member by id (DISCORD_ALLOWED_USERS),
 * Roley a member through the ops role (DISCORD_ALLOWED_ROLES), Eve a viewer through her role
 * (`viewers: [discord-role:…]`), the admin an admin, and Bob nobody. Refusals of a slash command or a button press
 * are ephemeral; a refused `!sb` message gets a reply to that message (Discord has no private answer to one).
 */
let llm: FakeLlm;
let server: OpencodeServer;
let configDir: string;
let h: Harness;

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  configDir = mkdtempSync(join(tmpdir(), 'sb-discord-roles-'));
  const file = join(configDir, 'switchboard.yaml');
  writeFileSync(
    file,
    [
      'servers:',
      '  - name: lab',
      `    url: ${server.url}`,
      'access:',
      `  admins: [discord:${ADMIN}]`,
      `  viewers: [discord-role:${OTHER_ROLE}]`,
      'limits:',
      '  commandsPerMinute: 1000',
    ].join('\n'),
  );
  h = await startHarness({ env: { SWITCHBOARD_CONFIG: file, DISCORD_ALLOWED_USERS: ALICE } });
  await h.discord.waitForCommands({ guildId: GUILD, names: ['sb'] });
  const created = await h.answer(await h.slash(ALICE, 'new', { server: 'lab', name: 'kumo', agent: 'build' }), /🆕/, 60_000);
  expect(created.content).toContain('🆕 **kumo**');
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

const viewerHint = (who: string) => `an admin can add \`discord:${who}\` under \`access.viewers\` (or \`access.names.kumo.viewers\`) in switchboard.yaml`;
const memberHint = (who: string) =>
  `an admin can add \`discord:${who}\` under \`access.members\` (or \`access.names.kumo.members\`) in switchboard.yaml (or its id to DISCORD_ALLOWED_USERS or DISCORD_ALLOWED_ROLES)`;
const adminHint = (who: string) => `an admin can add \`discord:${who}\` under \`access.admins\` (or \`access.names.kumo.admins\`) in switchboard.yaml`;
const needs = (who: string, verb: string, role: string) => `❌ discord:${who} may not use \`${verb}\`: it needs the ${role} role`;

/** `/sb <verb>` by `user` is refused: an ephemeral follow-up, and the public "thinking…" goes away. */
async function refusedBySlash(user: string, verb: string, options: Record<string, string>, message: string, hint: string): Promise<void> {
  const interaction = await h.slash(user, verb, options);
  const refusal = await interaction.waitForFollowUp();
  expect(refusal.ephemeral).toBe(true);
  expect(refusal.content).toContain(message);
  expect(refusal.content).toContain(hint);
  expect(interaction.reply()?.deleted ?? true).toBe(true);
}

/** `!sb <line>` by `user` is refused in a reply to their message. */
async function refusedByMessage(user: string, line: string, message: string, hint: string): Promise<TwinMessage> {
  const said = await h.say(user, `!sb ${line}`);
  const refusal = await said.waitForBotReply();
  expect(refusal.replyTo?.messageId).toBe(said.id);
  expect(refusal.content).toContain(message);
  expect(refusal.content).toContain(hint);
  return refusal;
}

describe('roles over Discord', { timeout: 120_000 }, () => {
  it('status: a member and a viewer (by role) read; someone unknown is told to become a viewer', async () => {
    expect((await h.answer(await h.slash(ALICE, 'status', { name: 'kumo' }))).content).toMatch(/\*\*kumo\*\* · OpenCode on lab/);
    expect((await h.answer(await h.slash(EVE, 'status', { name: 'kumo' }))).content).toMatch(/\*\*kumo\*\* · OpenCode on lab/);
    await refusedBySlash(BOB, 'status', { name: 'kumo' }, needs(BOB, 'status', 'viewer'), viewerHint(BOB));
    await refusedByMessage(BOB, 'status kumo', needs(BOB, 'status', 'viewer'), viewerHint(BOB));
  });

  it('send: a member sends; a viewer and someone unknown are refused, and nothing reaches the agent', async () => {
    await refusedBySlash(EVE, 'send', { name: 'kumo', prompt: 'ROLE-EVE let me in' }, needs(EVE, 'send', 'member'), memberHint(EVE));
    await refusedByMessage(BOB, 'send kumo ROLE-BOB let me in', needs(BOB, 'send', 'member'), memberHint(BOB));
    const echo = await (await h.say(ALICE, '!sb send kumo ROLE-ALICE check the roles')).waitForBotReply({ text: /📨/ });
    expect(echo.content).toContain('ROLE-ALICE check the roles');
    await llm.waitForRequest('ROLE-ALICE', 60_000);
    expect(llm.requests.some((r) => /ROLE-(EVE|BOB)/.test(r.lastUserText))).toBe(false);
  });

  it('abort: the member whose work it is may; a member by role, a viewer and someone unknown may not', async () => {
    await refusedBySlash(ROLEY, 'abort', { name: 'kumo' }, `❌ discord:${ROLEY} may not abort kumo: it belongs to discord:${ALICE}`, `only discord:${ALICE} or an admin may do that`);
    await refusedBySlash(EVE, 'abort', { name: 'kumo' }, needs(EVE, 'abort', 'member'), memberHint(EVE));
    await refusedByMessage(BOB, 'abort kumo', needs(BOB, 'abort', 'member'), memberHint(BOB));
    expect((await h.answer(await h.slash(ALICE, 'abort', { name: 'kumo' }))).content).toContain('⏹ abort sent to **kumo**');
  });

  it('forget: only an admin; members, viewers and strangers are told it takes the admin role', async () => {
    for (const who of [ALICE, ROLEY, EVE, BOB]) await refusedBySlash(who, 'forget', { name: 'kumo' }, needs(who, 'forget', 'admin'), adminHint(who));
    await refusedByMessage(ROLEY, 'forget kumo', needs(ROLEY, 'forget', 'admin'), adminHint(ROLEY));
    expect(h.app.switchboard.services.registry.isTaken('kumo')).toBe(true);
  });

  it('a permission button: only the sender (or an admin) may press it; every refusal is ephemeral and keeps the buttons', async () => {
    // The buttons the monitor posts when kumo asks permission, offered to alice (who sent its prompt).
    const { choices } = h.app.switchboard.services;
    const origin = { adapter: 'discord', channel: WORK };
    const block = choices.offer({ id: `discord:${ALICE}` }, origin, '🔐 **kumo** asks permission: `bash echo roles`', [
      { label: 'Approve once', command: 'approve kumo once', style: 'primary' },
      { label: 'Always', command: 'approve kumo always' },
      { label: 'Deny', command: 'deny kumo', style: 'danger' },
    ], 'answer the permission requests of kumo');
    const before = h.discord.messages({ channel: WORK }).at(-1)!;
    h.app.switchboard.outbox.enqueue({ origin, reply: reply([block, text(`only discord:${ALICE} or an admin may answer`)], { tone: 'warning' }) });
    const ask = await h.botMessage(before, { text: /asks permission: `bash echo roles`/ });
    const buttons = () =>
      (h.discord.message(ask.id)!.components as unknown as Array<{ components?: Array<{ label: string; custom_id: string }> }>).flatMap((row) => row.components ?? []);
    expect(buttons().map((b) => b.label)).toEqual(['Approve once', 'Always', 'Deny']);
    const [once, , deny] = buttons();

    const press = async (user: string, customId: string) => {
      const refusal = await (await h.discord.channel(WORK).user(user).clickButton(ask, customId)).waitForFollowUp();
      expect(refusal.ephemeral).toBe(true);
      return refusal.content;
    };
    expect(await press(BOB, once!.custom_id)).toContain(needs(BOB, 'approve', 'member'));
    expect(await press(EVE, deny!.custom_id)).toContain(memberHint(EVE));
    expect(await press(ROLEY, once!.custom_id)).toContain(`discord:${ROLEY} may not answer the permission requests of kumo: it belongs to discord:${ALICE}`);
    expect(buttons()).toHaveLength(3);
    // Nobody's refusal went to the channel.
    expect(h.discord.messages({ channel: WORK, includeEphemeral: false }).filter((m) => m.seq > ask.seq && /may not/.test(m.content))).toEqual([]);

    // Alice's press is hers to make: it goes through to the server (which has nothing pending after the abort).
    const mine = await press(ALICE, once!.custom_id);
    expect(mine).toContain('**kumo** is not waiting for a permission');
    expect(mine).not.toMatch(/may not/);
  });

  it('an admin may do what members may not', async () => {
    expect((await h.answer(await h.slash(ADMIN, 'forget', { name: 'kumo' }))).content).toContain('🗑 forgot **kumo**');
    expect(h.app.switchboard.services.registry.isTaken('kumo')).toBe(false);
  });
});
