/**
 * OpenCode servers that Switchboard starts on executors (`new kumo @crib`): started in tmux on the host, reached
 * through an SSH tunnel, restarted when they die, re-attached when the bot restarts.
 */
export { createOpencodeHosts } from './hosts.js';
export { OPENCODE_USERNAME } from './published-refs.js';
export { managedExecutorOf } from '../opencode/server-directory.js';
export type { HostEvent, ManagedServer, ManagedServerStatus, OpencodeHosts, OpencodeHostsDeps } from './types.js';
export { opencodeHostMigrations } from './store.js';
export { createSecretBox } from './secret-box.js';
export type { SecretBox } from './secret-box.js';
