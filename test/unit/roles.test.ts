import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allCommands } from '../../src/commands/index.js';
import type { Actor, Origin } from '../../src/core/origin.js';
import type { Reply } from '../../src/core/reply.js';
import { closedPortUrl } from '../helpers/odd-servers.js';
import { errorCode, manualClock, plain, seedSession, seedTask, startCore, type Core } from './helpers/core-app.js';

/**
 * Who may do what, through the real core: createApp on a temp SQLite file, configured by a switchboard.yaml
 * read by the real loader. Every verb of the grammar is tried by every role; a refusal is `forbidden` and says
 * who, which role and exactly where to add it. Names are seeded straight into the registry (and tasks into the
 * executor store), so no server is contacted before the access check; allowed commands then meet a closed
 * port or an unreachable SSH host, which is an outcome other than a refusal.
 */

const ALICE = 'slack:UALICE';
const BOB = 'slack:UBOB';

const actors = {
  console: { id: 'console:tester', name: 'tester' },
  admin: { id: 'slack:UADMIN' },
  member: { id: ALICE },
  otherMember: { id: BOB },
  viewer: { id: 'slack:UVIEW' },
  nobody: { id: 'slack:UNOBODY' },
  /** A Discord user who is a member only through a role. */
  roleMember: { id: 'discord:4242', groups: ['discord-role:789'] },
  discordViewer: { id: 'discord:555', groups: ['discord-role:111'] },
  discordNobody: { id: 'discord:666', groups: ['discord-role:111222'] },
  /** Member of the name `kumo` only (access.names.kumo.members). */
  kumoMember: { id: 'slack:UKUMO' },
  /** Member on the executor `crib` only (access.executors.crib.members). */
  cribMember: { id: 'slack:UCRIB' },
} satisfies Record<string, Actor>;

type Role = 'viewer' | 'member' | 'admin';

/** The least role each verb needs, from the list (not from the verb table: this is what we check it against). */
const NEEDS: Record<string, Role> = {
  help: 'viewer',
  sessions: 'viewer',
  status: 'viewer',
  todo: 'viewer',
  last: 'viewer',
  logs: 'viewer',
  agents: 'viewer',
  executors: 'viewer',
  tasks: 'viewer',
  servers: 'viewer',
  new: 'member',
  attach: 'member',
  send: 'member',
  watch: 'member',
  unwatch: 'member',
  abort: 'member',
  approve: 'member',
  deny: 'member',
  answer: 'member',
  start: 'member',
  run: 'member',
  kill: 'member',
  offload: 'admin',
  audit: 'member',
  forget: 'admin',
  // Making a schedule needs the role of the command it runs (here a `send`).
  schedule: 'member',
  schedules: 'viewer',
  unschedule: 'member',
  // Showing a name's budget is for viewers; setting it is for its owner or an admin (tested with the verb).
  budget: 'viewer',
  // A link to the fleet page, which shows what the role lets one see (off here: no WEB_PORT, a usage answer).
  dashboard: 'viewer',
};

/** One representative line per verb, about the seeded names: `kumo` (OpenCode, alice's) and `auth` (a task of alice's on crib). */
const LINES: Record<string, string> = {
  help: 'help send',
  sessions: 'sessions',
  status: 'status kumo',
  todo: 'todo kumo',
  last: 'last kumo',
  logs: 'logs auth --lines 5',
  agents: 'agents lab',
  executors: 'executors',
  tasks: 'tasks --status running',
  servers: 'servers',
  new: 'new fresh lab --agent build',
  attach: 'attach adopted lab ses_abcdef123456',
  send: 'send kumo fix the flaky test',
  watch: 'watch kumo 30s',
  unwatch: 'unwatch kumo',
  abort: 'abort kumo',
  approve: 'approve kumo once',
  deny: 'deny kumo use staging',
  answer: 'answer kumo Blue',
  start: 'start crib fix the build',
  run: 'run crib -- make test',
  kill: 'kill auth',
  offload: 'offload crib --name moved -- carry on',
  audit: 'audit --since 1h',
  forget: 'forget kumo',
  schedule: 'schedule 1h send kumo fix the flaky test',
  schedules: 'schedules',
  unschedule: 'unschedule 1',
  budget: 'budget kumo',
  dashboard: 'dashboard',
};

