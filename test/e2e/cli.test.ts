import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';

/** `switchboard <command…>` from a shell, as scripts and cron use it: the real bin, the real database. */
const BIN = resolve(import.meta.dirname, '../../bin/switchboard.js');
let llm: FakeLlm;
let server: OpencodeServer;
let cwd: string;

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, USER: 'scripter', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  cwd = mkdtempSync(join(tmpdir(), 'sb-cli-'));
});

afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('the switchboard command', () => {
  it('writes a commented sample config once, and refuses to overwrite it', async () => {
    const first = await cli(['config', '--init']);
    expect(first.code).toBe(0);
    expect(readFileSync(join(cwd, 'switchboard.yaml'), 'utf8')).toContain('# switchboard.yaml');
    const second = await cli(['config', '--init']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('already exists');
    // The sample validates: the bot and every command accept it.
    expect((await cli(['executors', '--json'])).code).toBe(0);
    rmSync(join(cwd, 'switchboard.yaml'));
  });

  it('runs one command against the same database, with meaningful exit codes and --json / --jsonl', async () => {
    const made = await cli(['new', 'kumo', server.url, '--agent', 'build', '--title', 'from a script']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('🆕 **kumo**');
    const list = await cli(['sessions', '--json']);
    expect(list.code).toBe(0);
    const parsed = JSON.parse(list.stdout) as Array<{ name: string; state: string }>;
    expect(parsed.map((l) => l.name)).toEqual(['kumo']);
    const lines = await cli(['sessions', '--jsonl']);
    expect(lines.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name)).toEqual(['kumo']);

    const sent = await cli(['send', 'kumo', 'hello from cron']);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain('hello from cron');

    const unknown = await cli(['status', 'kumu']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('did you mean `kumo`?');
    const usage = await cli(['frobnicate']);
    expect(usage.code).toBe(2);
    const json = await cli(['status', 'nope', '--json']);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { error: { code: string } }).error.code).toBe('unknown_name');
  });

  it('refuses a broken config with the file, the key and the problem, and exit status 2', async () => {
    writeFileSync(join(cwd, 'switchboard.yaml'), 'servers:\n  - name: lab\n    url: ftp://nope\n');
    const broken = await cli(['sessions']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/switchboard\.yaml: servers\[0\]\.url: must be an http:\/\/ or https:\/\/ URL/);
    rmSync(join(cwd, 'switchboard.yaml'));
    expect(existsSync(join(cwd, 'data'))).toBe(true);
  });

  it('draws the dashboard once', async () => {
    const frame = await cli(['dashboard']);
    expect(frame.code).toBe(0);
    expect(frame.stdout).toMatch(/kumo .*opencode on/);
    expect(frame.stdout).toContain('Active tasks:');
  });

  it('refuses a bad flag of its own with the usage line and exit status 2, drawing nothing', async () => {
    const bad = await cli(['dashboard', '--watch', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('switchboard: option `--watch` needs a whole number from 1, not `soon`\nusage: switchboard dashboard [--watch SECONDS]\n');
  });
});
