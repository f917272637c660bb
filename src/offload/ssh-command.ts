import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { SwitchboardError } from '../errors.js';
import { shellQuote } from '../executors/protocol/quote.js';
import { checkHostKey, fingerprintOf, type SshTarget } from '../executors/transport/ssh.js';

/** A host key as OpenSSH's known_hosts wants it. */
export interface HostKey {
  /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`… */
  type: string;
  /** The key blob, base64. */
  blob: string;
  fingerprint: string;
}

/** The key type is the first string of the SSH wire-format blob. */
export function hostKeyOf(blob: Buffer): HostKey {
  const length = blob.readUInt32BE(0);
  return { type: blob.subarray(4, 4 + length).toString('latin1'), blob: blob.toString('base64'), fingerprint: fingerprintOf(blob) };
}

/**
 * Connects once with ssh2 to learn the host's key, checked against the executor's pin exactly as the executor's
 * own connections are (a mismatch or an unpinned key without insecureAcceptNewHostKey is refused), and to prove
 * the credentials work before rsync starts. The OpenSSH client that rsync runs is then told to accept only this key.
 */
export function captureHostKey(target: SshTarget, label: string, createClient: () => Client = () => new Client()): Promise<HostKey> {
  return new Promise((resolve, reject) => {
    const client = createClient();
    let seen: HostKey | undefined;
    let problem: SwitchboardError | undefined;
    let settled = false;
    const finish = (error: SwitchboardError | null) => {
      if (settled) return;
      settled = true;
      client.end();
      if (error) reject(error);
      else resolve(seen!);
    };
    client.on('ready', () => finish(null));
    client.on('error', (error: Error & { level?: string }) => {
      if (problem) return finish(problem);
      if (error.level === 'client-authentication') {
        return finish(
          new SwitchboardError('ssh_auth_failed', `${label}: the server refused ${target.identityFile ?? 'the ssh agent keys'} for user ${target.user}`, {
            cause: error,
          }),
        );
      }
      finish(new SwitchboardError('executor_unreachable', `${label}: cannot connect: ${error.message}`, { cause: error }));
    });
    client.on('close', () => finish(problem ?? new SwitchboardError('executor_unreachable', `${label}: the connection closed during the handshake`)));
    try {
      client.connect({
        host: target.host,
        port: target.port,
        username: target.user,
        readyTimeout: target.connectTimeoutMs,
        ...(target.privateKey ? { privateKey: target.privateKey } : {}),
        ...(target.agentSocket ? { agent: target.agentSocket } : {}),
        hostVerifier: (key: Buffer) => {
          seen = hostKeyOf(key);
          problem = checkHostKey(target, label, seen.fingerprint);
          return problem === undefined;
        },
      });
    } catch (error) {
      finish(new SwitchboardError('config_invalid', `${label}: ${(error as Error).message}`, { cause: error }));
    }
  });
}

/** What rsync needs to reach the host through OpenSSH with the executor's settings. */
export interface RsyncShell {
  /** The `-e` value: our wrapper script, which fixes every ssh option. */
  rsh: string;
  /** `user@host:` prefix for remote paths (rsync's syntax; IPv6 in brackets). */
  remotePrefix: string;
  /** Variables the ssh client needs in its environment (the agent socket). */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** OpenSSH wants the signature algorithms for RSA keys, not the key type. */
function hostKeyAlgorithms(type: string): string {
  return type === 'ssh-rsa' ? 'rsa-sha2-512,rsa-sha2-256' : type;
}

const ALIAS = 'switchboard-executor';

/**
 * A private directory (0700) with a known_hosts file holding exactly the captured key and a small `ssh` wrapper
 * that fixes every option: no user config, batch mode (never a prompt), strict host key checking against that
 * file, only the configured key (or the agent), no forwarding, keepalives. The wrapper is the one place a shell
 * line is built, and every value in it is single-quoted.
 */
export async function prepareRsyncShell(options: {
  target: SshTarget;
  hostKey: HostKey;
  sshPath: string;
  tmpRoot?: string;
}): Promise<RsyncShell> {
  const { target, hostKey } = options;
  const dir = await mkdtemp(join(options.tmpRoot ?? tmpdir(), 'sb-offload-'));
  try {
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${ALIAS} ${hostKey.type} ${hostKey.blob}\n`, { mode: 0o600 });
    const argv = [
      options.sshPath,
      '-F', '/dev/null',
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', `HostKeyAlias=${ALIAS}`,
      '-o', `HostKeyAlgorithms=${hostKeyAlgorithms(hostKey.type)}`,
      '-o', 'UpdateHostKeys=no',
      '-o', `ConnectTimeout=${Math.max(1, Math.ceil(target.connectTimeoutMs / 1000))}`,
      '-o', 'ServerAliveInterval=15',
      '-o', 'ServerAliveCountMax=4',
      '-o', 'ControlMaster=no',
      '-o', 'ControlPath=none',
      '-o', 'ForwardAgent=no',
      '-o', 'ForwardX11=no',
      '-o', 'ClearAllForwardings=yes',
      '-o', 'PermitLocalCommand=no',
      '-o', 'LogLevel=ERROR',
      '-p', String(target.port),
      ...(target.identityFile ? ['-i', target.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
      ...(target.agentSocket ? [] : ['-o', 'IdentityAgent=none']),
    ];
    const wrapper = join(dir, 'ssh');
    await writeFile(wrapper, `#!/bin/sh\nexec ${argv.map(shellQuote).join(' ')} "$@"\n`, { mode: 0o700 });
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return {
      rsh: shellQuote(wrapper),
      remotePrefix: `${target.user}@${host}:`,
      env: target.agentSocket ? { SSH_AUTH_SOCK: target.agentSocket } : {},
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