/** The scoped key a refusal of that line also names: the name it is about, or the executor it starts on. */
function scopedKey(verb: string, role: Role): string | undefined {
  const line = LINES[verb]!.replace(/^schedule \S+ /, '');
  const name = /^(?:status|todo|last|logs|new|attach|send|watch|unwatch|abort|approve|deny|answer|kill|forget|budget) ([a-z]+)\b/.exec(line)?.[1];
  if (name) return `access.names.${name}.${role}s`;
  if (/^(start|run|offload) crib/.test(line)) return `access.executors.crib.${role}s`;
  return undefined;
}

/** Verbs on someone's work: a member who is not its owner is refused for that, not for the role. */
const OWNED = new Set(['abort', 'approve', 'deny', 'answer', 'kill']);

const RANK: Record<Role | 'none', number> = { none: 0, viewer: 1, member: 2, admin: 3 };

let lab: { name: string; url: string };
/** A server nobody configured (closed too). */
let raw: string;
/** The key file only has to exist: the SSH transport is replaced by one that refuses at once. */
const keyFile = '/dev/null';

beforeAll(async () => {
  lab = { name: 'lab', url: await closedPortUrl() };
  raw = await closedPortUrl();
  if (raw === lab.url) raw = `http://localhost:${new URL(raw).port}`;
});

function yaml(extra: { limits?: string[]; access?: string[] } = {}): string {
  return [
    'servers:',
    '  - name: lab',
    `    url: ${lab.url}`,
    'executors:',
    ...['crib', 'yard'].flatMap((name) => [
      `  - name: ${name}`,
      '    type: ssh',
      '    host: 127.0.0.1',
      '    port: 2222',
      '    user: builder',
      `    identityFile: ${keyFile}`,
      '    connectTimeoutSec: 1',
    ]),
    'access:',
    '  admins: [slack:UADMIN]',
    '  members: [slack:UALICE, slack:UBOB, discord-role:789]',
    '  viewers: [slack:UVIEW, discord:555]',
    '  names:',
    '    kumo:',
    '      members: [slack:UKUMO]',
    '  executors:',
    '    crib:',
    '      members: [slack:UCRIB]',
    ...(extra.access ?? []),
    'limits:',
    ...(extra.limits ?? ['  commandsPerMinute: 10000']),
  ].join('\n');
}

let core: Core;

function start(options: { limits?: string[]; access?: string[]; env?: Record<string, string> } = {}): Core {
  core = startCore({ yaml: yaml(options), ...(options.env ? { env: options.env } : {}) });
  seedSession(core, 'kumo', lab, ALICE, ALICE);
  seedSession(core, 'hetc', lab, BOB, BOB);
  seedTask(core, { name: 'auth', executor: 'crib', actor: ALICE });
  seedTask(core, { name: 'mine', executor: 'crib', actor: 'slack:UCRIB' });
  seedTask(core, { name: 'elsewhere', executor: 'yard', actor: ALICE });
  return core;
}

afterEach(async () => {
  await core?.close();
});

interface Refusal {
  message: string;
  hint: string;
}

function refusalOf(reply: Reply): Refusal | undefined {
  if (errorCode(reply) !== 'forbidden') return undefined;
  const { message, hint } = (reply.data as { error: { message: string; hint?: string } }).error;
  return { message, hint: hint ?? '' };
}

function expectRefused(reply: Reply, line: string): Refusal {
  const refusal = refusalOf(reply);
  expect(refusal, `${line} → ${plain(reply)}`).toBeDefined();
  // Shown to the person as "❌ message\nhint".
  expect(plain(reply)).toBe(`❌ ${refusal!.message}\n${refusal!.hint}`);
  return refusal!;
}

