import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

/**
 * Tasks through the real bot process: the console adapter, the real tmux, the real `claude` CLI against the
 * scripted Messages API, a local executor and an ssh executor on a real loopback sshd.
 */
let api: FakeAnthropic;
let sshd: Sshd;
let root: string;
let workspace: string;
let bot: ConsoleBot;
const socket = `sb-e2e-${process.pid}`;

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

beforeAll(async () => {
  [api, sshd] = await Promise.all([startFakeAnthropic(), startSshd()]);
  root = mkdtempSync(join(tmpdir(), 'sb-tasks-'));
  workspace = join(root, 'work space');
  mkdirSync(workspace);
  const env = claudeEnv({ baseUrl: api.baseUrl, configDir: join(root, 'claude'), todoTools: true });
  const envYaml = Object.entries(env)
    .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(
    join(root, 'switchboard.yaml'),
    `defaults:
  maxTurns: 10
  claudePath: ${CLAUDE_PATH}
  maxRetries: 2
  killGraceSec: 1
  retryBackoffSec: 0
executors:
  - name: local
    type: local
    labels: [fast]
    tmuxSocket: ${socket}
    tasksDir: ${join(root, 'tasks')}
    maxConcurrent: 3
    env:
${envYaml}
  - name: crib
    type: ssh
    host: ${sshd.host}
    port: ${sshd.port}
    user: ${sshd.user}
    identityFile: ${sshd.userKeyPath}
    hostKey: ${sshd.hostKeyFingerprint}
    tmuxSocket: ${socket}-ssh
    tasksDir: ${join(root, 'remote-tasks')}
    labels: [rust]
    env:
${envYaml}
`,
  );
  bot = await startConsoleBot({ cwd: root });
}, 120_000);

