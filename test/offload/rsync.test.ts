import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { encodeProjectPath, excludeArgs } from '../../src/offload/paths.js';
import { parseProgressLine, parseStats, rsyncFailure, runRsync } from '../../src/offload/rsync.js';
import { findLocalSession } from '../../src/offload/session.js';
import { hostKeyOf } from '../../src/executors/index.js';
import { removeDir, tempDir } from '../executors/harness.js';

const sides = { remote: "ssh executor 'box' (me@10.0.0.5:22)", direction: 'push' as const, what: 'the workspace /home/me/app' };

describe('rsync output', () => {
  test('progress2 lines: bytes, percent, rate, files', () => {
    expect(parseProgressLine('      3,000,003  99%  148.94MB/s    0:00:00 (xfr#2, to-chk=0/5)')).toEqual({
      bytes: 3_000_003,
      percent: 99,
      rate: '148.94MB/s',
      filesTransferred: 2,
      filesLeft: 0,
      filesTotal: 5,
    });
    expect(parseProgressLine('         32,768   1%    0.00kB/s    0:00:00  ')).toMatchObject({ bytes: 32_768, percent: 1, filesTotal: 0 });
    expect(parseProgressLine('          1,024 100%    1.00MB/s    0:00:00 (xfr#1, ir-chk=1000/1002)')).toMatchObject({ filesLeft: 1000, filesTotal: 1002 });
    expect(parseProgressLine('Number of files: 5 (reg: 2, dir: 2, link: 1)')).toBeNull();
    expect(parseProgressLine('')).toBeNull();
  });

  test('the --stats block, thousands separators included', () => {
    const stats = parseStats(
      [
        'Number of files: 1,205 (reg: 1,000, dir: 200, link: 5)',
        'Number of created files: 12 (reg: 12)',
        'Number of deleted files: 3',
        'Number of regular files transferred: 14',
        'Total file size: 12,345,678 bytes',
        'Total transferred file size: 45,678 bytes',
        'Literal data: 45,678 bytes',
        'Total bytes sent: 50,001',
        'Total bytes received: 1,234',
      ].join('\n'),
    );
    expect(stats).toEqual({ files: 1205, created: 12, deleted: 3, transferred: 14, totalSize: 12_345_678, transferredSize: 45_678, bytesSent: 50_001, bytesReceived: 1234 });
  });

  test('failures get a stable code and say which side', () => {
    const full = rsyncFailure(11, null, 'rsync: [receiver] write failed on "/srv/app/x": No space left on device (28)\nrsync error: error in file IO (code 11)', sides);
    expect(full.code).toBe('disk_full');
    expect(full.message).toContain("ssh executor 'box' (me@10.0.0.5:22) ran out of disk space");
    const fullHere = rsyncFailure(11, null, 'No space left on device', { ...sides, direction: 'pull' });
    expect(fullHere.message).toContain('this machine ran out of disk space');
    expect(rsyncFailure(127, null, 'bash: line 1: rsync: command not found\nrsync error: remote command not found (code 127)', sides).code).toBe('missing_tool');
    expect(rsyncFailure(255, null, 'ssh: connect to host 10.0.0.5 port 22: Connection refused', sides).code).toBe('executor_unreachable');
    expect(rsyncFailure(255, null, 'Host key verification failed.', sides).code).toBe('host_key_mismatch');
    expect(rsyncFailure(255, null, 'me@10.0.0.5: Permission denied (publickey).', sides).code).toBe('ssh_auth_failed');
    expect(rsyncFailure(30, null, 'rsync error: timeout in data send/receive (code 30)', sides).code).toBe('timeout');
    const other = rsyncFailure(23, null, 'rsync: [sender] opendir "/home/me/app/secret" failed: Permission denied (13)', sides);
    expect(other.code).toBe('sync_failed');
    expect(other.message).toContain('Permission denied (13)');
  });

  test('a missing rsync binary on this machine', async () => {
    const error = await runRsync({ rsyncPath: '/nonexistent/rsync', args: [], env: {}, sides }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'missing_tool', message: expect.stringContaining('this machine') });
  });
});

describe('paths and filters', () => {
  test('the projects key replaces every non-alphanumeric character', () => {
    expect(encodeProjectPath('/srv/.dot dir/my_ws')).toBe('-srv--dot-dir-my-ws');
    expect(encodeProjectPath(`/a b'c"d/é`)).toBe('-a-b-c-d--');
  });

  test('excludes are anchored; .env* only without --include-env; user patterns first', () => {
    const args = excludeArgs({ includeEnv: false, extra: ['/tmp/'] });
    expect(args[0]).toBe('--exclude=/tmp/');
    expect(args).toContain('--exclude=/node_modules/');
    expect(args).toContain('--exclude=/dist/');
    expect(args).toContain('--exclude=.env*');
    expect(args.some((a) => a.includes('.git'))).toBe(false);
    expect(excludeArgs({ includeEnv: true })).not.toContain('--exclude=.env*');
  });

  test('a host key blob gives its type for known_hosts', () => {
    const type = Buffer.from('ssh-ed25519');
    const blob = Buffer.concat([Buffer.from([0, 0, 0, type.length]), type, Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 1)]);
    const key = hostKeyOf(blob);
    expect(key.type).toBe('ssh-ed25519');
    expect(key.blob).toBe(blob.toString('base64'));
    expect(key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('the local session of a workspace', () => {
  const root = tempDir('sb-offload-session-');
  afterAll(() => removeDir(root));

  test('the newest session file of the workspace, or the one named; none is null', () => {
    const workspace = join(root, 'ws');
    mkdirSync(workspace);
    const project = join(root, 'config', 'projects', encodeProjectPath(workspace));
    mkdirSync(join(project, '22222222-2222-4222-8222-222222222222'), { recursive: true });
    const older = '11111111-1111-4111-8111-111111111111';
    const newer = '22222222-2222-4222-8222-222222222222';
    writeFileSync(join(project, `${older}.jsonl`), '{}\n');
    writeFileSync(join(project, `${newer}.jsonl`), '{}\n{}\n');
    writeFileSync(join(project, 'notes.jsonl'), '{}\n');
    const now = Date.now() / 1000;
    utimesSync(join(project, `${older}.jsonl`), now - 100, now - 100);
    utimesSync(join(project, `${newer}.jsonl`), now, now);
    const found = findLocalSession(join(root, 'config'), workspace);
    expect(found).toMatchObject({ id: newer, dir: join(project, newer), size: 6 });
    expect(findLocalSession(join(root, 'config'), workspace, older)).toMatchObject({ id: older, dir: null });
    expect(findLocalSession(join(root, 'config'), join(root, 'elsewhere'))).toBeNull();
    expect(() => findLocalSession(join(root, 'config'), workspace, 'not-a-uuid')).toThrow(/not a Claude session id/);
  });
});