function expectNotRefused(reply: Reply, line: string): void {
  const code = errorCode(reply);
  expect(code, `${line} → ${plain(reply)}`).not.toBe('forbidden');
  // Whatever else happens (a closed port, an unreachable host), it is never a crash.
  expect(code, `${line} → ${plain(reply)}`).not.toBe('internal');
}

describe('every verb by every role', () => {
  it('the table covers exactly the verbs of the grammar', () => {
    expect(Object.keys(LINES).sort()).toEqual(allCommands.map((c) => c.verb).sort());
    expect(Object.keys(NEEDS).sort()).toEqual(allCommands.map((c) => c.verb).sort());
  });

  const roles: Array<{ who: keyof typeof actors; role: Role | 'none' }> = [
    { who: 'console', role: 'admin' },
    { who: 'admin', role: 'admin' },
    { who: 'member', role: 'member' },
    { who: 'roleMember', role: 'member' },
    { who: 'viewer', role: 'viewer' },
    { who: 'discordViewer', role: 'viewer' },
    { who: 'nobody', role: 'none' },
    { who: 'discordNobody', role: 'none' },
  ];
  /** The platform variables that make a chat user a member, named in refusals that need the member role. */
  const SETTINGS: Record<string, string> = { slack: 'SLACK_ALLOWED_USERS', discord: 'DISCORD_ALLOWED_USERS or DISCORD_ALLOWED_ROLES' };

  for (const { who, role } of roles) {
    it(`${who} (${role})`, async () => {
      start();
      const actor: Actor = actors[who];
      for (const verb of Object.keys(LINES)) {
        const line = LINES[verb]!;
        const needed = NEEDS[verb]!;
        const reply = await core.run(actor, line);
        if (RANK[role] >= RANK[needed]) {
          if (OWNED.has(verb) && role === 'member' && actor.id !== ALICE) {
            expect(expectRefused(reply, line).message).toMatch(/: it belongs to slack:UALICE$/);
          } else {
            expectNotRefused(reply, `${who}: ${line}`);
          }
          continue;
        }
        const refusal = expectRefused(reply, `${who}: ${line}`);
        // `schedule` itself is for viewers; past that door a schedule is refused for the command it would run.
        const atDoor = verb === 'schedule' && role === 'none';
        const what = verb === 'schedule' && !atDoor ? 'schedule `send`' : `use \`${verb}\``;
        const role_ = atDoor ? 'viewer' : needed;
        expect(refusal.message, line).toBe(`${actor.id} may not ${what}: it needs the ${role_} role`);
        const scoped = atDoor ? undefined : scopedKey(verb, role_);
        const where = scoped ? `\`access.${role_}s\` (or \`${scoped}\`)` : `\`access.${role_}s\``;
        const setting = SETTINGS[actor.id.split(':')[0]!];
        const platformHint = role_ === 'member' && setting ? ` (or its id to ${setting})` : '';
        expect(refusal.hint, line).toBe(`an admin can add \`${actor.id}\` under ${where} in switchboard.yaml${platformHint}`);
      }
    });
  }

  it('a refused command changed nothing, and the audit log says who was refused what', async () => {
    start();
    const before = core.app.switchboard.services.registry.list();
    for (const line of ['forget kumo', 'send kumo hi', 'kill auth', 'new x lab --agent build']) {
      expectRefused(await core.run(actors.viewer, line), line);
    }
    expect(core.app.switchboard.services.registry.list()).toEqual(before);
    const rows = core.app.switchboard.services.audit.list({ limit: 10 });
    expect(rows.map((r) => [r.actor, r.verb, r.outcome, r.command])).toEqual([
      ['slack:UVIEW', 'forget', 'error:forbidden', 'forget kumo'],
      ['slack:UVIEW', 'send', 'error:forbidden', 'send kumo hi'],
      ['slack:UVIEW', 'kill', 'error:forbidden', 'kill auth'],
      ['slack:UVIEW', 'new', 'error:forbidden', 'new x lab --agent build'],
    ]);
  });

  it('the console is an ordinary user when consoleIsAdmin is off', async () => {
    start({ access: ['  consoleIsAdmin: false'] });
    const refusal = expectRefused(await core.run(actors.console, 'sessions'), 'sessions');
    expect(refusal.message).toBe('console:tester may not use `sessions`: it needs the viewer role');
    // No platform variable makes console users members: only the YAML does.
    expect(refusal.hint).toBe('an admin can add `console:tester` under `access.viewers` in switchboard.yaml');
  });
});

