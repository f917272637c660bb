import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { killTmuxServer } from '../helpers/tmux.js';

/**
 * Follow-ups to a busy Claude Code task through the real bot process, the real tmux and the real `claude` CLI
 * against the scripted Messages API: a follow-up queues and resumes the conversation after the run; `send --now`
 * kills the run and resumes the same conversation (`--resume`) with the new prompt.
 */
let api: FakeAnthropic;
let root: string;
let bot: ConsoleBot;
const socket = `sb-queue-${process.pid}`;

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

beforeAll(async () => {
  api = await startFakeAnthropic();
  root = mkdtempSync(join(tmpdir(), 'sb-task-queue-'));
  const workspace = join(root, 'work');
  mkdirSync(workspace);
  // The CLI's settings reach the task through the executor's `env:` (JSON strings are valid YAML).
  const env = claudeEnv({ baseUrl: api.baseUrl, configDir: join(root, 'claude') });
  const executor = { name: 'local', type: 'local', tmuxSocket: socket, tasksDir: join(root, 'tasks'), workspace, env };
  const config = { defaults: { maxTurns: 10, claudePath: CLAUDE_PATH, maxRetries: 2, killGraceSec: 1, retryBackoffSec: 0 }, executors: [executor] };
  writeFileSync(join(root, 'switchboard.yaml'), JSON.stringify(config, null, 2));
  bot = await startConsoleBot({ cwd: root });
}, 120_000);

afterAll(async () => {
  await bot?.end().catch(() => undefined);
  killTmuxServer(socket);
  await api?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a send to a busy Claude task', () => {
  it('queues the follow-up and resumes the same conversation after the run, each run with its own final', async () => {
    await bot.exec('start local --name cq HOLD:c1 first task', /🤖 task \*\*cq\*\* started/);
    await api.waitForRequest('HOLD:c1');
    const echo = await bot.exec('send cq second for the task', /^second for the task$/m);
    expect(echo).toContain('📨 **cq** ← tester · queued, runs after the current run (position 1)');
    expect(api.requests.some((r) => r.lastUserText === 'second for the task')).toBe(false);

    api.release('c1');
    expect(await bot.waitFor(/📋 \*\*cq\*\* finished.*\n.*/, 90_000)).toContain('Done: HOLD:c1 first task');
    await bot.waitFor(/▶️ \*\*cq\*\*: running the prompt tester queued/, 30_000);
    expect(await bot.waitFor(/📋 \*\*cq\*\* finished.*\n.*/, 90_000)).toContain('Done: second for the task');
    const followUp = api.requests.filter((r) => r.lastUserText === 'second for the task');
    expect(followUp).toHaveLength(1);
    expect(followUp[0]!.userTexts.some((t) => t.includes('HOLD:c1 first task'))).toBe(true);
  });

  it('`send --now` kills the run and resumes the conversation with the new prompt', async () => {
    await bot.exec('send cq HOLD:c2 long follow-up', /^HOLD:c2 long follow-up$/m);
    await api.waitForRequest('HOLD:c2');
    const echo = await bot.exec('send --now cq urgent: revert that', /^urgent: revert that$/m);
    expect(echo).toContain('📨 **cq** ← tester · interrupting the current run; runs as soon as it has stopped');
    // The stopped run's final says who stopped it.
    expect(await bot.waitFor(/📋 \*\*cq\*\* failed.*\n(?:.*\n)*?❌ .*/, 60_000)).toContain('❌ interrupted by tester');
    expect(await bot.waitFor(/📋 \*\*cq\*\* finished.*\n.*/, 90_000)).toContain('Done: urgent: revert that');
    api.release('c2');
    const urgent = api.requests.filter((r) => r.lastUserText === 'urgent: revert that');
    expect(urgent).toHaveLength(1);
    expect(urgent[0]!.userTexts.some((t) => t.includes('HOLD:c1 first task'))).toBe(true);
    expect(count(bot.stdout(), 'Done: urgent: revert that')).toBe(1);
  });
});
