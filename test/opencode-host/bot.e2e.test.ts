import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { killTmuxServer, removeDir, tempDir } from '../executors/harness.js';
import { runClaude } from '../offload/harness.js';
import { execFile } from 'node:child_process';

const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

const OPENCODE_BIN = new URL('../../node_modules/.bin/opencode', import.meta.url).pathname;

/**
 * The wiring, through the real bot process and its console: `new kumo @crib` starts OpenCode on an ssh executor
 * (a real sshd), `send`/`todo`/`last` go through the tunnel, `servers` lists it, `offload` moves a workspace with
 * its Claude session there and `offload --back` brings it home, and a restarted bot re-attaches to the server.
 */
describe('the bot with an executor that hosts OpenCode and takes offloads', () => {
  let sshd: Sshd;
  let llm: FakeLlm;
  let anthropic: FakeAnthropic;
  let root: string;
  let project: string;
  let workspace: string;
  let localClaude: string;
  let bot: ConsoleBot;
  const socket = `sbtest-bot-${process.pid}`;
  const sessionId = randomUUID();

  function env(): Record<string, string> {
    return {
      SWITCHBOARD_SECRET: 'bot-test-secret',
      CLAUDE_CONFIG_DIR: localClaude,
      SB_TOKEN: 'token-for-the-task',
      LOG_LEVEL: 'warn',
    };
  }

  beforeAll(async () => {
    [sshd, llm, anthropic] = await Promise.all([startSshd(), startFakeLlm(), startFakeAnthropic()]);
    root = tempDir('sb-bot-');
    project = join(root, 'project');
    workspace = join(root, 'app');
    localClaude = join(root, 'local-claude');
    for (const dir of [project, workspace, join(root, 'tasks'), join(root, 'remote'), join(root, 'xdg', 'config', 'opencode')]) mkdirSync(dir, { recursive: true });
    const opencodeConfig = JSON.stringify({
      provider: { fake: { npm: '@ai-sdk/openai-compatible', name: 'Fake', options: { baseURL: llm.baseUrl, apiKey: 'x' }, models: { 'fake-model': { name: 'Fake Model' } } } },
      model: 'fake/fake-model',
      small_model: 'fake/fake-model',
      autoupdate: false,
      share: 'disabled',
    });
    writeFileSync(join(root, 'xdg', 'config', 'opencode', 'opencode.json'), opencodeConfig);
    writeFileSync(join(project, 'opencode.json'), opencodeConfig);
    writeFileSync(join(workspace, 'main.py'), 'print("hi")\n');
    writeFileSync(join(workspace, '.env'), 'SECRET=stays-home\n');
    await runClaude(workspace, claudeEnv({ baseUrl: anthropic.baseUrl, configDir: localClaude }), sessionId, 'Remember MANGO');

    const executorEnv: Record<string, string> = {
      ...claudeEnv({ baseUrl: anthropic.baseUrl, configDir: join(root, 'remote-claude') }),
      XDG_DATA_HOME: join(root, 'xdg', 'data'),
      XDG_CONFIG_HOME: join(root, 'xdg', 'config'),
      XDG_STATE_HOME: join(root, 'xdg', 'state'),
      XDG_CACHE_HOME: join(root, 'xdg', 'cache'),
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_MODELS_FETCH: '1',
    };
    writeFileSync(
      join(root, 'switchboard.yaml'),
      [
        'executors:',
        '  - name: crib',
        '    type: ssh',
        `    host: ${sshd.host}`,
        `    port: ${sshd.port}`,
        `    user: ${sshd.user}`,
        `    identityFile: ${sshd.userKeyPath}`,
        `    hostKey: "${sshd.hostKeyFingerprint}"`,
        `    tmuxSocket: ${socket}`,
        `    tasksDir: ${join(root, 'tasks')}`,
        `    workspace: ${join(root, 'remote')}`,
        `    claudePath: ${CLAUDE_PATH}`,
        `    opencodePath: ${OPENCODE_BIN}`,
        '    env:',
        ...Object.entries(executorEnv).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
        'defaults:',
        '  killGraceSec: 1',
      ].join('\n'),
    );
    bot = await startConsoleBot({ cwd: root, env: env() });
  }, 180_000);

  afterAll(async () => {
    await bot?.end().catch(() => undefined);
    killTmuxServer(socket);
    await Promise.all([sshd?.stop(), llm?.close(), anthropic?.close()]);
    if (root) removeDir(root);
  });

  it('new kumo @crib starts OpenCode there; send, todo and the final output come through the tunnel; servers lists it', async () => {
    const created = await bot.exec(`new kumo @crib --agent build --dir ${project}`, /Send it work|❌.*/, 180_000);
    expect(created).toContain('🆕 **kumo** → OpenCode session');
    expect(created).toContain('on @crib');
    await bot.exec('send kumo TODO fix the parser', /^TODO fix the parser$/m);
    await bot.waitFor(/📋 \*\*kumo\*\* finished/, 120_000);
    const todo = await bot.exec('todo kumo', /🔲 Update the changelog/);
    expect(todo).toContain('**kumo** todo 2/4');
    const last = await bot.exec('last kumo', /^Done: .*$/m);
    expect(last).toContain('Done: TODO fix the parser');
    const servers = await bot.exec('servers', /@crib\*\* running.*/);
    expect(servers).toMatch(/✅ \*\*@crib\*\* running · ssh executor 'crib' .* · port \d+ there, http:\/\/127\.0\.0\.1:\d+ here/);
    expect(servers).not.toContain('password in memory only');
  });

  it('offload moves the workspace and its session; the task continues the conversation; --back brings it home', async () => {
    const moved = await bot.exec(
      `offload crib --name moved --workspace ${workspace} --env SB_TOKEN -- What was the word? BASH: printf %s "$SB_TOKEN" > token.txt`,
      /brings the changes home|❌.*/,
      120_000,
    );
    expect(moved).toContain(`📦 **moved** offloaded to crib: ${workspace} → ${join(root, 'remote', 'app')}`);
    expect(moved).toContain(`continuing Claude session \`${sessionId}\``);
    expect(moved).toContain('env: SB_TOKEN');
    const finished = await bot.waitFor(/📋 \*\*moved\*\* finished[\s\S]*?Done: .*/, 120_000);
    const request = await anthropic.waitForRequest('What was the word?');
    expect(request.userTexts.some((t) => t.includes('Remember MANGO'))).toBe(true);
    expect(existsSync(join(root, 'remote', 'app', '.env'))).toBe(false);

    const back = await bot.exec('offload --back moved', /is back[\s\S]*?(kept in|No local file).*|❌.*/, 60_000);
    expect(back).toContain('🏠 **moved** is back');
    if (!existsSync(join(workspace, 'token.txt'))) throw new Error(`no token.txt after --back:\n${finished}\n${back}\n${bot.stdout().slice(-3000)}`);
    expect(readFileSync(join(workspace, 'token.txt'), 'utf8')).toBe('token-for-the-task');
    expect(readFileSync(join(workspace, '.env'), 'utf8')).toBe('SECRET=stays-home\n');
  });

  it('a restarted bot re-attaches to the server it owns (SWITCHBOARD_SECRET set): the names on it keep working', async () => {
    const serverPid = () => {
      const dir = readdirSync(join(root, 'tasks')).find((n) => n.startsWith('switchboard-opencode.'))!;
      return readFileSync(join(root, 'tasks', dir, 'pid'), 'utf8').split(' ')[0];
    };
    const pid = serverPid();
    expect(await bot.end()).toBe(0);
    bot = await startConsoleBot({ cwd: root, env: env() });
    expect(serverPid()).toBe(pid);
    const servers = await bot.exec('servers', /@crib\*\* \w+.*/, 60_000);
    expect(servers).toContain('**@crib** running');
    const last = await bot.exec('last kumo', /^Done: .*$/m, 60_000);
    expect(last).toContain('Done: TODO fix the parser');
  });

  it('a one-shot CLI command (its own process) attaches on first use through its own tunnel, and leaves the server running', async () => {
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolvePromise, reject) => {
      execFile(
        TSX,
        [CLI, 'last', 'kumo'],
        { cwd: root, env: { PATH: process.env['PATH'] ?? '', HOME: root, USER: 'tester', ...env() }, timeout: 120_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolvePromise({ stdout: out, stderr: err })),
      );
    });
    expect(stderr).toBe('');
    expect(stdout).toContain('Done: TODO fix the parser');
    const servers = await bot.exec('servers', /@crib\*\* \w+.*/, 60_000);
    expect(servers).toContain('**@crib** running');
  });
});