describe('grants per name and per executor', () => {
  beforeEach(() => {
    start();
  });

  it('a member of one name may work on it, and only on it', async () => {
    const who = actors.kumoMember;
    for (const line of ['send kumo hello', 'status kumo', 'watch kumo', 'abort kumo', 'last kumo']) {
      // abort: kumo's last prompt is alice's, so that one is refused as someone else's work, not for the role.
      const reply = await core.run(who, line);
      if (line === 'abort kumo') {
        expect(expectRefused(reply, line).message).toBe('slack:UKUMO may not abort kumo: it belongs to slack:UALICE');
      } else {
        expectNotRefused(reply, line);
      }
    }
    const other = expectRefused(await core.run(who, 'send hetc hello'), 'send hetc');
    expect(other.message).toBe('slack:UKUMO may not use `send`: it needs the member role');
    expect(other.hint).toBe(
      'an admin can add `slack:UKUMO` under `access.members` (or `access.names.hetc.members`) in switchboard.yaml (or its id to SLACK_ALLOWED_USERS)',
    );
    // Everything across names needs a role of its own.
    expect(expectRefused(await core.run(who, 'sessions'), 'sessions').hint).toBe('an admin can add `slack:UKUMO` under `access.viewers` in switchboard.yaml');
    // A member of kumo is not its admin.
    expect(expectRefused(await core.run(who, 'forget kumo'), 'forget kumo').message).toBe('slack:UKUMO may not use `forget`: it needs the admin role');
  });

  it('a member on one executor may start tasks there, and work on its own tasks there', async () => {
    const who = actors.cribMember;
    expectNotRefused(await core.run(who, 'start crib fix the build'), 'start crib');
    expectNotRefused(await core.run(who, 'run crib -- make test'), 'run crib');
    expectNotRefused(await core.run(who, 'kill mine'), 'kill mine');
    expectNotRefused(await core.run(who, 'logs mine'), 'logs mine');
    const yard = expectRefused(await core.run(who, 'start yard fix the build'), 'start yard');
    expect(yard.message).toBe('slack:UCRIB may not use `start`: it needs the member role');
    expect(yard.hint).toBe(
      'an admin can add `slack:UCRIB` under `access.members` (or `access.executors.yard.members`) in switchboard.yaml (or its id to SLACK_ALLOWED_USERS)',
    );
    // A task on crib that someone else started: the role is there, the ownership is not.
    expect(expectRefused(await core.run(who, 'kill auth'), 'kill auth').message).toBe('slack:UCRIB may not kill auth: it belongs to slack:UALICE');
    // A task on yard: no role there.
    expect(expectRefused(await core.run(who, 'kill elsewhere'), 'kill elsewhere').message).toBe('slack:UCRIB may not use `kill`: it needs the member role');
  });
});

