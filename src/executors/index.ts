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
export { fingerprintOf } from './transport/ssh.js';
export { signBody } from './webhook.js';
