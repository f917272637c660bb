import { createHash } from 'node:crypto';
import { SwitchboardError } from '../../errors.js';

/** Everything needed to reach one SSH host; built from an ssh executor's config by `sshTargetFor`. */
export interface SshTarget {
  /** The executor's name, for messages. */
  executor: string;
  host: string;
  port: number;
  user: string;
  /** The private key's bytes (the caller read the file), or undefined to use only the agent. */
  privateKey?: Buffer;
  identityFile?: string;
  agentSocket?: string;
  hostKey?: string;
  insecureAcceptNewHostKey: boolean;
  connectTimeoutMs: number;
}

/** A host key as OpenSSH's known_hosts wants it (rsync's ssh is told to accept exactly this one). */
export interface HostKey {
  /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`… */
  type: string;
  /** The key blob, base64. */
  blob: string;
  fingerprint: string;
}

/** `SHA256:<base64, no padding>` of a host key blob, the form `ssh-keygen -lf` prints. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type is the first string of the SSH wire-format blob. */
export function hostKeyOf(blob: Buffer): HostKey {
  const length = blob.readUInt32BE(0);
  return { type: blob.subarray(4, 4 + length).toString('latin1'), blob: blob.toString('base64'), fingerprint: fingerprintOf(blob) };
}

/** Undefined when the key is acceptable; otherwise the error that says what was seen and how to fix it. */
export function checkHostKey(target: Pick<SshTarget, 'hostKey' | 'insecureAcceptNewHostKey' | 'executor'>, label: string, seen: string) {
  if (target.hostKey) {
    if (target.hostKey === seen) return undefined;
    return new SwitchboardError(
      'host_key_mismatch',
      `${label}: host key mismatch: expected ${target.hostKey}, the server presented ${seen}. ` +
        'Someone may be intercepting the connection, or the host was reinstalled.',
      { hint: `If the host was reinstalled, check the new key on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and update hostKey for '${target.executor}'.` },
    );
  }
  if (target.insecureAcceptNewHostKey) return undefined;
  return new SwitchboardError(
    'host_key_unknown',
    `${label}: the host key is not pinned, so the connection was refused (the server presented ${seen}).`,
    { hint: `Check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add "hostKey: ${seen}" to executor '${target.executor}', or set insecureAcceptNewHostKey: true.` },
  );
}
