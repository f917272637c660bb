/**
 * The SSH transport is the SSH host of the host layer (../host/). These names stay for the code that imports
 * them from here while opencode-host moves to `openHost` (issue 15); new code imports from `executors/index.ts`.
 */
export { createSshHost as createSshTransport, type SshHostDeps as SshTransportDeps } from '../host/ssh-host.js';
export { checkHostKey, fingerprintOf, type SshTarget } from '../host/host-key.js';
