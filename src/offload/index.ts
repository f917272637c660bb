/**
 * Offload: move a line of work from this machine to an executor (workspace by rsync over the executor's SSH
 * settings, the Claude session file, then a task that resumes it), and bring it back with `back`.
 */
export { createOffloader, CONTINUE_PROMPT, movedPreamble } from './offloader.js';
export type { BackResult, OffloadProgress, OffloadResult, OffloadSpec, Offloader, OffloaderDeps } from './offloader.js';
export { offloadMigrations } from './store.js';
export type { OffloadRecord, OffloadState } from './store.js';
export { DEFAULT_EXCLUDES, ENV_EXCLUDE, encodeProjectPath } from './paths.js';
export type { RsyncProgress, RsyncStats } from './rsync.js';