afterAll(async () => {
  await bot?.end().catch(() => undefined);
  for (const name of [socket, `${socket}-ssh`]) {
    try {
      execFileSync('tmux', ['-L', name, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // no server left: fine
    }
  }
  await Promise.all([api?.close(), sshd?.stop()]);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('tasks from the console', () => {
  it('lists the executors with their reachability', async () => {
    const reply = await bot.exec('executors', /\*\*crib\*\*.*/);
    expect(reply).toMatch(/✅ \*\*local\*\* \(local, fast\).* · reachable · 0 running \(max 3\)/);
    expect(reply).toMatch(/✅ \*\*crib\*\* \(ssh, rust\) · .*@127\.0\.0\.1:\d+\) · reachable/);
  });

  it('runs a Claude task with todos to its result, and reads status, todo, last, logs and tasks', async () => {
    const prompt = `TODO fix it — quotes ' " $(id) \`uname\` ;rm -rf /tmp/nope`;
    const started = await bot.exec(`start local --name auth --workspace "${workspace}" ${prompt}`, new RegExp(prompt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    expect(started).toContain(`🤖 task **auth** started on local in ${workspace}`);
    const request = await api.waitForRequest('TODO fix it');
    expect(request.lastUserText).toBe(prompt);
    const final = await bot.waitFor(/📋 \*\*auth\*\* finished.*\n.*/, 90_000);
    // Tokens and cost from claude's stream-json `result` (usage, total_cost_usd) in the final output's header.
    expect(final).toMatch(/📋 \*\*auth\*\* finished · ✅ · todo 1\/3 · \d+s · \d+ tokens · \$\d+\.\d+/);
    // One card for the run (posted whole, then a line per new state on a pipe), ending in its final state.
    await bot.waitFor(/^⚙️ \*\*auth\*\* · finished ✅ \d+s · todo 1\/3$/m, 30_000);
    const run = bot.stdout().slice(bot.stdout().indexOf('🤖 task **auth** started'));
    expect(run).toMatch(/^⚙️ \*\*auth\*\* · (working|queued ⏸️) · \d+s/m);
    expect(count(run, '📋 **auth**')).toBe(1);
    expect(await bot.exec('status auth', /\*\*auth\*\* · claude task on local.*/)).toContain('succeeded');
    const todo = await bot.exec('todo auth', /🔲 Update the changelog/);
    expect(todo).toContain('✅ Read the failing test\n🔄 Fix parse()\n🔲 Update the changelog');
    expect(await bot.exec('tasks', /auth .*/)).toMatch(/✅ auth +· claude on local · succeeded/);
    expect(await bot.exec('logs auth --lines 20', /last 20 lines/)).toContain('**auth**');
    // (The log printed above ends with the same words, so wait for last's own header before its text.)
    expect(await bot.exec('last auth', /\*\*auth\*\* latest output:\n(?:.*\n)*?Done: .*/)).toMatch(/\*\*auth\*\* latest output:\n(?:.*\n)*?Done: /);
    expect(await bot.exec('watch auth', /^❌.*/m)).toContain('task auth already succeeded; `last auth` shows its result');
  });

  it('resumes the same conversation with send, and runs shell tasks with their exit codes', async () => {
    await bot.exec('send auth also add tests', /^also add tests$/m);
    await bot.waitFor(/📋 \*\*auth\*\* finished.*/, 90_000);
    const followUp = api.requests.filter((r) => r.lastUserText === 'also add tests').pop()!;
    expect(followUp.userTexts.some((t) => t.includes('TODO fix it'))).toBe(true);

    await bot.exec(`run local --name build --workspace "${workspace}" -- printf 'hello %s\\n' "$(pwd)"; exit 3`, /⚙️ task \*\*build\*\* started/);
    const failed = await bot.waitFor(/📋 \*\*build\*\* failed.*\n[\s\S]*?❌.*/, 60_000);
    expect(failed).toContain('exit 3');
    expect(failed).toContain(`hello ${workspace}`);
    // (Anchored: the card's final state, `⚙️ **build** · failed ❌ …`, may be printed meanwhile.)
    expect(await bot.exec('send build again', /^❌.*/m)).toContain('shell task');
  });

  it('kills a running task and refuses to kill a finished one', async () => {
    await bot.exec('start local --name slow HOLD:k1 wait for me', /🤖 task \*\*slow\*\* started/);
    await api.waitForRequest('HOLD:k1');
    expect(await bot.exec('watch slow 30s', /👀.*/)).toContain('👀 watching **slow** every 30s');
    expect(await bot.exec('kill slow', /⏹.*/)).toContain('⏹ killed task **slow** on local');
    expect(await bot.exec('kill slow', /^❌.*/m)).toMatch(/slow is not running/);
    api.release('k1');
    expect(await bot.exec('kill auth', /^❌.*/m)).toMatch(/auth is not running/);

    // --cleanup on a finished task: its directory goes, the last lines of its log stay readable.
    const dirs = () => readdirSync(join(root, 'tasks')).length;
    const before = dirs();
    expect(await bot.exec('kill slow --cleanup', /🧹.*/)).toContain('task **slow** already finished (killed); 🧹 its directory on local is removed');
    expect(dirs()).toBe(before - 1);
    expect(await bot.exec('logs slow', /last \d+ lines.*/)).toContain('**slow**');
  });

  it('starts on an executor chosen by label, over ssh, and reports once across a restart of Switchboard', async () => {
    await bot.exec('start --label rust --name remote HOLD:r1 remote work', /🤖 task \*\*remote\*\* started on crib/);
    await api.waitForRequest('HOLD:r1');
    expect(await bot.end()).toBe(0);
    api.release('r1');
    bot = await startConsoleBot({ cwd: root });
    const final = await bot.waitFor(/📋 \*\*remote\*\* finished.*/, 90_000);
    expect(final).toContain('✅');
    await bot.exec('tasks --executor crib', /remote/);
    expect(count(bot.stdout(), '📋 **remote**')).toBe(1);
  });

  it('answers bad input clearly and changes nothing', async () => {
    const cases: Array<[string, RegExp]> = [
      ['start nowhere do it', /no executor named 'nowhere'/],
      ['start local --name auth do it again', /the name `auth` is already taken/],
      ['start local --name "../x" do it', /invalid name/],
      ['start local', /`start` needs <prompt…>/],
      ['start --label gpu do it', /no executor has the label 'gpu'/],
      ['start local --name floaty --model opusplan do it', /the model alias 'opusplan' is not pinned/],
      ['run local', /`run` needs <command…>/],
      ['tasks --status exploded', /is not a task status/],
      [`start local --workspace ${join(root, 'missing dir')} do it`, /workspace|does not exist|missing/i],
      ['logs nosuch', /no name `nosuch`/],
    ];
    for (const [line, expected] of cases) {
      expect(await bot.exec(line, /❌.*\n?.*/), line).toMatch(expected);
    }
    expect(await bot.exec('tasks', /remote.*/)).not.toContain('nowhere');
  });
});
