/**
 * The executor layer's public surface, for the core: build a Fleet from the config sections, register the
 * task migrations, call tick() from the monitor, and relay the TaskEvents it reports.
 */
export { createFleet } from './fleet.js';
export type { ExecutorStatus, Fleet, FleetDeps, StartSpec, TaskEvent } from './api.js';
export {
  containerExecutorSchema,
  executorDefaultsSchema,
  executorSchema,
  executorsSectionSchema,
  expandHome,
  localExecutorSchema,
  modelsSchema,
  resolveModel,
  sshExecutorSchema,
} from './config.js';
export type {
  ContainerExecutorConfig,
  ExecutorConfig,
  ExecutorDefaults,
  ExecutorsSection,
  LocalExecutorConfig,
  ModelAliases,
  SshExecutorConfig,
} from './config.js';
export { taskMigrations, ACTIVE_STATUSES, FINAL_STATUSES, isFinal } from './task-store.js';
export type { AttemptReason, AttemptRow, CompletionRecord, TaskRecord, TaskStatus } from './task-store.js';
export type { Todo, TodoStatus, Usage } from './claude-events.js';
export type { TaskKind } from './protocol/task-files.js';
export { fingerprintOf } from './host/index.js';
export { signBody } from './webhook.js';

// The host layer: one way to reach an executor's machine (exec, files, port forwards, rsync's shell).
export {
  brokenHost,
  createLocalHost,
  createSshConnection,
  createSshHost,
  describeExecutor,
  executorNamed,
  homeDirOf,
  hostKeyOf,
  openHost,
  openPortForward,
  sshTargetFor,
} from './host/index.js';
export type { Host, HostKey, OpenHostDeps, PortForward, RsyncShell, SshConnection, SshHostDeps, SshTarget } from './host/index.js';
export type { ExecOptions, ExecResult, ReadRange, ReadResult, Transport } from './transport/transport.js';
// What host scripts outside executors/ are written with: static text, the shared prelude, `key value` output.
export { bash } from './protocol/script.js';
export { HOST_PRELUDE } from './protocol/prelude.js';
export { parseFields } from './runtime/tmux-runtime.js';
export { resolveWorkspace } from './workspace.js';
// What the OpenCode servers Switchboard runs on executors share with tasks: the kill script and the env file.
export { KILL_SCRIPT } from './protocol/host-scripts.js';
export { shellEnvFile } from './protocol/task-files.js';
