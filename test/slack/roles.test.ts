import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { reply, text } from '../../src/core/reply.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';
import { listButtons, type SlackMessage } from '../twins/slack/index.js';
import { ADMIN, ALICE, BOB, EVE, WORK, startHarness, type Harness } from './harness.js';

/**
 * Who may do what, through Slack's real path: `/sb` and button presses signed by the twin, the real Bolt App, the
 * real core and a real `opencode` server. Alice and Bob are members (SLACK_ALLOWED_USERS), Vera is a viewer and the
 * admin an admin (switchboard.yaml), Eve is nobody. Every refusal is private to the person refused and says how
 * an admin can allow them; what is allowed is answered in the channel.
 */
const VIEWER = 'UVIEW';

let llm: FakeLlm;
let server: OpencodeServer;
let configDir: string;
let h: Harness;

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  configDir = mkdtempSync(join(tmpdir(), 'sb-slack-roles-'));
  const file = join(configDir, 'switchboard.yaml');
  writeFileSync(
    file,
    [
      'servers:',
      '  - name: lab',
      `    url: ${server.url}`,
      'access:',
      `  admins: [slack:${ADMIN}]`,
      `  viewers: [slack:${VIEWER}]`,
      'limits:',
      '  commandsPerMinute: 1000',
    ].join('\n'),
  );
  h = await startHarness({ mode: 'http', env: { SWITCHBOARD_CONFIG: file } });
  h.slack.user(VIEWER, { name: 'vera' });
  const at = h.mark();
  await h.sb(ALICE, 'new kumo lab --agent build');
  await h.botMessage(at, { text: /🆕 \*kumo\*/, timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

function shown(message: { visibleText: string }): string {
  return decodeEntities(message.visibleText);
}

/** Bot messages in the channel (any thread) since `at` that carry a refusal: there must be none. */
function publicRefusals(at: number): SlackMessage[] {
  return h.slack.messages({ channel: WORK }).filter((m) => m.seq > at && /may not|needs the \w+ role/.test(shown(m)));
}

/** `/sb <line>` by `user` is refused: only they see why, and how an admin can allow it. */
async function refused(user: string, line: string, message: string, hint: string): Promise<void> {
  const at = h.mark();
  await h.sb(user, line);
  const note = await h.ephemeral(at, { user, text: /❌/ });
  expect(shown(note)).toContain(`❌ ${message}`);
  expect(shown(note)).toContain(hint);
  expect(publicRefusals(at)).toEqual([]);
}

/** `/sb <line>` by `user` is answered in the channel. */
async function answered(user: string, line: string, expected: RegExp): Promise<SlackMessage> {
  const at = h.mark();
  await h.sb(user, line);
  const message = await h.botMessage(at, { text: expected, timeoutMs: 30_000 });
  expect(h.slack.ephemerals().filter((e) => e.seq > at && e.user === user && /may not/.test(shown(e)))).toEqual([]);
  return message;
}

const member = (who: string, verb: string, name = 'kumo') =>
  [`slack:${who} may not use \`${verb}\`: it needs the member role`, `an admin can add \`slack:${who}\` under \`access.members\` (or \`access.names.${name}.members\`) in switchboard.yaml (or its id to SLACK_ALLOWED_USERS)`] as const;

describe('roles over Slack', { timeout: 120_000 }, () => {
  it('status: members and viewers read; someone unknown is told to become a viewer', async () => {
    await answered(ALICE, 'status kumo', /\*kumo\* · OpenCode on lab/);
    await answered(VIEWER, 'status kumo', /\*kumo\* · OpenCode on lab/);
    await refused(
      EVE,
      'status kumo',
      `slack:${EVE} may not use \`status\`: it needs the viewer role`,
      `an admin can add \`slack:${EVE}\` under \`access.viewers\` (or \`access.names.kumo.viewers\`) in switchboard.yaml`,
    );
  });

  it('send: a member sends; a viewer and someone unknown are refused, and nothing reaches the agent', async () => {
    await refused(VIEWER, 'send kumo ROLE-VIEWER let me in', ...member(VIEWER, 'send'));
    await refused(EVE, 'send kumo ROLE-EVE let me in', ...member(EVE, 'send'));
    await answered(ALICE, 'send kumo ROLE-ALICE check the roles', /📨 \*kumo\* ← /);
    await llm.waitForRequest('ROLE-ALICE', 60_000);
    expect(llm.requests.some((r) => /ROLE-(VIEWER|EVE)/.test(r.lastUserText))).toBe(false);
  });

  it('abort: the member whose work it is may; another member, a viewer and someone unknown may not', async () => {
    await refused(BOB, 'abort kumo', `slack:${BOB} may not abort kumo: it belongs to slack:${ALICE}`, `only slack:${ALICE} or an admin may do that`);
    await refused(VIEWER, 'abort kumo', ...member(VIEWER, 'abort'));
    await refused(EVE, 'abort kumo', ...member(EVE, 'abort'));
    await answered(ALICE, 'abort kumo', /⏹ abort sent to \*kumo\*/);
  });

  it('forget: only an admin; members, viewers and strangers are told it takes the admin role', async () => {
    for (const who of [ALICE, VIEWER, EVE]) {
      await refused(
        who,
        'forget kumo',
        `slack:${who} may not use \`forget\`: it needs the admin role`,
        `an admin can add \`slack:${who}\` under \`access.admins\` (or \`access.names.kumo.admins\`) in switchboard.yaml`,
      );
    }
    expect(h.app.switchboard.services.registry.isTaken('kumo')).toBe(true);
  });

  it('a permission button: only the sender (or an admin) may press it; every refusal is private and keeps the buttons', async () => {
    // The buttons the monitor posts when kumo asks permission, offered to alice (who sent its prompt).
    const { choices } = h.app.switchboard.services;
    const origin = { adapter: 'slack', channel: WORK };
    const block = choices.offer({ id: `slack:${ALICE}` }, origin, '🔐 *kumo* asks permission: `bash echo roles`', [
      { label: 'Approve once', command: 'approve kumo once', style: 'primary' },
      { label: 'Always', command: 'approve kumo always' },
      { label: 'Deny', command: 'deny kumo', style: 'danger' },
    ], 'answer the permission requests of kumo');
    const at = h.mark();
    h.app.switchboard.outbox.enqueue({ origin, reply: reply([block, text(`only slack:${ALICE} or an admin may answer`)], { tone: 'warning' }) });
    const ask = await h.botMessage(at, { text: /asks permission: `bash echo roles`/ });
    expect(listButtons(ask.blocks).map((b) => b.label)).toEqual(['Approve once', 'Always', 'Deny']);

    const press = async (user: string, actionId: string) => {
      const before = h.mark();
      await h.slack.user(user).clickButton(ask, { actionId });
      return shown(await h.ephemeral(before, { user, text: /❌/ }));
    };
    expect(await press(EVE, 'sb_choice_0')).toContain(member(EVE, 'approve')[0]);
    expect(await press(VIEWER, 'sb_choice_2')).toContain(member(VIEWER, 'deny')[1]);
    expect(await press(BOB, 'sb_choice_1')).toContain(`slack:${BOB} may not answer the permission requests of kumo: it belongs to slack:${ALICE}`);
    expect(publicRefusals(at)).toEqual([]);
    expect(listButtons(h.slack.message(WORK, ask.ts)!.blocks)).toHaveLength(3);

    // Alice's press is hers to make: it goes through to the server (which has nothing pending after the abort).
    const mine = await press(ALICE, 'sb_choice_0');
    expect(mine).toContain('*kumo* is not waiting for a permission');
    expect(mine).not.toMatch(/may not/);
  });

  it('an admin may do what members may not', async () => {
    await answered(ADMIN, 'forget kumo', /🗑 forgot \*kumo\*/);
    expect(h.app.switchboard.services.registry.isTaken('kumo')).toBe(false);
  });
});
