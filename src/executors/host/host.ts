import type { Transport } from '../transport/transport.js';
import type { PortForward } from './port-forward.js';
import type { RsyncShell } from './rsync-shell.js';

/**
 * A machine an executor reaches, opened from its config by `openHost`: run scripts, move files, reach a port on
 * its loopback, and give rsync a remote shell. The local machine (local and container executors) and an SSH host
 * implement the same interface; over SSH everything rides on one connection state machine (ssh-connection.ts).
 */
export interface Host extends Transport {
  /** How files moved so far: over SFTP, or as a script's stdin (a server without an SFTP subsystem; see file-scripts.ts). */
  readonly fileTransfers: { readonly sftp: number; readonly exec: number };
  /** A port on 127.0.0.1 here that reaches `remotePort` on the host's own loopback. */
  forward(remotePort: number): Promise<PortForward>;
  /** rsync's `-e` remote shell, pinned to the key this host presented; null for this machine (no shell needed). */
  rsyncShell(options: { sshPath: string; tmpRoot?: string }): Promise<RsyncShell | null>;
}
