import assert from 'node:assert/strict';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allCommands } from '../../src/commands/index.js';
import type { Actor, Origin } from '../../src/core/origin.js';
import type { Reply } from '../../src/core/reply.js';
import { closedPortUrl } from '../helpers/odd-servers.js';
import { errorCode, plain, seedSession, seedTask, startCore, type Core } from './helpers/core-app.js';

/**
 * Any line through the real core (createApp on a temp SQLite file), typed by a viewer and by a member: the core
 * always answers with a Reply, never throws, never fails inside (`internal`), keeps error messages short however
 * long the line and free of characters that hide or reorder text, and when the answer is an error the state
 * tables are byte for byte what they were before.
 * Nothing here reaches the network: the configured server is a closed port, raw URLs need an admin, host lookups
 * are refused, and SSH executors refuse at once.
 */

/** Everything a command could leave behind (the audit log and the outbox record every line by design). */
const STATE_TABLES = ['names', 'prompts', 'watches', 'finals', 'executor_tasks', 'executor_task_attempts', 'choices'];

const viewer: Actor = { id: 'slack:UVIEW', name: 'viewer' };
const member: Actor = { id: 'slack:UALICE', name: 'alice' };
const origin: Origin = { adapter: 'slack', channel: 'CWORK' };

let core: Core;
let lab: string;
let raw: string;
let dumpStatements: Array<{ all(): unknown[] }>;

function dump(): string {
  return dumpStatements.map((statement) => JSON.stringify(statement.all())).join('\n');
}

beforeAll(async () => {
  lab = await closedPortUrl();
  raw = await closedPortUrl();
  core = startCore({
    yaml: [
      'servers:',
      '  - name: lab',
      `    url: ${lab}`,
      'executors:',
      ...['crib', 'yard'].flatMap((name) => [`  - name: ${name}`, '    type: ssh', '    host: 127.0.0.1', '    user: builder', '    identityFile: /dev/null']),
      'access:',
      '  admins: [slack:UADMIN]',
      '  members: [slack:UALICE, slack:UBOB]',
      '  viewers: [slack:UVIEW]',
      'limits:',
      '  commandsPerMinute: 100000000',
      '  promptMaxChars: 100000',
    ].join('\n'),
  });
  const server = { name: 'lab', url: lab };
  seedSession(core, 'kumo', server, member.id, member.id);
  seedSession(core, 'hetc', server, 'slack:UBOB', 'slack:UBOB');
  // Finished tasks: a kill or a follow-up is refused for what the task is, never half done.
  seedTask(core, { name: 'auth', executor: 'crib', actor: member.id, status: 'succeeded' });
  seedTask(core, { name: 'plan', executor: 'yard', actor: 'slack:UBOB', status: 'failed', kind: 'claude' });
  seedTask(core, { name: 'mine', executor: 'crib', actor: member.id, status: 'killed', kind: 'claude' });
  // Choices waiting for a typed answer ("1", "status"): the command each one runs is checked like any other.
  const { choices } = core.app.switchboard.services;
  for (const actor of [viewer, member]) {
    choices.offer(actor, origin, 'Which one?', [
      { label: 'status', command: 'status kumo' },
      { label: 'forget', command: 'forget kumo' },
      { label: 'help', command: 'help' },
    ], 'pick one');
  }
  dumpStatements = STATE_TABLES.map((table) => core.db.prepare(`SELECT * FROM ${table} ORDER BY rowid`));
});

afterAll(async () => {
  await core?.close();
});

// ---- Lines -------------------------------------------------------------------------------------------------

const HOSTILE = [
  '\u0000', '\u200b', '\u200d', '\u202e', '\u2066', '\ufeff', '\u00a0', '\u2028', '\r', '\n', '\r\n', '\t', ' ', '  ',
  '"', "'", '\\', '`', '```', '*bold*', '_x_', '~~s~~', '> quote', '<!channel>', '<!here>', '@everyone', '@here', '<@U123>',
  '<#C1|general>', '&amp;', '&lt;', '$(id)', '`id`', ';rm -rf /', '&& reboot', '| sh', '../x', '../../etc/passwd', '/etc/shadow',
  '~', '%00', '%2e%2e/', 'kumo;id', 'kumo\u202e', 'KUMO', 'k\u200bumo', '😀', '\ud800', '\udc00', 'x'.repeat(40),
];
const NAMES = ['kumo', 'hetc', 'auth', 'plan', 'mine', 'ghost', 'kumo-2', '-x', '', '../x', '$(id)', ';rm', 'a'.repeat(33)];
const SERVERS = ['lab', 'nolab', '', 'http://169.254.169.254', 'http://metadata.google.internal', 'http://[fe80::1]:80', 'htp:/x', 'http://u:p@127.0.0.1:1', 'file:///etc/passwd'];
const OPTIONS = [
  '--agent', '--model', '--dir', '--title', '--name', '--workspace', '--max-turns', '--label', '--lines', '--since', '--limit',
  '--status', '--executor', '--', '--x', '-', '--agent=build', '--since=1h', '--lines=-1',
];
const VALUES = [
  'build', 'plan', 'once', 'always', 'Blue', '1', '2', '0', '-1', '99999999999999999999', '1e3', '30s', '5m', '*/5 * * * *', '1h', '2w',
  'crib', 'yard', 'ghost', 'ses_abcdef123456', 'ses_', 'fake/model', '/abs/dir', 'rel/dir', 'running', 'active', '"$(id)"', "'quoted value'",
];

const piece = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.constantFrom(...NAMES),
  fc.constantFrom(...SERVERS),
  fc.constantFrom(...OPTIONS),
  fc.constantFrom(...VALUES),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t', '\n', '\u00a0', '');

