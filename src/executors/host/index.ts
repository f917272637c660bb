/** The host layer: one way to reach an executor's machine (see host.ts). */
export type { Host } from './host.js';
export { checkHostKey, fingerprintOf, hostKeyOf, type HostKey, type SshTarget } from './host-key.js';
export { createLocalHost } from './local-host.js';
export { brokenHost, describeExecutor, executorNamed, homeDirOf, openHost, sshTargetFor, type OpenHostDeps } from './open-host.js';
export { directPort, openPortForward, type PortForward } from './port-forward.js';
export { prepareRsyncShell, type RsyncShell } from './rsync-shell.js';
export { createSshConnection, type SshConnection, type SshConnectionOptions } from './ssh-connection.js';
export { createSshHost, type SshHostDeps } from './ssh-host.js';
