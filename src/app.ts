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
import { createInboundLedger, inboundMigrations } from './core/inbound-dedupe.js';
import { createMonitor, type Monitor, type MonitorDeps } from './monitor/monitor.js';
import { monitorMigrations } from './monitor/migrations.js';
import { createCards, type Cards } from './notify/cards.js';
import { createOutbox } from './notify/outbox.js';
import { parseDuration } from './monitor/interval.js';
import { cardMigrations, outboxMigrations } from './notify/migrations.js';
import { systemLookup, type LookupHost } from './opencode/address-guard.js';
import { createConnectionGuard } from './opencode/connection-guard.js';
import { createServerDirectory } from './opencode/server-directory.js';
import { createAccess } from './sessions/access.js';
import { createAuditLog } from './sessions/audit.js';
import type { Db, Migration } from './sessions/database.js';
import { coreMigrations } from './sessions/migrations.js';
import { createFleet, isFinal, taskMigrations, type FleetDeps } from './executors/index.js';
import { createTaskRelay, type TaskRelay } from './monitor/task-relay.js';
import { createRegistry } from './sessions/registry.js';
import { dirname, join } from 'node:path';
import type { Origin } from './core/origin.js';
import { reply, type Reply } from './core/reply.js';
import { createOffloader, offloadMigrations, type OffloaderDeps } from './offload/index.js';
import { createOpencodeHosts, opencodeHostMigrations, type HostEvent, type OpencodeHostsDeps } from './opencode-host/index.js';
import { originKey } from './core/origin.js';
import { createScheduler } from './core/scheduler.js';
import { healthMigrations } from './process-health.js';
import { createFollowUps } from './commands/follow-ups.js';
import { createPromptQueue, promptQueueMigrations } from './sessions/prompt-queue.js';
import { createWebPage, serverProbe, webKey, webMigrations, webSettingsFrom, type WebPage, type WebPageDeps } from './web/index.js';
import { createScheduleRunner, createScheduleStore, describeWhen, formatFire, parseWhen, scheduleMigrations, type ScheduleRunner } from './schedules/index.js';
import { dropName } from './commands/drop-name.js';
import { createWorktrees, createWorktreeStore, worktreeMigrations } from './worktrees/index.js';
import { budgetDefaults, budgetMigrations, createBudgetGuard, createBudgetStore, hasLimits, type BudgetGuard, type BudgetPlace } from './budgets/index.js';

/** Every schema step of every part, in the order they must run. */
export const allMigrations: readonly Migration[] = [
  ...coreMigrations,
  ...outboxMigrations,
  ...cardMigrations,
  ...monitorMigrations,
  ...taskMigrations,
  ...offloadMigrations,
  ...opencodeHostMigrations,
  ...inboundMigrations,
  ...healthMigrations,
  ...promptQueueMigrations,
  ...webMigrations,
  ...scheduleMigrations,
  ...budgetMigrations,
  ...worktreeMigrations,
];

export interface AppDeps {
  config: Config;
  env: Environment;
  db: Db;
  clock: Clock;
  logger: Logger;
  lookupHost?: LookupHost;
  commands?: readonly CommandDefinition[];
  scrub?: Scrubber;
  /** Run the once-a-second beat of the periodic jobs (tests and benchmarks call `beat()` or `monitor.tick()` by hand instead). */
  schedule?: boolean;
  /** Monitor knobs for tests and benchmarks (no streams, more requests in flight). */
  monitor?: Pick<MonitorDeps, 'streams' | 'maxInFlight' | 'cardRefreshMs' | 'streamLingerMs' | 'streamReadyMs' | 'settleChecksMs'>;
  /** Live cards: tests shorten the edit interval below what switchboard.yaml allows. */
  cards?: { minEditIntervalMs?: number; pollMs?: number };
  /** Executor-layer seams for tests (an ssh connector, fetch for webhooks). */
  fleet?: Pick<FleetDeps, 'connectSsh' | 'fetch' | 'homeDir'>;
  /** Client timeouts; tests shorten them. */
  requestTimeoutMs?: number;
  /** The bot's working directory: offload's default workspace (default: the config file's directory). */
  cwd?: string;
  /** Seams and knobs of the OpenCode servers Switchboard runs on executors. */
  hosts?: Partial<Pick<OpencodeHostsDeps, 'connectSsh' | 'createSshClient' | 'startTimeoutMs' | 'killGraceMs' | 'readIdentity'>>;
  /** How often those servers are checked (and restarted when dead); default 30 s, 0: only on demand. */
  hostCheckMs?: number;
  offload?: Partial<Pick<OffloaderDeps, 'claudeConfigDir' | 'backupDir' | 'rsyncPath' | 'sshPath' | 'remoteRsyncPath' | 'compress' | 'progressIntervalMs' | 'tmpDir' | 'readIdentity'>>;
  /** The fleet page (on when WEB_PORT is set): what schedules and budgets add to its rows, and its resync period. */
  web?: Pick<WebPageDeps, 'nextScheduleOf' | 'budgetOf' | 'resyncMs'>;
}

