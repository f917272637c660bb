import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../protocol/quote.js';
import type { HostKey, SshTarget } from './host-key.js';

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
 * A private directory (0700) with a known_hosts file holding exactly the key the host layer's own connection
 * checked against the pin, and a small `ssh` wrapper that fixes every option: no user config, batch mode (never a
 * prompt), strict host key checking against that file, only the configured key (or the agent), no forwarding,
 * keepalives. The wrapper is the one place a shell line is built, and every value in it is single-quoted.
 */
export async function prepareRsyncShell(options: { target: SshTarget; hostKey: HostKey; sshPath: string; tmpRoot?: string }): Promise<RsyncShell> {
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
