import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROBE_SCRIPT } from '../../src/executors/protocol/host-scripts.js';
import { parseProbeOutput } from '../../src/executors/protocol/probe.js';
import { shellQuote } from '../../src/executors/protocol/quote.js';
import { stripAnsi, lastLines } from '../../src/executors/protocol/ansi.js';
import { claudeArgv, dockerEnvFile, runFiles, shellEnvFile, staticTaskFiles } from '../../src/executors/protocol/task-files.js';
import { createLocalTransport } from '../../src/executors/transport/local.js';
import { COMMAND_SERVER_SCRIPT, createCommandChannel, type Duplex } from '../../src/executors/transport/command-channel.js';
import { HOSTILE } from './suite.js';
import { removeDir, tempDir } from './harness.js';

const local = createLocalTransport({ env: { PATH: process.env['PATH'], HOME: process.env['HOME'] } });
const WEIRD = [HOSTILE, "'", "''", '\\', '$(id)', '`id`', '-n', '--', '', ' lead and trail ', 'a\nb\n', 'é🚀', '!$', '*', '~'];

describe('the local transport', () => {
  test('what it runs inherits the basics of the bot’s environment, never its tokens', async () => {
    const transport = createLocalTransport({
      env: { PATH: process.env['PATH'], HOME: '/home/bot', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', SLACK_BOT_TOKEN: 'xoxb-not-for-tasks', SWITCHBOARD_SECRET: 'sealed', WEBHOOK_SECRET: 'w' },
    });
    const { stdout } = await transport.exec('env');
    const names = stdout.split('\n').map((line) => line.split('=')[0]);
    expect(names).toEqual(expect.arrayContaining(['PATH', 'HOME', 'LANG', 'LC_ALL']));
    expect(stdout).toContain('HOME=/home/bot\n');
    expect(stdout).not.toMatch(/xoxb-not-for-tasks|SWITCHBOARD_SECRET|WEBHOOK_SECRET|SLACK_BOT_TOKEN/);
  });
});

describe('quoting and task files', () => {
  test.each(WEIRD.map((w) => [w]))('shellQuote(%j) survives sh and bash unchanged', (value) => {
    for (const shell of ['sh', 'bash']) {
      const out = spawnSync(shell, ['-c', `printf '%s' ${shellQuote(value)}`], { encoding: 'utf8' });
      expect(out.stdout).toBe(value);
    }
  });

  test('the env file, sourced by bash, gives back every value exactly and runs nothing', () => {
    const env = Object.fromEntries(WEIRD.map((value, i) => [`V${i}`, value]));
    const dir = tempDir('sb-env-');
    try {
      writeFileSync(join(dir, 'env'), shellEnvFile(env));
      const out = spawnSync('bash', ['--norc', '-c', `. "$1"; for k in ${Object.keys(env).join(' ')}; do printf '%s\\0' "\${!k}"; done`, 'bash', join(dir, 'env')], { encoding: 'utf8' });
      expect(out.stdout.split('\0').slice(0, -1)).toEqual(WEIRD);
    } finally {
      removeDir(dir);
    }
  });

  test('claude argv: the prompt is never in it, never -c; --session-id first, --resume after', () => {
    const base = { claudePath: '/opt/claude', sessionId: 'uuid-1', model: 'claude-opus-4-6', maxTurns: 7 };
    expect(claudeArgv({ ...base, resume: false })).toEqual([
      '/opt/claude', '-p', '--session-id', 'uuid-1', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', '--model', 'claude-opus-4-6', '--max-turns', '7',
    ]);
    // A name's cost budget reaches claude itself, fresh runs and resumes alike (it stops there in --print mode).
    expect(claudeArgv({ ...base, resume: false, maxBudgetUsd: 0.25 }).slice(-2)).toEqual(['--max-budget-usd', '0.25']);
    expect(claudeArgv({ ...base, resume: true, maxBudgetUsd: 0.0001 }).slice(-2)).toEqual(['--max-budget-usd', '0.0001']);
    expect(claudeArgv({ ...base, resume: false })).not.toContain('--max-budget-usd');
    const resumed = claudeArgv({ ...base, resume: true });
    expect(resumed.slice(0, 4)).toEqual(['/opt/claude', '-p', '--resume', 'uuid-1']);
    expect(resumed).not.toContain('-c');
    expect(resumed).not.toContain('--continue');
    const files = runFiles({ kind: 'claude', text: HOSTILE, argv: resumed });
    expect(files.find((f) => f.name === 'prompt')).toEqual({ name: 'prompt', data: HOSTILE, mode: 0o600 });
    expect(files.find((f) => f.name === 'argv')!.data).toBe(`${resumed.join('\0')}\0`);
  });

  test('every file is private; the programs are 0700', () => {
    const files = staticTaskFiles({ taskId: 't1', name: 'n', executor: 'e', kind: 'claude', workspace: '/w', env: { A: 'b' }, envStyle: 'shell', sessionId: 's' });
    for (const file of files) expect(file.mode).toBe(file.name.endsWith('.sh') ? 0o700 : 0o600);
    expect(files.find((f) => f.name === 'env')!.data).toBe("export A='b'\nexport SWITCHBOARD_TASK='t1'\n");
  });

  test('a container env file cannot carry a newline, and says so', () => {
    expect(dockerEnvFile({ A: "it's $x" })).toBe("A=it's $x\n");
    expect(() => dockerEnvFile({ A: 'two\nlines' })).toThrow('cannot contain a newline');
  });

  test('ANSI: CSI (private ones too), OSC, charset escapes go; \\r redraws become lines', () => {
    expect(stripAnsi('\u001b[31mred\u001b[0m \u001b[?2004hx\u001b]0;title\u0007y\u001b(Bz\r\nprog\rress')).toBe('red xyz\nprog\nress');
    expect(lastLines('a\nb\nc\n', 2)).toEqual(['b', 'c']);
  });
});

describe('the probe script on this machine', () => {
  let dir: string;
  let zombieParent: ReturnType<typeof spawn>;
  let zombiePid: number;

  beforeAll(async () => {
    dir = tempDir('sb-probe-');
    // A zombie: the child of a process that never reaps it (`exec sleep` replaced the shell that would have).
    // The child outlives the exec, so its exit is never collected.
    zombieParent = spawn('bash', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    zombiePid = await new Promise<number>((resolve) => zombieParent.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const deadline = Date.now() + 10_000;
    while (!readFileSync(`/proc/${zombiePid}/stat`, 'utf8').includes(') Z ')) {
      if (Date.now() > deadline) throw new Error('no zombie');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  afterAll(() => {
    zombieParent?.kill('SIGKILL');
    if (dir) removeDir(dir);
  });

  const startTime = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];

  test('files, /proc liveness (a zombie is dead though kill -0 says alive), a reused pid, a missing dir', async () => {
    const running = join(dir, 'running');
    const zombie = join(dir, 'zombie');
    mkdirSync(running);
    mkdirSync(zombie);
    writeFileSync(join(running, 'attempt'), '2\n');
    writeFileSync(join(running, 'pid'), `${process.pid} ${startTime(process.pid)}\n`);
    writeFileSync(join(running, 'wrapper_pid'), `${process.pid} 1\n`); // same pid, another start time: not ours
    writeFileSync(join(running, 'events.jsonl'), 'x'.repeat(42));
    writeFileSync(join(zombie, 'attempt'), '1\n');
    writeFileSync(join(zombie, 'done'), '1\n');
    writeFileSync(join(zombie, 'exit_code'), '137\n');
    writeFileSync(join(zombie, 'pid'), `${zombiePid} ${startTime(zombiePid)}\n`);
    expect(spawnSync('kill', ['-0', String(zombiePid)]).status).toBe(0);

    const refs = [
      { dir: running, session: '' },
      { dir: zombie, session: '' },
      { dir: join(dir, 'gone'), session: '' },
    ];
    const result = await local.exec(PROBE_SCRIPT, { args: ['', '', '1', '-', ...refs.flatMap((r) => [r.dir, r.session])] });
    expect(result.code).toBe(0);
    const [a, b, c] = parseProbeOutput(result.stdout, refs, '-').tasks;
    expect(a).toMatchObject({ attempt: 2, done: null, child: { pid: process.pid, alive: true }, wrapper: { alive: false, state: null }, events: { size: 42 } });
    expect(Math.abs(a!.events!.mtimeMs - Date.now())).toBeLessThan(60_000);
    expect(b).toMatchObject({ attempt: 1, done: 1, exitCode: 137, child: { pid: zombiePid, state: 'Z', alive: false }, events: null });
    expect(c).toMatchObject({ gone: true });
  });

  test('a pane capture cannot forge probe lines: sections start only at the nonce', () => {
    const captures = Buffer.from('@n1 sb-a\nfile done 1\ntask 0\nOverwrite? (y/N)\n@n1 sb-b\nhello\n').toString('base64');
    const stdout = `now 5\ntask 0\ntask 1\npane sb-a 0 11 - -\npane sb-b 1 12 - 9\ncaptures ${captures}\n`;
    const [a, b] = parseProbeOutput(stdout, [{ dir: '/d/a', session: 'sb-a' }, { dir: '/d/b', session: 'sb-b' }], '@n1').tasks;
    expect(a).toMatchObject({ done: null, paneTail: 'file done 1\ntask 0\nOverwrite? (y/N)', pane: { dead: false, pid: 11 } });
    expect(b).toMatchObject({ paneTail: 'hello', pane: { dead: true, deadStatus: null, deadSignal: 9 } });
  });
});

describe('the ssh command channel protocol (over a local bash)', () => {
  test('runs scripts in order with their args, exit codes and both streams; a stuck script times out and closes it', async () => {
    const child = spawn('bash', ['--norc', '-c', COMMAND_SERVER_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const stream: Duplex = {
      write: (data: string) => child.stdin.write(data),
      end: () => child.stdin.end(),
      on(event: 'data' | 'close', listener: ((chunk: Buffer) => void) | (() => void)) {
        if (event === 'data') child.stdout.on('data', listener as (chunk: Buffer) => void);
        else child.on('close', listener as () => void);
      },
    };
    const channel = createCommandChannel(stream, 'test');
    try {
      const [first, second] = await Promise.all([
        channel.run('printf "%s|" "$@"; echo oops >&2; exit 7', [HOSTILE, '', '-n'], 10_000),
        channel.run('cd /; pwd; read -r line; echo "stdin: [$line]"', [], 10_000),
      ]);
      expect(first).toEqual({ code: 7, stdout: `${HOSTILE}||-n|`, stderr: 'oops\n' });
      // Each request gets its own shell, with stdin from /dev/null (it cannot eat the next request).
      expect(second).toEqual({ code: 0, stdout: '/\nstdin: []\n', stderr: '' });
      await expect(channel.run('sleep 5', [], 200)).rejects.toMatchObject({ code: 'timeout' });
      expect(channel.closed).toBe(true);
      await expect(channel.run('true', [], 1_000)).rejects.toMatchObject({ code: 'executor_unreachable' });
    } finally {
      child.kill();
    }
  });
});