export interface App {
  switchboard: Switchboard;
  monitor: Monitor;
  tasks: TaskRelay;
  scrub: Scrubber;
  /** One message per run, edited in place: the monitor and the task relay draw cards into it. */
  cards: Cards;
  /** Each run's limits, and the stops of runs that reached one. */
  budgets: BudgetGuard;
  /** The fleet page, when WEB_PORT is set (started and stopped with the app). */
  web?: WebPage;
  /** Fires due schedules (on the beat; tests call `tick()` by hand). */
  schedules: ScheduleRunner;
  /** Re-attaches to live tasks, starts the monitor (which reports whatever finished meanwhile), then the beat. */
  start(): Promise<void>;
  /** One beat of every periodic job (monitor tick, fleet probe, outbox look), for runs without the schedule. */
  beat(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The scrubber knows every configured secret: server passwords, and secret-looking variables, whether of the
 * process or written under an executor's `env:` (an API key given to its tasks).
 */
export function scrubberFor(config: Config, env: Environment): Scrubber {
  const serverPasswords = config.servers.map((s) => (s.passwordEnv ? env[s.passwordEnv] : undefined));
  const executorSecrets = config.executors.flatMap((executor) => secretsFromEnvironment(executor.env));
  return createScrubber([...secretsFromEnvironment(env), ...serverPasswords, ...executorSecrets]);
}

/** Builds the whole core from its inputs. No adapters here: main.ts adds the ones that are configured. */
export function createApp(deps: AppDeps): App {
  const { config, env, db, clock, logger } = deps;
  const lookupHost = deps.lookupHost ?? systemLookup;
  // Every connection to an OpenCode server (REST, events, a managed server's tunnel) has its address checked.
  const guard = createConnectionGuard({ lookupHost, allowMetadataAddresses: config.access.allowMetadataAddresses });
  const baseScrub = deps.scrub ?? scrubberFor(config, env);
  let hostSecrets: () => string[] = () => [];
  // Passwords of the OpenCode servers Switchboard starts exist only at run time: hidden as exactly as configured ones.
  const scrub: Scrubber = (value) => {
    let result = baseScrub(value);
    for (const secret of hostSecrets()) if (result.includes(secret)) result = result.split(secret).join('[redacted]');
    return result;
  };
  const registry = createRegistry(db, clock, scrub);
  const scheduleStore = createScheduleStore(db, clock);
  // A run's card names the schedule that started it: one whose fire under that name came as the run began.
  const scheduleOf = (name: string, startedAt: number): string | undefined => {
    const latest = scheduleStore.latestFor(name);
    if (!latest || Math.abs(latest.at - startedAt) > 15_000) return undefined;
    const { schedule } = latest;
    return `schedule #${schedule.id} · ${describeWhen(parseWhen(schedule.whenText), schedule.zone)}${schedule.paused ? ' · paused' : ` · next ${formatFire(schedule.nextAt, schedule.zone)}`}`;
  };
  let web: WebPage | undefined;
  // Scrubbed before it is written: secrets in an agent's output never reach the database either.
  const outbox = createOutbox({ db, clock, logger, sanitize: (reply) => scrubReply(reply, scrub) });
  const cards = createCards({
    db,
    clock,
    logger,
    outbox,
    minEditIntervalMs: deps.cards?.minEditIntervalMs ?? parseDuration(config.cards.minEditInterval),
    sanitize: (reply) => scrubReply(reply, scrub),
    ...(deps.cards?.pollMs ? { pollMs: deps.cards.pollMs } : {}),
    onUpdate: (card) => web?.feed.onUpdate(card),
  });
  const hosts = createOpencodeHosts({
    db,
    executors: config.executors,
    clock,
    logger,
    runtimeEnv: env,
    ...(deps.fleet?.homeDir ? { homeDir: deps.fleet.homeDir } : {}),
    secret: env.SWITCHBOARD_SECRET,
    onEvent: (event) => reportHostEvent(event),
    connectionGuard: guard,
    ...(deps.fleet?.connectSsh ? { connectSsh: deps.fleet.connectSsh } : {}),
    ...deps.hosts,
  });
  hostSecrets = () => hosts.secrets();
  const servers = createServerDirectory(config.servers, env, { guard, ...(deps.requestTimeoutMs ? { timeoutMs: deps.requestTimeoutMs } : {}) }, hosts);
  const commands = deps.commands ?? allCommands;
  const followUps = createFollowUps({ queue: createPromptQueue(db, clock), logger });
  // Schedules count their runs' budget stops (three in a row pause a schedule): set where they are built.
  let onBudgetStopped: ((name: string, at: number) => void) | undefined;
  const budgets = createBudgetGuard({
    store: createBudgetStore(db, clock),
    clock,
    logger,
    defaults: budgetDefaults(config),
    // Called after a check or on the beat, never while the app is built: fleet and monitor exist by then.
    stop: async (name) => {
      const record = registry.get(name);
      if (!record) return;
      if (record.target.kind === 'task') {
        await fleet.kill(name);
        return;
      }
      await servers.client(servers.forStored(record.target.server, record.target.serverUrl)).abort(record.target.sessionId);
      // The abort ends the turn: look now rather than wait for the stream or the next tick.
      void monitor.checkNow([name]);
    },
    onStopped: (name, at) => onBudgetStopped?.(name, at),
  });
  /** Where a registered name runs, for its default budget. */
  const placeOf = (name: string): BudgetPlace | undefined => {
    const target = registry.get(name)?.target;
    if (!target) return undefined;
    return target.kind === 'task' ? { kind: 'executor', executor: target.executor } : { kind: 'server', server: target.server };
  };
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
    scrub,
    // A claude run also stops itself at its cost limit (claude reports its cost only at the end of a run).
    maxBudgetUsd: (name, executor) => budgets.limitsFor(name, { kind: 'executor', executor }).costUsd,
    ...deps.fleet,
    onEvent: (event) => {
      relay?.onEvent(event);
      // After the relay posted the task's final output: a queued follow-up may resume the conversation.
      if (event.kind === 'finished') followUps.runEnded(event.task.name);
    },
  });
  const worktrees = createWorktrees({ store: createWorktreeStore(db, clock), hostOf: (executor) => fleet.hostOf(executor) });
  // The branch of the worktree a name works in; not a worktree a forgotten name of the same spelling left behind.
  const branchOf = (name: string): string | undefined => {
    const worktree = worktrees.of(name);
    if (!worktree) return undefined;
    const task = fleet.get(name);
    const directory = task ? task.workspace : registry.get(name)?.target.directory;
    return directory === worktree.workdir ? worktree.branch : undefined;
  };
  relay = createTaskRelay({ fleet, registry, outbox, cards, clock, logger, scrub, queuedFor: (name) => followUps.queuedFor(name), interruptedBy: (promptId) => followUps.interruptedBy(promptId), budgets, scheduleOf, branchOf });
  const cwd = deps.cwd ?? dirname(config.file);
  const dataDir = config.databasePath === ':memory:' ? join(cwd, 'data') : dirname(config.databasePath);
  const offloader = createOffloader({
    db,
    fleet,
    executors: config.executors,
    clock,
    logger,
    runtimeEnv: env,
    ...(deps.fleet?.homeDir ? { homeDir: deps.fleet.homeDir } : {}),
    cwd,
    backupDir: join(dataDir, 'offload-backups'),
    ...(deps.fleet?.connectSsh ? { connectSsh: deps.fleet.connectSsh } : {}),
    ...deps.offload,
  });
  const notify = (origin: Origin, message: Reply, threadKey?: string) => outbox.enqueue({ origin, reply: message, ...(threadKey ? { threadKey } : {}) });