describe('own work and other people’s', () => {
  beforeEach(() => {
    start();
  });

  const ownerVerbs = ['abort kumo', 'approve kumo', 'approve kumo always', 'deny kumo no thanks', 'answer kumo Blue', 'kill auth'];

  it('a member may abort, kill and answer their own work', async () => {
    for (const line of ownerVerbs) expectNotRefused(await core.run(actors.member, line), line);
  });

  it('another member may not, and is told whose it is and who may', async () => {
    for (const line of ownerVerbs) {
      const refusal = expectRefused(await core.run(actors.otherMember, line), line);
      expect(refusal.message).toMatch(/^slack:UBOB may not (abort kumo|answer the permission requests of kumo|answer the questions of kumo|kill auth): it belongs to slack:UALICE$/);
      expect(refusal.hint).toBe('only slack:UALICE or an admin may do that');
    }
  });

  it('an admin (and the console) may act on anyone’s work', async () => {
    for (const line of ownerVerbs) {
      expectNotRefused(await core.run(actors.admin, line), line);
      expectNotRefused(await core.run(actors.console, line), line);
    }
  });

  it('the work is whoever sent the latest prompt’s: the name’s creator may not abort a prompt of someone else', async () => {
    const { registry } = core.app.switchboard.services;
    const promptId = registry.recordPrompt({ name: 'kumo', actor: BOB, text: 'bob takes over' });
    registry.update('kumo', { lastPromptId: promptId });
    expect(expectRefused(await core.run(actors.member, 'abort kumo'), 'abort').message).toBe('slack:UALICE may not abort kumo: it belongs to slack:UBOB');
    expectNotRefused(await core.run(actors.otherMember, 'abort kumo'), 'abort by bob');
  });

  it('a button press runs as the person who pressed it, under the same rules', async () => {
    const { choices } = core.app.switchboard.services;
    const origin: Origin = { adapter: 'slack', channel: 'CWORK' };
    const offer = () => {
      const block = choices.offer(actors.member, origin, 'kumo asks permission', [
        { label: 'Approve once', command: 'approve kumo once' },
        { label: 'Deny', command: 'deny kumo' },
      ], 'answer the permission requests of kumo');
      return (block as { choiceId: string }).choiceId;
    };
    const choiceId = offer();
    const press = (actor: Actor) => core.app.switchboard.press({ choiceId, index: 0, actor, origin }, { post: false });
    expect(expectRefused(await press(actors.nobody), 'nobody presses').message).toBe('slack:UNOBODY may not use `approve`: it needs the member role');
    expect(expectRefused(await press(actors.viewer), 'viewer presses').message).toBe('slack:UVIEW may not use `approve`: it needs the member role');
    expect(expectRefused(await press(actors.otherMember), 'bob presses').message).toBe(
      'slack:UBOB may not answer the permission requests of kumo: it belongs to slack:UALICE',
    );
    // Refusals leave the choice in place for the person it is for.
    expectNotRefused(await press(actors.member), 'alice presses');
  });

  it('a choice with no rule of its own (the agent for `new`) is still only for the person it was offered to, or an admin', async () => {
    const { choices } = core.app.switchboard.services;
    const origin: Origin = { adapter: 'slack', channel: 'CWORK' };
    const block = choices.offer(actors.member, origin, 'Which agent should **dodo** use?', [{ label: 'build', command: 'help new' }], 'pick the agent of dodo');
    const press = (actor: Actor) => core.app.switchboard.press({ choiceId: (block as { choiceId: string }).choiceId, index: 0, actor, origin }, { post: false });
    expect(expectRefused(await press(actors.otherMember), 'bob presses').message).toBe('slack:UBOB may not pick the agent of dodo: it belongs to slack:UALICE');
    const refusals = core.db.prepare("SELECT actor, outcome FROM audit WHERE actor = 'slack:UBOB' AND command = 'help new'").all();
    expect(refusals).toEqual([{ actor: 'slack:UBOB', outcome: 'error:forbidden' }]);
    expectNotRefused(await press(actors.admin), 'an admin presses');
  });
});

