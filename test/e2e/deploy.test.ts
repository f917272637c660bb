import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The compiled bot run the way the Docker image runs it: `npm run build` output under plain node with the
 * image's NODE_OPTIONS, the data volume as working directory (where switchboard.yaml lives), SWITCHBOARD_DB in
 * the volume, and uid 10001 when this machine lets us switch (CI runs as root). What an operator sees on
 * stdout and stderr is what is asserted: one clear line and exit 2 for every start-up failure, never a trace.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const IMAGE_UID = 10001;
const asRoot = process.getuid?.() === 0;
const volumes: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function volume(owner: number | undefined = asRoot ? IMAGE_UID : undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-volume-'));
  chmodSync(dir, 0o755);
  if (owner !== undefined) chownSync(dir, owner, owner);
  volumes.push(dir);
  return dir;
}

function imageEnv(vol: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: vol, USER: 'switchboard', NODE_ENV: 'production', NODE_OPTIONS: '--max-old-space-size=256', SWITCHBOARD_DB: join(vol, 'switchboard.db'), LOG_LEVEL: 'warn', ...extra };
}

/** Runs `node dist/src/cli.js …` in the volume. `input` undefined: stdin is /dev/null, as `docker run` without -i. */
function run(vol: string, args: string[], options: { input?: string; env?: Record<string, string>; keepOpen?: (child: ReturnType<typeof spawn>) => Promise<void> } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: vol,
      env: options.env ?? imageEnv(vol),
      stdio: [options.input === undefined && !options.keepOpen ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(asRoot ? { uid: IMAGE_UID, gid: IMAGE_UID } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', fail);
    child.once('exit', (code) => setImmediate(() => done({ code, stdout, stderr })));
    if (options.keepOpen) void options.keepOpen(child).then(() => child.stdin!.end('sessions\n'), fail);
    else if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

function expectOneCleanLine(result: Run): string {
  expect(result.code).toBe(2);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'pipe' });
  expect(existsSync(CLI)).toBe(true);
});

afterAll(() => {
  for (const dir of volumes) rmSync(dir, { recursive: true, force: true });
});

describe('the compiled bot as the image runs it', () => {
  it('starts on an empty volume, creating its database there', async () => {
    const vol = volume();
    const result = await run(vol, [], { input: 'sessions\n' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Switchboard ready · console · database ${join(vol, 'switchboard.db')}`);
    expect(result.stdout).toContain('No names yet');
    if (asRoot) expect(statSync(join(vol, 'switchboard.db')).uid).toBe(IMAGE_UID);
  });

  it('writes switchboard.yaml into the volume with config --init, and reads it from there at the next start', async () => {
    const vol = volume();
    const init = await run(vol, ['config', '--init']);
    expect(init.code).toBe(0);
    expect(init.stdout.trim()).toBe(`wrote ${join(vol, 'switchboard.yaml')}`);
    expect(readFileSync(join(vol, 'switchboard.yaml'), 'utf8')).toContain('servers');
    const again = await run(vol, ['config', '--init']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists; not overwriting it');
    const started = await run(vol, [], { input: 'help\n' });
    expect(started.code).toBe(0);
    expect(started.stdout).toContain(`config ${join(vol, 'switchboard.yaml')}`);
  });

  it('keeps its state across a restart, and one-shot commands read the same database', async () => {
    const vol = volume();
    expect((await run(vol, [], { input: 'sessions\n' })).code).toBe(0);
    const second = await run(vol, [], { input: 'audit\n' });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/console:switchboard · console:terminal · sessions · ✅/);
    const json = await run(vol, ['sessions', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('names the path and the fix when the data directory is not writable', async () => {
    // Root-owned and 0755, as a bind mount of a host directory looks to uid 10001 (or read-only for a non-root run).
    const vol = volume(asRoot ? 0 : undefined);
    if (!asRoot) chmodSync(vol, 0o555);
    const data = join(vol, 'data');
    const result = await run(vol, [], { input: 'help\n', env: imageEnv(vol, { SWITCHBOARD_DB: join(data, 'switchboard.db') }) });
    const line = expectOneCleanLine(result);
    expect(line).toContain(`cannot open the database ${join(data, 'switchboard.db')}`);
    expect(line).toContain(`the directory ${vol} is not writable by uid ${asRoot ? IMAGE_UID : process.getuid?.()}`);
    expect(line).toContain('chown -R 10001');
    const oneShot = await run(vol, ['sessions'], { env: imageEnv(vol, { SWITCHBOARD_DB: join(data, 'switchboard.db') }) });
    expect(expectOneCleanLine(oneShot)).toContain('cannot open the database');
    const init = await run(vol, ['config', '--init']);
    expect(expectOneCleanLine(init)).toContain(`cannot write ${join(vol, 'switchboard.yaml')}: ${vol} is not writable by this user`);
  });

  it('takes an empty variable as unset', async () => {
    const vol = volume();
    const env = imageEnv(vol, { SWITCHBOARD_CONFIG: '', SWITCHBOARD_DB: '', LOG_LEVEL: '', SWITCHBOARD_HTTP_TIMEOUT: '', SLACK_BOT_TOKEN: '', DISCORD_TOKEN: '' });
    const result = await run(vol, [], { input: 'sessions\n', env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`database ${join(vol, 'data/switchboard.db')}`);
  });

  it('refuses a config file named by SWITCHBOARD_CONFIG that is not there, in one line', async () => {
    const vol = volume();
    const result = await run(vol, [], { input: 'help\n', env: imageEnv(vol, { SWITCHBOARD_CONFIG: join(vol, 'nope.yaml') }) });
    expect(expectOneCleanLine(result)).toBe(`switchboard: configuration error: ${join(vol, 'nope.yaml')}: file not found (named by SWITCHBOARD_CONFIG)`);
  });

  it('says what to set when no adapter is configured and stdin is empty, and exits non-zero', async () => {
    const vol = volume();
    const result = await run(vol, []);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no chat adapter is configured and stdin is empty');
    expect(result.stderr).toContain('SLACK_BOT_TOKEN');
    expect(result.stderr).toContain('DISCORD_TOKEN');
    expect(result.stderr).toContain('-it');
  });

  it('answers the health check: healthy while the bot runs, unhealthy once it stopped', async () => {
    const vol = volume();
    const before = await run(vol, ['health']);
    expect(before.code).toBe(1);
    expect(before.stderr.trim()).toBe('switchboard: unhealthy: the bot is not running on this database (no heartbeat)');
    let during: Run | undefined;
    const bot = await run(vol, [], {
      keepOpen: async (child) => {
        await new Promise<void>((ready) => {
          let out = '';
          child.stdout!.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if (out.includes('Switchboard ready')) ready();
          });
        });
        during = await run(vol, ['health']);
      },
    });
    expect(bot.code).toBe(0);
    expect(during?.code).toBe(0);
    expect(during?.stdout).toMatch(/^switchboard: healthy: console only; heartbeat \d+ s ago \(pid \d+\)\n$/);
    const after = await run(vol, ['health']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('the bot is not running');
  });
});
