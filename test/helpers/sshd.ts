import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A real OpenSSH server on 127.0.0.1 with throwaway keys in a temp dir: an ed25519 host key, a user key that is
 * authorized and one that is not (for the wrong-key test). Runs as the current user (root here), so the tests
 * reach this machine through ssh, with sshd's own environment and a real SFTP subsystem (or, with `sftp: false`,
 * none: no `Subsystem sftp` line, as on hardened hosts and minimal images).
 */
export interface Sshd {
  host: string;
  port: number;
  user: string;
  /** `SHA256:…` as ssh-keygen -lf prints it. */
  hostKeyFingerprint: string;
  userKeyPath: string;
  /** A key sshd does not accept. */
  unauthorizedKeyPath: string;
  dir: string;
  /** Ports tried before one worked: another process took the free port first (see startSshd). */
  portRetries: number;
  /** Lines sshd has logged so far (LogLevel VERBOSE: each SFTP subsystem request, served or refused, is there). */
  log(): string;
  /** Kills sshd and every session it serves (connections drop, as when a host goes away); tmux servers survive. */
  pause(): Promise<void>;
  /** Starts sshd again on the same port with the same keys. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Serve the SFTP subsystem (default true). */
  sftp?: boolean;
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-sshd-'));
  const logLines: string[] = [];
  let child: ChildProcess | undefined;
  try {
    const keygen = (file: string) => run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'switchboard-test', '-f', join(dir, file)]);
    await Promise.all([keygen('host_key'), keygen('user_key'), keygen('other_key')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_key.pub')));
    const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'host_key.pub')]);
    const hostKeyFingerprint = stdout.split(' ')[1] ?? '';
    mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory sshd insists on

    // Retried only when sshd exits or stays silent on a port the kernel said was free: another process took it
    // between our look and sshd's bind (sshd cannot listen on port 0 and report it). Counted in `portRetries`.
    const TRIES = 5;
    for (let tries = 0; tries < TRIES; tries++) {
      const port = await freePort();
      writeFileSync(
        join(dir, 'sshd_config'),
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${join(dir, 'host_key')}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
          'StrictModes no',
          'UsePAM no',
          'PermitRootLogin yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PubkeyAuthentication yes',
          ...(options.sftp === false ? [] : ['Subsystem sftp /usr/lib/openssh/sftp-server']),
          'MaxSessions 30',
          'MaxStartups 50',
          'LogLevel VERBOSE',
          '',
        ].join('\n'),
      );
      child = launch(dir, logLines);
      const listening = await waitForListening(child, 10_000);
      if (listening) {
        let current = child;
        return {
          host: '127.0.0.1',
          port,
          user: userInfo().username,
          hostKeyFingerprint,
          portRetries: tries,
          userKeyPath: join(dir, 'user_key'),
          unauthorizedKeyPath: join(dir, 'other_key'),
          dir,
          log: () => logLines.join(''),
          async pause() {
            killTree(current.pid!);
            await stopProcess(current);
          },
          async resume() {
            current = launch(dir, logLines);
            if (!(await waitForListening(current, 10_000))) throw new Error(`sshd did not come back on port ${port}`);
          },
          async stop() {
            killTree(current.pid!);
            await stopProcess(current);
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await stopProcess(child);
    }
    throw new Error(`sshd did not start on any of ${TRIES} free ports; its log:\n${logLines.join('').slice(-2_000)}`);
  } catch (error) {
    if (child) await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function launch(dir: string, log: string[]): ChildProcess {
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  return child;
}

/** SIGKILL to a process's descendants (sshd's per-connection processes and their shells). */
function killTree(root: number): void {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const queue = [...(children.get(root) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    queue.push(...(children.get(pid) ?? []));
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Resolves true on "Server listening", false if sshd exits (port taken) or the deadline passes. */
function waitForListening(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      resolve(ok);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('Server listening')) finish(true);
    };
    const onExit = () => finish(false);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** How an ssh executor logs in to this sshd: the test user's key, and the host key pinned. */
export function sshdLogin(sshd: Sshd) {
  return {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    identityFile: sshd.userKeyPath,
    hostKey: sshd.hostKeyFingerprint,
    insecureAcceptNewHostKey: false,
    connectTimeoutSec: 10,
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