describe('servers that are not in switchboard.yaml', () => {
  beforeEach(() => {
    start();
  });

  it('`new` and `agents` on a raw URL need an admin', async () => {
    for (const line of [`new fresh ${raw} --agent build`, `agents ${raw}`, `attach adopted ${raw} ses_abcdef123456`]) {
      for (const who of ['member', 'roleMember'] as const) {
        const refusal = expectRefused(await core.run(actors[who], line), line);
        expect(refusal.message).toBe(`${actors[who].id} may not use a server that is not in switchboard.yaml: it needs the admin role`);
        expect(refusal.hint).toBe(`an admin can add \`${actors[who].id}\` under \`access.admins\` in switchboard.yaml`);
      }
      expectNotRefused(await core.run(actors.admin, line), line);
      expectNotRefused(await core.run(actors.console, line), line);
    }
  });

  it('a link-local or metadata address is refused even to an admin, with the setting that allows it', async () => {
    for (const url of ['http://169.254.169.254', 'http://metadata.google.internal/computeMetadata', 'http://[fe80::1]:4096']) {
      const refusal = expectRefused(await core.run(actors.admin, `new meta ${url} --agent build`), url);
      expect(refusal.message).toMatch(/^refusing http.*: .* is a link-local or cloud metadata address$/);
      expect(refusal.hint).toBe('an admin can allow it with `access.allowMetadataAddresses: true` in switchboard.yaml');
    }
    expect(core.app.switchboard.services.registry.isTaken('meta')).toBe(false);
  });
});

describe('servers at link-local or metadata addresses, allowed by an admin in config', () => {
  beforeEach(() => {
    start({ access: ['  allowMetadataAddresses: true'] });
  });

  it('are tried like any other server: nothing answers here, and the reply says that, not a refusal', async () => {
    const reply = await core.run(actors.admin, `agents ${raw.replace(/\/\/[^/:]+/, '//169.254.0.1')}`);
    expect(errorCode(reply), plain(reply)).toMatch(/^(unreachable|timeout)$/);
    expect(plain(reply)).not.toContain('metadata address');
  });
});

describe('channel allow-lists', () => {
  const slackIn = (channel: string): Origin => ({ adapter: 'slack', channel });
  const discordIn = (channel: string): Origin => ({ adapter: 'discord', channel });

  it('an empty list denies every channel, even to an admin, and says how to allow one', async () => {
    start({ env: { SLACK_ALLOWED_CHANNELS: '', DISCORD_ALLOWED_CHANNELS: '' } });
    const slack = expectRefused(await core.run(actors.admin, 'help', slackIn('C123')), 'slack');
    expect(slack.message).toBe('this channel (C123) may not command Switchboard');
    expect(slack.hint).toBe('no channel is allowed yet: set SLACK_ALLOWED_CHANNELS=C123 (comma-separated ids, or * for all)');
    const discord = expectRefused(await core.run(actors.roleMember, 'help', discordIn('987')), 'discord');
    expect(discord.hint).toBe('no channel is allowed yet: set DISCORD_ALLOWED_CHANNELS=987 (comma-separated ids, or * for all)');
    // The console has no channel list.
    expectNotRefused(await core.run(actors.console, 'help'), 'console');
  });

  it('a list names its channels; others are told the list and how to join it', async () => {
    start({ env: { SLACK_ALLOWED_CHANNELS: 'CWORK,COPS' } });
    expectNotRefused(await core.run(actors.member, 'help', slackIn('COPS')), 'COPS');
    const refusal = expectRefused(await core.run(actors.member, 'help', slackIn('CRANDOM')), 'CRANDOM');
    expect(refusal.hint).toBe('an admin can add CRANDOM to SLACK_ALLOWED_CHANNELS (now: CWORK, COPS)');
  });

  it('`*` allows every channel', async () => {
    start({ env: { SLACK_ALLOWED_CHANNELS: '*', DISCORD_ALLOWED_CHANNELS: '*' } });
    for (const channel of ['C1', 'CANYTHING', 'G0PRIVATE']) expectNotRefused(await core.run(actors.member, 'help', slackIn(channel)), channel);
    expectNotRefused(await core.run(actors.roleMember, 'help', discordIn('123456789')), 'discord');
  });

  it('the channel is checked before the role: a stranger in a closed channel learns nothing about roles', async () => {
    start();
    const refusal = expectRefused(await core.run(actors.nobody, 'sessions', slackIn('CBLOCKED')), 'stranger');
    expect(refusal.message).toBe('this channel (CBLOCKED) may not command Switchboard');
  });
});

