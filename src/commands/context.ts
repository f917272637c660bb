import type { Config } from '../config/load.js';
import type { Environment } from '../config/environment.js';
import type { Choices } from '../core/choices.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Actor, Origin } from '../core/origin.js';
import type { Reply } from '../core/reply.js';
import type { MonitorControl } from '../monitor/control.js';
import type { LookupHost } from '../opencode/address-guard.js';
import type { ServerDirectory } from '../opencode/server-directory.js';
import type { Access, Level } from '../sessions/access.js';
import type { AuditLog } from '../sessions/audit.js';
import type { Registry } from '../sessions/registry.js';
import type { GrammarSpec } from './spec.js';
import type { Fleet } from '../executors/index.js';
import type { TaskRelay } from '../monitor/task-relay.js';
import type { Offloader } from '../offload/index.js';
import type { OpencodeHosts } from '../opencode-host/index.js';
import type { FollowUps } from './follow-ups.js';
import type { ScheduleStore } from '../schedules/index.js';
import type { BudgetGuard } from '../budgets/index.js';
import type { Worktrees } from '../worktrees/index.js';
import type { FetchFile, InboundFile } from '../files/index.js';

/** Everything a handler may use. Built once by the core; handlers never reach for globals. */
export interface Services {
  config: Config;
  env: Environment;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  servers: ServerDirectory;
  choices: Choices;
  access: Access;
  audit: AuditLog;
  monitor: MonitorControl;
  lookupHost: LookupHost;
  /** Every verb's grammar and the role it needs (what `help` lists and what a schedule's line is checked against). */
  grammar: readonly (GrammarSpec & { level: Level })[];
  /** Executors and their tasks. */
  fleet: Fleet;
  /** What live tasks last reported (todos, latest text). */
  tasks: Pick<TaskRelay, 'view' | 'tick'>;
  /** OpenCode servers Switchboard runs on executors (`@executor`). */
  hosts: OpencodeHosts;
  /** Moves local work (workspace and Claude session) to executors and back. */
  offloader: Offloader;
  /** Prompts waiting for busy names (`send` queues, `send --now` interrupts, `abort` drops). */
  followUps: FollowUps;
  /** Command lines that run on a cron or an interval, as their owner (`schedule`, `schedules`, `unschedule`). */
  schedules: ScheduleStore;
  /** The git worktrees Switchboard made for tasks and sessions (`--worktree`, `kill --cleanup`, `tasks --worktrees`). */
  worktrees: Worktrees;
  /** Each name's run limits and its current run's use (`budget`); absent in harnesses that need none. */
  budgets?: BudgetGuard;
  /** Posts a message outside a command's own reply (progress of a long command); through the outbox. */
  notify(origin: Origin, message: Reply, threadKey?: string): void;
  /** Downloads attached files (default: the global fetch); tests inject their own. */
  fetchFile?: FetchFile;
  /** The fleet page, when WEB_PORT is set: a private one-time link for an actor. */
  web?: { link(actor: Actor): string };
}

/**
 * A handler's view of one command. `S` narrows the services to what a verb declares it uses
 * (`CommandDefinition<'fleet' | 'access'>`), so a verb's type says what it can reach.
 */
export interface CommandContext<S = Services> {
  actor: Actor;
  origin: Origin;
  /** The command line as received (after a typed choice was expanded). */
  line: string;
  args: Record<string, string>;
  options: Record<string, string | number | boolean>;
  text?: string;
  /** Files attached to the command (only verbs whose spec says `files: true` get any). Not yet downloaded. */
  files?: readonly InboundFile[];
  services: S;
  /** Filled in by handlers for the audit row the core writes afterwards. */
  audit: { target?: string; promptId?: number; detail?: string };
  /** Where the reply goes when it is about one name (the prompt echo opens that name's thread). */
  route?: { threadKey: string; opensThread?: boolean };
}

/** The services a verb uses, by name: `keyof Services` (all of them) unless the verb narrows it. */
export type ServiceName = keyof Services;

/** A context that reaches only these services: what a shared helper takes, so it says what it uses. */
export type ContextWith<K extends ServiceName> = CommandContext<Pick<Services, K>>;

export interface CommandDefinition<K extends ServiceName = ServiceName> extends GrammarSpec {
  /** The role the verb needs at least; handlers add finer checks (own work, unconfigured servers). */
  level: Level;
  // Method syntax on purpose: a verb that uses fewer services is still a CommandDefinition in the verb table.
  handle(ctx: CommandContext<Pick<Services, K>>): Promise<Reply>;
}
