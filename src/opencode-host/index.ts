/**
 * OpenCode servers that Switchboard starts on executors (`new kumo @crib`): started in tmux on the host, reached
 * through an SSH tunnel, restarted when they die, re-attached when the bot restarts.
 */
export { createOpencodeHosts, managedExecutorOf, OPENCODE_USERNAME } from './hosts.js';
export type { HostEvent, ManagedServer, ManagedServerStatus, OpencodeHosts, OpencodeHostsDeps } from './hosts.js';
export { opencodeHostMigrations } from './store.js';
export { createSecretBox } from './secret-box.js';
export type { SecretBox } from './secret-box.js';
export { openTunnel } from './tunnel.js';
export type { Tunnel } from './tunnel.js';