describe('limits', () => {
  it('a chat user past commandsPerMinute is told when to retry; others and the console are not held back', async () => {
    const clock = manualClock();
    core = startCore({ yaml: yaml({ limits: ['  commandsPerMinute: 3'] }), clock });
    for (let i = 0; i < 3; i++) {
      expectNotRefused(await core.run(actors.member, 'help'), `help ${i}`);
      clock.advance(10_000);
    }
    // t = 30 s: the first of the three was at t = 0, so the window reopens at t = 60 s.
    const limited = await core.run(actors.member, 'help');
    expect(errorCode(limited)).toBe('rate_limited');
    expect(plain(limited)).toBe('❌ slow down: at most 3 commands a minute; try again in 30 s');
    // A refused command does not touch anything; it is audited like any other.
    expect(core.app.switchboard.services.audit.list({ limit: 1 })[0]).toMatchObject({ actor: ALICE, outcome: 'error:rate_limited' });

    expectNotRefused(await core.run(actors.otherMember, 'help'), 'bob has his own budget');
    for (let i = 0; i < 20; i++) expect(errorCode(await core.run(actors.console, 'help'))).toBeUndefined();

    clock.advance(29_500);
    expect(plain(await core.run(actors.member, 'help'))).toBe('❌ slow down: at most 3 commands a minute; try again in 1 s');
    clock.advance(600);
    expect(errorCode(await core.run(actors.member, 'help'))).toBeUndefined();
  });

  it('a prompt over promptMaxChars is refused with its length and the limit, before anything is sent', async () => {
    core = startCore({ yaml: yaml({ limits: ['  commandsPerMinute: 100', '  promptMaxChars: 50'] }) });
    seedSession(core, 'kumo', lab, ALICE, ALICE);
    const reply = await core.run(actors.member, `send kumo ${'y'.repeat(51)}`);
    expect(errorCode(reply)).toBe('prompt_too_long');
    expect(plain(reply)).toBe('❌ the prompt is 51 characters; the limit is 50\nshorten it, or put the details in a file in the project and point the agent at it');
    expect(core.app.switchboard.services.registry.get('kumo')!.currentTask).toBe('work on kumo');
  });
});

describe('audit', () => {
  it('members see their own rows, admins everyone’s; a name and a period narrow it', async () => {
    start();
    const clock = core.clock;
    await core.run(actors.member, 'status kumo');
    clock.advance(60_000);
    await core.run(actors.otherMember, 'status hetc');
    clock.advance(60_000);
    await core.run(actors.viewer, 'forget kumo');
    clock.advance(3 * 3_600_000);
    await core.run(actors.member, 'todo kumo');

    const mine = plain(await core.run(actors.member, 'audit'));
    const rows = mine.split('\n');
    expect(rows.every((row) => row.includes(` · ${ALICE} · slack:CWORK · `))).toBe(true);
    expect(rows.map((row) => row.split(' · ')[3])).toEqual(['status kumo', 'todo kumo']);
    expect(rows[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ · slack:UALICE · slack:CWORK · status kumo · ❌ unreachable$/);

    const everyone = plain(await core.run(actors.admin, 'audit kumo'));
    expect(everyone).toContain('slack:UVIEW · slack:CWORK · forget kumo · ❌ forbidden');
    expect(everyone).not.toContain('hetc');
    const recent = plain(await core.run(actors.admin, 'audit kumo --since 1h'));
    expect(recent.split('\n').filter((row) => / · slack:U/.test(row)).map((row) => row.split(' · ')[3])).toEqual(['todo kumo', 'audit kumo']);
    // A member asking about someone else's name sees only their own rows there.
    expect(plain(await core.run(actors.member, 'audit hetc'))).toBe('No audit entries for hetc in that period.');
    expect(expectRefused(await core.run(actors.viewer, 'audit'), 'audit').message).toBe('slack:UVIEW may not use `audit`: it needs the member role');
  });
});
