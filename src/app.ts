import { accessRulesFrom } from './config/access-rules.js';
import type { Config } from './config/load.js';
import type { Environment } from './config/environment.js';
import { allCommands } from './commands/index.js';
import type { CommandDefinition, Services } from './commands/context.js';
import { createChoices } from './core/choices.js';
import type { Clock } from './core/clock.js';
import type { Logger } from './core/logger.js';
import { createScrubber, scrubReply, secretsFromEnvironment, type Scrubber } from './core/scrub.js';
import { createSwitchboard, type Switchboard } from './core/switchboard.js';
import { createMonitor, type Monitor, type MonitorDeps } from './monitor/monitor.js';
import { monitorMigrations } from './monitor/migrations.js';
import { createOutbox } from './notify/outbox.js';
import { outboxMigrations } from './notify/migrations.js';
import { systemLookup, type LookupHost } from './opencode/address-guard.js';
import { createServerDirectory } from './opencode/server-directory.js';
import { createAccess } from './sessions/access.js';
import { createAuditLog } from './sessions/audit.js';
import type { Db, Migration } from './sessions/database.js';
import { coreMigrations } from './sessions/migrations.js';
import { createFleet, isFinal, taskMigrations, type FleetDeps } from './executors/index.js';
import { progressReport } from './monitor/reports.js';
import { createTaskRelay, type TaskRelay } from './monitor/task-relay.js';
import { createRegistry } from './sessions/registry.js';

/** Every schema step of every part, in the order they must run. */
export const allMigrations: readonly Migration[] = [...coreMigrations, ...outboxMigrations, ...monitorMigrations, ...taskMigrations];

export interface AppDeps {
  config: Config;
  env: Environment;
  db: Db;
  clock: Clock;
  logger: Logger;
  lookupHost?: LookupHost;
  commands?: readonly CommandDefinition[];
  scrub?: Scrubber;
  /** Monitor knobs for tests and benchmarks (no scheduler, no streams, more requests in flight). */
  monitor?: Pick<MonitorDeps, 'schedule' | 'streams' | 'maxInFlight' | 'minProgressGapMs'>;
  /** Executor-layer seams for tests (an ssh connector, fetch for webhooks). */
  fleet?: Pick<FleetDeps, 'connectSsh' | 'fetch' | 'homeDir'>;
  /** Client timeouts; tests shorten them. */
  requestTimeoutMs?: number;
}

export interface App {
  switchboard: Switchboard;
  monitor: Monitor;
  tasks: TaskRelay;
  scrub: Scrubber;
  /** Re-attaches to live tasks, then starts the monitor (which reports whatever finished meanwhile). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The scrubber knows every configured secret: server passwords and secret-looking variables. */
export function scrubberFor(config: Config, env: Environment): Scrubber {
  const serverPasswords = config.servers.map((s) => (s.passwordEnv ? env[s.passwordEnv] : undefined));
  return createScrubber([...secretsFromEnvironment(env), ...serverPasswords]);
}

/** Builds the whole core from its inputs. No adapters here: main.ts adds the ones that are configured. */
export function createApp(deps: AppDeps): App {
  const { config, env, db, clock, logger } = deps;
  const scrub = deps.scrub ?? scrubberFor(config, env);
  const registry = createRegistry(db, clock, scrub);
  // Scrubbed before it is written: secrets in an agent's output never reach the database either.
  const outbox = createOutbox({ db, clock, logger, sanitize: (reply) => scrubReply(reply, scrub) });
  const servers = createServerDirectory(config.servers, env, deps.requestTimeoutMs ? { timeoutMs: deps.requestTimeoutMs } : {});
  const commands = deps.commands ?? allCommands;
  let relay: TaskRelay | undefined;
  const fleet = createFleet({
    db,
    clock,
    logger,
    executors: config.executors,
    defaults: config.defaults,
    models: config.models,
    runtimeEnv: env,
    ...(env.WEBHOOK_SECRET ? { webhookSecret: env.WEBHOOK_SECRET } : {}),
    ...deps.fleet,
    onEvent: (event) => relay?.onEvent(event),
  });
  relay = createTaskRelay({ fleet, registry, outbox, clock, logger });
  const tasks = relay;
  const monitor = createMonitor({
    db,
    clock,
    logger,
    config,
    registry,
    servers,
    outbox,
    everySecond: () => {
      void tasks.tick();
      // Messages another process (the `switchboard` CLI) queued in the same database go out too.
      outbox.pump();
    },
    taskReport: (name) => {
      const task = fleet.get(name);
      if (!task || isFinal(task.status)) return { over: true };
      const view = tasks.view(name);
      return { over: false, report: progressReport(name, view?.todos ?? [], view?.lastText ?? undefined) };
    },
    ...deps.monitor,
  });
  const services: Services = {
    config,
    env,
    clock,
    logger,
    registry,
    servers,
    choices: createChoices(db, clock),
    access: createAccess(accessRulesFrom(config, env)),
    audit: createAuditLog(db, clock),
    monitor,
    lookupHost: deps.lookupHost ?? systemLookup,
    grammar: commands,
    fleet,
    tasks,
  };
  monitor.attachServices(services);
  const switchboard = createSwitchboard({ services, commands, outbox });
  return {
    switchboard,
    monitor,
    tasks,
    scrub,
    async start() {
      await fleet.reattach();
      await monitor.start();
      void tasks.tick(true);
    },
    async stop() {
      await monitor.stop();
      await fleet.close();
      await outbox.stop();
    },
  };
}