/** A verb of the grammar (sometimes in odd case), then any mix of names, servers, options, values and junk. */
const grammarShaped = fc
  .tuple(
    fc.constantFrom(...allCommands.map((c) => c.verb)),
    fc.boolean(),
    fc.array(fc.tuple(separator, piece), { maxLength: 8 }),
  )
  .map(([verb, shout, rest]) => (shout ? verb.toUpperCase() : verb) + rest.map(([sep, p]) => `${sep}${p}`).join(''));

/** Closer to what people type: a verb, a known name or executor, well-formed options, then hostile free text. */
const nearlyValid = fc
  .tuple(
    fc.constantFrom(...allCommands.map((c) => c.verb)),
    fc.constantFrom('kumo', 'hetc', 'auth', 'plan', 'mine', 'crib', 'yard', 'lab', 'fresh'),
    fc.array(fc.tuple(fc.constantFrom(...OPTIONS.filter((o) => /^--[a-z]/.test(o) && !o.includes('='))), fc.constantFrom(...VALUES)), { maxLength: 2 }),
    fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'grapheme', maxLength: 10 })), { maxLength: 6 }),
  )
  .map(([verb, target, options, text]) => [verb, target, ...options.flat(), text.join(' ')].join(' '));

/** Any UTF-16 code units, NUL and lone surrogates included. */
const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 200 }).map((codes) => String.fromCharCode(...codes));

const longLine = fc
  .tuple(fc.constantFrom('', 'send kumo ', 'send kumo -- ', 'status ', 'new ', 'start crib ', 'run crib -- ', 'audit --since '), fc.constantFrom(100_000, 100_001, 150_000), fc.constantFrom('x', '\u0000', '\u200b', 'é', '😀'))
  .map(([head, length, unit]) => head + unit.repeat(Math.ceil(length / unit.length)));

const anyLine = fc.oneof(
  { arbitrary: grammarShaped, weight: 4 },
  { arbitrary: nearlyValid, weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 2 },
  { arbitrary: codeUnits, weight: 1 },
  { arbitrary: fc.constantFrom('1', '2', '3', 'status', 'forget', 'HELP', ' 1 ', '0', '4'), weight: 1 },
  { arbitrary: longLine, weight: 1 },
);

// ---- The property --------------------------------------------------------------------------------------------

/** NUL and other controls, zero-width and bidi controls, the byte-order mark. */
const UNSEEN = /[\u0000-\u0008\u000b-\u001f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

const seen = { errors: 0, answers: 0, codes: new Set<string>() };

async function runAndCheck(actor: Actor, line: string): Promise<void> {
  const before = dump();
  let reply: Reply;
  try {
    reply = await core.app.switchboard.execute({ text: line, actor, origin }, { post: false });
  } catch (error) {
    assert.fail(`execute threw for ${JSON.stringify(line.slice(0, 200))}: ${String(error)}`);
  }
  assert.ok(Array.isArray(reply.blocks) && reply.blocks.length > 0, 'a reply has blocks');
  const code = errorCode(reply);
  if (code === undefined) {
    seen.answers++;
    return;
  }
  seen.errors++;
  seen.codes.add(code);
  const shown = plain(reply);
  assert.notEqual(code, 'internal', `internal error for ${JSON.stringify(line.slice(0, 200))}: ${shown}`);
  assert.ok(shown.startsWith('❌ '), shown);
  assert.ok(shown.length < 1_000, `error reply of ${shown.length} characters for a line of ${line.length}`);
  // What an error quotes back cannot hide or reorder its own text.
  assert.ok(!UNSEEN.test(shown), `an unseen character in ${JSON.stringify(shown)}`);
  assert.equal(dump(), before, `state changed after ${code} for ${JSON.stringify(line.slice(0, 200))}: ${shown}`);
}

describe('any line through the core', () => {
  for (const [role, actor] of [
    ['a viewer', viewer],
    ['a member', member],
  ] as const) {
    it(`typed by ${role}: always a Reply, and an error changes no state`, async () => {
      await fc.assert(
        fc.asyncProperty(anyLine, async (line) => runAndCheck(actor, line)),
        { numRuns: 400 },
      );
    });
  }

  it('the runs covered both outcomes and many kinds of error', () => {
    expect(seen.answers).toBeGreaterThan(0);
    expect(seen.errors).toBeGreaterThan(100);
    for (const code of ['usage', 'unknown_command', 'forbidden']) expect(seen.codes).toContain(code);
  });

  it('hostile lines from the issue, by both roles', async () => {
    const lines = [
      `new ../x ${lab} --agent build`,
      'new "$(id)" lab --agent build',
      'new ;rm lab',
      'new kumo;id lab --agent build',
      'send ../x hi',
      'send $(id) hi',
      'send ;rm -rf / hi',
      'status kumo;id',
      'forget ../x',
      'kill $(id)',
      'logs ;rm',
      'start crib --name ../x do it',
      'start crib --name "$(id)" do it',
      'run crib --workspace "$(id)" -- id',
      `new fresh ${raw} --agent "$(id)"`,
      'send kumo --agent "$(id)" hi',
      'send kumo\u0000 hi',
      'status k\u200bumo',
      'status kumo\u202e',
      '\u202estatus kumo',
      'send\u0000kumo hi',
      '<!channel> status kumo',
      '@everyone sessions',
      '<@U123> help',
      '**status** kumo',
      '`status kumo`',
      'audit --since 99999d',
      'audit --since $(id)',
      'logs auth --lines 99999999999999999999999',
      'watch kumo "* * * * * * *"',
      `send kumo ${'x'.repeat(100_001)}`,
      'x'.repeat(150_000),
      '\u0000'.repeat(100_000),
    ];
    for (const actor of [viewer, member]) {
      for (const line of lines) await runAndCheck(actor, line);
    }
  });
});