  /** What happened to a server Switchboard runs goes to every channel with a name on it (once per channel). */
  function reportHostEvent(event: HostEvent): void {
    const label = `@${event.executor}`;
    let message: string;
    if (event.kind === 'restarted') message = `♻️ The OpenCode server on ${label} had stopped (${event.reason}); Switchboard restarted it. Its sessions are still there.`;
    else if (event.kind === 'password_reset') message = `🔑 The OpenCode server on ${label}: ${event.reason}.`;
    else if (event.kind === 'failed') message = `❌ The OpenCode server on ${label} is down: ${event.error}`;
    else return;
    const origins = new Map<string, Origin>();
    for (const record of registry.list()) {
      if (record.target.kind === 'opencode' && record.target.server === label) origins.set(originKey(record.origin), record.origin);
    }
    for (const origin of origins.values()) notify(origin, reply(message, { tone: event.kind === 'failed' ? 'error' : 'warning' }));
  }
  const tasks = relay;
  const choices = createChoices(db, clock);
  const monitor = createMonitor({
    db,
    clock,
    logger,
    config,
    registry,
    servers,
    outbox,
    cards,
    choices,
    taskReport: (name) => {
      const task = fleet.get(name);
      return { over: !task || isFinal(task.status) };
    },
    scrub,
    queuedFor: (name) => followUps.queuedFor(name),
    scheduleOf,
    branchOf,
    interruptedBy: (promptId) => followUps.interruptedBy(promptId),
    onRunEnded: (name, promptId) => followUps.runEnded(name, promptId),
    budgets,
    ...deps.monitor,
  });
  const services: Services = {
    config,
    env,
    clock,
    logger,
    registry,
    servers,
    choices,
    access: createAccess(accessRulesFrom(config, env)),
    audit: createAuditLog(db, clock, scrub),
    monitor,
    lookupHost,
    grammar: commands,
    fleet,
    tasks,
    hosts,
    offloader,
    followUps,
    schedules: scheduleStore,
    worktrees,
    notify,
    budgets,
  };
  const scheduler = createScheduler({ logger });
  scheduler.add('monitor', () => monitor.tick());
  scheduler.add('fleet', () => tasks.tick());
  // Messages another process (the `switchboard` CLI) queued in the same database go out too.
  scheduler.add('outbox', () => outbox.pump());
  // Wall time passes without any report: a time limit must stop a run whose agent has gone quiet.
  scheduler.add('budgets', () => budgets.tick());
  const webSettings = webSettingsFrom(env);
  if (webSettings) {
    // Without SWITCHBOARD_SECRET the page's key is kept in a 0600 file beside the database: links survive a restart.
    const keyFile = config.databasePath === ':memory:' ? undefined : join(dataDir, 'web-secret');
    web = createWebPage({ settings: webSettings, key: webKey(env.SWITCHBOARD_SECRET, keyFile), db, clock, logger, scrub, registry, access: services.access, fleet, servers: serverProbe(servers, hosts, registry), nextScheduleOf: (name) => scheduleStore.nextFor(name), budgetOf: (name) => {
      const limits = budgets.limitsFor(name, placeOf(name));
      return hasLimits(limits) ? limits : undefined;
    }, ...deps.web });
    services.web = web;
  }
  followUps.attachServices(services);
  const switchboard = createSwitchboard({ services, commands, outbox, ledger: createInboundLedger(db, clock) });
  const schedules = createScheduleRunner({
    store: scheduleStore,
    clock,
    logger,
    execute: (line) => switchboard.execute(line),
    notify,
    busy: (name) => {
      const record = registry.get(name);
      return record !== undefined && followUps.runInProgress(record);
    },
    refusal: (schedule) => {
      const refused = switchboard.refusal(schedule.line, schedule.owner, schedule.origin);
      return refused?.code === 'forbidden' ? refused : undefined;
    },
    freeName: async (name, ownerId) => {
      const record = registry.get(name);
      const task = record?.target.kind === 'task' ? fleet.get(name) : null;
      // Only a finished run of the owner's own task makes room; anything else stays and the fire says why.
      if (record && task && isFinal(task.status) && record.owner === ownerId) await dropName(services, record);
    },
  });
  scheduler.add('schedules', () => schedules.tick());
  onBudgetStopped = (name, at) => schedules.budgetStopped(name, at);
  return {
    switchboard,
    monitor,
    tasks,
    scrub,
    cards,
    budgets,
    ...(web ? { web } : {}),
    schedules,
    async start() {
      await fleet.reattach();
      // Before the monitor indexes names: every owned server has its (local) URL, attached or not.
      await hosts.reattach();
      await monitor.start();
      // Card states that were waiting when Switchboard stopped are written now, to the same messages.
      cards.start();
      await web?.start();
      // After the monitor reported what ended while Switchboard was down: queued prompts of idle names go now.
      await followUps.start();
      if ((deps.hostCheckMs ?? 30_000) > 0) hosts.supervise(deps.hostCheckMs ?? 30_000);
      void tasks.tick(true);
      if (deps.schedule !== false) scheduler.start();
    },
    /** One beat of every periodic job, for tests that run without the schedule. */
    beat: () => scheduler.beat(),
    async stop() {
      await web?.stop();
      await scheduler.stop();
      await monitor.stop();
      await hosts.close();
      await fleet.close();
      await cards.stop();
      await outbox.stop();
    },
  };
}
