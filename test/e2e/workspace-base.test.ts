import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killTmuxServer } from '../executors/harness.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';

/**
 * A relative --workspace through the real bot process, the real tmux and local executors: under the executor's
 * `workspace:`, else under the home directory of the user tasks run as, never under the bot's working directory.
 * Every candidate directory exists, so the task's own `pwd` says which reading was taken.
 */
let root: string;
let home: string;
let botCwd: string;
let bot: ConsoleBot;
const socket = `sb-e2e-ws-${process.pid}`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sb-workspace-base-'));
  home = join(root, 'h1', 'h2', 'home');
  botCwd = join(root, 'a', 'b');
  for (const dir of [join(home, 'sub'), join(botCwd, 'sub'), join(root, 'base', 'sub'), join(root, 'h1', 'etc'), join(root, 'etc')]) mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(botCwd, 'switchboard.yaml'),
    `executors:
  - name: home
    type: local
    tmuxSocket: ${socket}
    tasksDir: ${join(root, 'tasks')}
  - name: based
    type: local
    workspace: ${join(root, 'base')}
    tmuxSocket: ${socket}
    tasksDir: ${join(root, 'tasks')}
`,
  );
  bot = await startConsoleBot({ cwd: botCwd, env: { HOME: home } });
}, 60_000);

afterAll(async () => {
  await bot?.end().catch(() => undefined);
  killTmuxServer(socket);
  if (root) rmSync(root, { recursive: true, force: true });
});

async function pwdOf(line: string, name: string): Promise<{ started: string; ran: string }> {
  const started = await bot.exec(line, new RegExp(`⚙️ task \\*\\*${name}\\*\\* started.*`));
  const final = await bot.waitFor(new RegExp(`📋 \\*\\*${name}\\*\\*.*\\n[\\s\\S]*?WORKDIR=/.*`), 60_000);
  return { started, ran: /WORKDIR=(\/.*)/.exec(final)![1]!.trim() };
}

describe('run --workspace with a relative path', () => {
  it('`run local --workspace ../../etc` climbs from the executor user’s home, not from the bot’s working directory', async () => {
    const { started, ran } = await pwdOf('run home --name climb --workspace ../../etc -- echo "WORKDIR=$(pwd)"', 'climb');
    expect(ran).toBe(join(root, 'h1', 'etc'));
    expect(started).toContain(`in ${join(root, 'h1', 'etc')}`);
  });

  it('a plain relative name is under that home; with an executor workspace: it is under that', async () => {
    expect((await pwdOf('run home --name inhome --workspace sub -- echo "WORKDIR=$(pwd)"', 'inhome')).ran).toBe(join(home, 'sub'));
    expect((await pwdOf('run based --name inbase --workspace sub -- echo "WORKDIR=$(pwd)"', 'inbase')).ran).toBe(join(root, 'base', 'sub'));
  });

  it('a relative path that is not there is refused, naming where it was looked for', async () => {
    const refused = await bot.exec('run based --name nowhere --workspace missing -- true', /❌.*/);
    expect(refused).toContain(`${join(root, 'base')}/missing does not exist on local executor 'based'`);
  });

  it('help start and help run say what a relative workspace is relative to', async () => {
    for (const verb of ['start', 'run']) {
      const help = await bot.exec(`help ${verb}`, /^ {2}--workspace P .*/m);
      expect(help, verb).toMatch(/--workspace P.*default: its workspace:, else the home directory there; a relative path is under that/);
    }
  });
});
