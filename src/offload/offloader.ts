// Why this file is long: an offload is one ordered transaction over two machines (checks, rsync there,
// session copy, task start, and the undo of each step on failure; the same in reverse for --back), and the
// undo needs each step's state. Reaching the host (SSH, files, rsync's pinned shell) is the host layer's (executors/host).
import { mkdirSync, readFileSync, realpathSync, statSync, existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { SwitchboardError, toSwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import {
  describeExecutor,
  executorNamed as findExecutor,
  expandHome,
  homeDirOf,
  isFinal,
  openHost,
  resolveWorkspace,
  type ExecutorConfig,
  type Fleet,
  type Host,
  type RsyncShell,
  type SshTarget,
  type TaskRecord,
  type Transport,
} from '../executors/index.js';
import type { Db } from '../sessions/database.js';
import { encodeProjectPath, excludeArgs, findExecutable } from './paths.js';
import { inspectRemote, makeRemoteDir, undoRemote, type RemoteInspection, type UndoStep } from './remote.js';
import { runRsync, type RsyncProgress, type RsyncStats } from './rsync.js';
import { claudeConfigDirOf, findLocalSession, type LocalSession } from './session.js';
import { createOffloadStore, type OffloadRecord } from './store.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What the resumed agent reads when no prompt was given (claude -p needs one). */
export const CONTINUE_PROMPT = 'Continue the work from where you left off.';

export interface OffloaderDeps {
  /** Opened with `offloadMigrations` applied. */
  db: Db;
  fleet: Fleet;
  executors: readonly ExecutorConfig[];
  clock: Clock;
  logger: Logger;
  /** The bot's environment: PATH to find rsync and ssh, HOME, CLAUDE_CONFIG_DIR, and the values of `--env NAME`. */
  runtimeEnv: Readonly<Record<string, string | undefined>>;
  homeDir?: string;
  /** The workspace when none is given (the bot's working directory). */
  cwd: string;
  /** Where `offload --back` keeps every local file it replaces or deletes, one folder per run. */
  backupDir: string;
  /** This machine's Claude Code state (default: CLAUDE_CONFIG_DIR, else ~/.claude). */
  claudeConfigDir?: string;
  rsyncPath?: string;
  sshPath?: string;
  /** rsync's name or path on executors (default `rsync`, found on the host's PATH or its login shell's). */
  remoteRsyncPath?: string;
  /** For the ssh wrapper's private directory (default: os.tmpdir()). */
  tmpDir?: string;
  readIdentity?: (path: string) => Buffer;
  /** Tests: the transport for an ssh executor's few inspection commands. */
  connectSsh?: (target: SshTarget) => Transport;
  /** Between progress reports (default 2 s; the first and the last always go out). */
  progressIntervalMs?: number;
  /** rsync gives up after this long without any I/O (default 300 s). */
  ioTimeoutSec?: number;
  /** rsync -z over ssh (default true; a loopback or LAN copy is faster without). */
  compress?: boolean;
}

export interface OffloadSpec {
  executor: string;
  name: string;
  /** The local workspace (default: deps.cwd). `~` is this machine's home; a relative path is under it too. */
  workspace?: string;
  /**
   * Where it goes on the executor (default: the workspace's folder name). A relative path is under the
   * executor's `workspace:`, else under the home directory there (resolveWorkspace).
   */
  to?: string;
  /** Without one, the session continues with CONTINUE_PROMPT; a workspace without a session needs one. */
  prompt?: string;
  /** A session of that workspace other than the newest. */
  sessionId?: string;
  includeEnv?: boolean;
  /** Names of variables from the bot's environment to pass to the task (their values never appear anywhere else). */
  env?: readonly string[];
  /** More rsync exclude patterns (anchor with a leading `/`). */
  excludes?: readonly string[];
  model?: string;
  maxTurns?: number;
  actor: string;
  channel: string;
  onProgress?: (progress: OffloadProgress) => void;
  signal?: AbortSignal;
  /**
   * Called once the workspace is there and before the task starts, with its path on the executor: the
   * directory the task works in instead (a git worktree of it, `offload --worktree`). A throw starts nothing.
   */
  workIn?: (remotePath: string) => Promise<string>;
}

export interface OffloadProgress extends RsyncProgress {
  name: string;
  phase: 'workspace' | 'session';
  direction: 'push' | 'pull';
}

export interface OffloadResult {
  task: TaskRecord;
  executor: string;
  where: string;
  localPath: string;
  remotePath: string;
  /** The conversation that continues there, or null when a fresh one started (no session here). */
  session: { id: string; bytes: number } | null;
  workspace: RsyncStats;
  /** Names only. */
  envSent: string[];
  durationMs: number;
}

export interface BackResult {
  name: string;
  executor: string;
  localPath: string;
  remotePath: string;
  workspace: RsyncStats;
  sessionCopied: boolean;
  /** Local files that were replaced or deleted, kept here; null when nothing local was touched. */
  backupDir: string | null;
  durationMs: number;
}

export interface Offloader {
  offload(spec: OffloadSpec): Promise<OffloadResult>;
  /** Brings the workspace (and the session) home. Refuses while the task still runs unless `force`. */
  back(name: string, options?: { force?: boolean; onProgress?: (progress: OffloadProgress) => void; signal?: AbortSignal }): Promise<BackResult>;
  get(name: string): OffloadRecord | null;
  list(): OffloadRecord[];
  forget(name: string): void;
}

interface Connection {
  where: string;
  transport: Host;
  /** False for a local executor. */
  remote: boolean;
  /** rsync's ssh, once ready() made it. */
  shell: RsyncShell | null;
  /** `user@host:` for ssh, '' for a local executor. */
  prefix: string;
  /** Makes rsync's ssh wrapper, pinned to the key the host presented (after the cheap checks over the transport passed). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Moves a line of work from this machine to an executor and back: the workspace by rsync over the executor's own
 * SSH settings, the workspace's Claude session file into the remote projects folder, then a task that resumes it.
 */
export function createOffloader(deps: OffloaderDeps): Offloader {
  const store = createOffloadStore(deps.db);
  const homeDir = homeDirOf(deps);
  const progressEvery = deps.progressIntervalMs ?? 2_000;

  function executorNamed(name: string): ExecutorConfig {
    const found = findExecutor(deps.executors, name, 'executors lists them.');
    if (found.type === 'container') {
      throw new SwitchboardError('usage', `${describeExecutor(found)} runs on this machine already; offload moves work to ssh (or local) executors`);
    }
    return found;
  }

  function tools(): { rsync: string; ssh: string } {
    const path = deps.runtimeEnv['PATH'];
    const rsync = findExecutable(deps.rsyncPath ?? 'rsync', path);
    if (!rsync) {
      throw new SwitchboardError('missing_tool', `rsync not found on this machine (looked for '${deps.rsyncPath ?? 'rsync'}' on PATH)`, {
        hint: 'Install rsync where Switchboard runs (apt install rsync, brew install rsync).',
      });
    }
    const ssh = findExecutable(deps.sshPath ?? 'ssh', path);
    return { rsync, ssh: ssh ?? '' };
  }

  async function connect(config: ExecutorConfig, sshPath: string): Promise<Connection> {
    const where = describeExecutor(config);
    if (config.type === 'ssh' && !sshPath) {
      throw new SwitchboardError('missing_tool', `ssh (the OpenSSH client) not found on this machine; rsync needs it to reach ${where}`, {
        hint: 'Install the OpenSSH client where Switchboard runs (apt install openssh-client).',
      });
    }
    if (config.type !== 'ssh' && config.type !== 'local') throw new SwitchboardError('usage', `${where}: offload needs an ssh or local executor`);
    // A few inspection scripts: one exec channel each, no long-lived command channel to keep.
    const transport = openHost(config, {
      clock: deps.clock,
      logger: deps.logger,
      runtimeEnv: deps.runtimeEnv,
      homeDir,
      readIdentity: deps.readIdentity ?? ((p) => readFileSync(p)),
      commandChannel: false,
      ...(deps.connectSsh ? { connectSsh: deps.connectSsh } : {}),
    });
    const connection: Connection = {
      where,
      transport,
      remote: config.type === 'ssh',
      shell: null,
      prefix: '',
      async ready() {
        if (connection.shell) return;
        connection.shell = await transport.rsyncShell({ sshPath, ...(deps.tmpDir ? { tmpRoot: deps.tmpDir } : {}) });
        connection.prefix = connection.shell?.remotePrefix ?? '';
      },
      async close() {
        await Promise.all([transport.close().catch(() => undefined), connection.shell?.cleanup().catch(() => undefined)]);
      },
    };
    return connection;
  }

  function rsyncEnv(connection: Connection): Record<string, string> {
    return {
      PATH: deps.runtimeEnv['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: homeDir,
      LANG: 'C',
      LC_ALL: 'C',
      ...(connection.shell?.env ?? {}),
    };
  }

  function baseArgs(connection: Connection, remoteRsync: string | null): string[] {
    const args = ['-a', '-s', '--no-owner', '--no-group', '--info=progress2,stats2', '--no-inc-recursive', '--outbuf=N', `--timeout=${deps.ioTimeoutSec ?? 300}`];
    if (connection.shell) {
      if (deps.compress ?? true) args.push('-z');
      args.push('-e', connection.shell.rsh);
      if (remoteRsync) args.push(`--rsync-path=${remoteRsync}`);
    }
    return args;
  }

  function throttled(name: string, phase: OffloadProgress['phase'], direction: OffloadProgress['direction'], sink?: (p: OffloadProgress) => void) {
    let last = -Infinity;
    let pending: OffloadProgress | null = null;
    return {
      onProgress(progress: RsyncProgress) {
        if (!sink) return;
        const event: OffloadProgress = { ...progress, name, phase, direction };
        const now = deps.clock.now();
        if (now - last >= progressEvery) {
          last = now;
          pending = null;
          sink(event);
        } else pending = event;
      },
      flush() {
        if (sink && pending) sink(pending);
        pending = null;
      },
    };
  }

  function resolveLocal(workspace: string | undefined): string {
    const given = workspace === undefined ? deps.cwd : expandHome(workspace, homeDir);
    // Relative to this machine's home, as a relative --workspace of `run local` is: never to wherever the bot
    // was started.
    const absolute = isAbsolute(given) ? given : resolve(homeDir, given);
    let stats;
    try {
      stats = statSync(absolute);
    } catch {
      throw new SwitchboardError('workspace_missing', `the workspace ${absolute} does not exist on this machine`, { hint: 'Give an existing directory with --workspace.' });
    }
    if (!stats.isDirectory()) throw new SwitchboardError('workspace_missing', `${absolute} is not a directory`, { hint: 'Give a directory with --workspace.' });
    return realpathSync(absolute);
  }

  function pickEnv(names: readonly string[] | undefined): Record<string, string> {
    const picked: Record<string, string> = {};
    for (const name of names ?? []) {
      if (!ENV_KEY.test(name)) throw new SwitchboardError('usage', `--env takes variable names; '${name.slice(0, 40)}' is not one`);
      const value = deps.runtimeEnv[name];
      if (value === undefined) {
        throw new SwitchboardError('usage', `--env ${name}: Switchboard's environment has no ${name}`, {
          hint: 'Only variables set where Switchboard runs can be passed; or set it in the executor’s env in switchboard.yaml.',
        });
      }
      picked[name] = value;
    }
    return picked;
  }

  function checkName(name: string): void {
    if (!NAME.test(name)) {
      throw new SwitchboardError('invalid_name', `'${name.slice(0, 40)}' is not a valid name`, { hint: 'Names are lowercase letters, digits and -, at most 32.' });
    }
    const task = deps.fleet.get(name);
    if (task) throw new SwitchboardError('name_taken', `a task named '${name}' already exists (${task.status} on ${task.executor})`, { hint: 'Pick another name.' });
    const record = store.get(name);
    if (record && (record.state === 'started' || record.state === 'back')) {
      throw new SwitchboardError('name_taken', `'${name}' already names an offload to ${record.executor}`, { hint: 'Pick another name.' });
    }
  }

  /** Refuses a target that holds something offload did not put there, or where another task is working. */
  function checkTarget(executor: string, where: string, name: string, localPath: string, inspection: RemoteInspection): void {
    const path = inspection.physical ?? inspection.target;
    const records = store.atTarget(executor, path).filter((r) => r.name !== name);
    for (const record of records) {
      const task = deps.fleet.get(record.name);
      if (task && !isFinal(task.status)) {
        throw new SwitchboardError('target_exists', `${path} on ${where} is where task ${record.name} is ${task.status}`, {
          hint: `Wait for ${record.name} (or kill it), or offload to another directory with --to.`,
        });
      }
      if (record.state === 'started') {
        throw new SwitchboardError('target_exists', `${path} on ${where} holds the work of ${record.name}, which has not come back yet; a new copy would overwrite it`, {
          hint: `offload --back ${record.name} first, or offload to another directory with --to.`,
        });
      }
    }
    if (inspection.state === 'notdir') {
      throw new SwitchboardError('target_exists', `${path} on ${where} exists and is not a directory`, { hint: 'Choose another place with --to.' });
    }
    if (inspection.state === 'nonempty') {
      const ours = [...records, store.get(name)].some((r) => r && r.executor === executor && r.remotePath === path && r.localPath === localPath);
      if (!ours) {
        throw new SwitchboardError('target_exists', `${path} on ${where} already exists and is not empty; offload only writes into a directory it made for this workspace`, {
          hint: 'Choose an empty or new directory with --to.',
        });
      }
    }
  }

  /**
   * When the receiving rsync dies, its own message ("No space left on device") can be lost with the connection.
   * A generic failure is then checked against the space left there: too little for what was being sent is a full disk.
   */
  async function explainPushFailure(
    connection: Connection,
    config: ExecutorConfig,
    inspection: RemoteInspection,
    remotePath: string,
    last: RsyncProgress | null,
    error: unknown,
  ): Promise<unknown> {
    const e = toSwitchboardError(error);
    if (e.code !== 'sync_failed') return e;
    const now = await inspectRemote(connection.transport, connection.where, {
      rsync: deps.remoteRsyncPath ?? 'rsync',
      target: remotePath,
      claudeConfigDir: config.env['CLAUDE_CONFIG_DIR'],
      taskHome: config.env['HOME'],
    }).catch(() => inspection);
    if (now.freeKb === null) return e;
    const estimated = last && last.percent > 0 ? Math.round((last.bytes * 100) / last.percent) : 0;
    const freeBytes = now.freeKb * 1024;
    if (freeBytes >= 1024 * 1024 && freeBytes >= estimated - (last?.bytes ?? 0)) return e;
    return new SwitchboardError(
      'disk_full',
      `${connection.where} has too little disk space for the workspace: ${Math.round(now.freeKb)} KB free at ${remotePath}` +
        (estimated ? `, about ${Math.ceil(estimated / 1024)} KB to copy` : '') +
        ` (rsync: ${e.message})`,
      { cause: e, hint: 'Free some space on that host, or offload to another directory (--to) or executor.' },
    );
  }

  async function offload(spec: OffloadSpec): Promise<OffloadResult> {
    const started = deps.clock.now();
    const config = executorNamed(spec.executor);
    checkName(spec.name);
    const localPath = resolveLocal(spec.workspace);
    const env = pickEnv(spec.env);
    const prompt = spec.prompt?.trim() ? spec.prompt : undefined;
    const configDir = deps.claudeConfigDir ?? claudeConfigDirOf(deps.runtimeEnv, homeDir);
    const session: LocalSession | null = findLocalSession(configDir, localPath, spec.sessionId);
    if (!session && spec.sessionId) {
      throw new SwitchboardError('no_session', `no Claude session ${spec.sessionId} for ${localPath} on this machine (looked in ${join(configDir, 'projects', encodeProjectPath(localPath))})`);
    }
    if (!session && !prompt) {
      throw new SwitchboardError('no_session', `there is no Claude session for ${localPath} on this machine (looked in ${join(configDir, 'projects', encodeProjectPath(localPath))}), so there is nothing to continue`, {
        hint: `Give a prompt to start a fresh conversation there: offload ${spec.executor} ${spec.name} --workspace ${localPath} <prompt…>`,
      });
    }
    const { rsync, ssh } = tools();
    const excludes = [...(spec.excludes ?? [])];
    const includeEnv = spec.includeEnv === true;

    const connection = await connect(config, ssh);
    try {
      const target = resolveWorkspace(config, spec.to || basename(localPath))!;
      const inspection = await inspectRemote(connection.transport, connection.where, {
        rsync: deps.remoteRsyncPath ?? 'rsync',
        target,
        claudeConfigDir: config.env['CLAUDE_CONFIG_DIR'],
        taskHome: config.env['HOME'],
      });
      if (connection.remote && !inspection.rsync) {
        throw new SwitchboardError('missing_tool', `rsync not found on ${connection.where} (looked for '${deps.remoteRsyncPath ?? 'rsync'}')`, {
          hint: 'Install rsync on that host (apt install rsync); offload needs it on both sides.',
        });
      }
      checkTarget(config.name, connection.where, spec.name, localPath, inspection);
      await connection.ready();
      const made = await makeRemoteDir(connection.transport, connection.where, inspection.target);
      const remotePath = made.physical;
      // What to take back if this offload fails before its task starts: only what it made or filled, never a
      // directory that was there (a target that held an earlier copy of this workspace stays as it is).
      const undo: UndoStep[] = made.created ? [{ dir: made.created, how: 'remove' }] : inspection.state === 'empty' ? [{ dir: remotePath, how: 'empty' }] : [];
      store.put({
        name: spec.name,
        executor: config.name,
        localPath,
        remotePath,
        sessionId: session?.id ?? null,
        includeEnv,
        excludes,
        state: 'syncing',
        actor: spec.actor,
        channel: spec.channel,
        createdAt: deps.clock.now(),
      });
      deps.logger.info('offload: syncing the workspace', { name: spec.name, executor: config.name, from: localPath, to: remotePath, freeKb: inspection.freeKb });

      try {
        const progress = throttled(spec.name, 'workspace', 'push', spec.onProgress);
        let lastProgress: RsyncProgress | null = null;
        const workspace = await runRsync({
          rsyncPath: rsync,
          args: [...baseArgs(connection, inspection.rsync), '--delete', ...excludeArgs({ includeEnv, extra: excludes }), `${localPath}/`, `${connection.prefix}${remotePath}/`],
          env: rsyncEnv(connection),
          sides: { remote: connection.where, direction: 'push', what: `the workspace ${localPath}` },
          onProgress: (p) => {
            lastProgress = p;
            progress.onProgress(p);
          },
          ...(spec.signal ? { signal: spec.signal } : {}),
          now: deps.clock.now,
        }).catch(async (error: unknown) => {
          throw await explainPushFailure(connection, config, inspection, remotePath, lastProgress, error);
        });
        progress.flush();
        store.update(spec.name, { syncedAt: deps.clock.now(), lastSync: workspace });

        if (session) {
          const remoteProject = `${inspection.claudeConfig}/projects/${encodeProjectPath(remotePath)}`;
          const project = await makeRemoteDir(connection.transport, connection.where, remoteProject, true);
          if (project.created) undo.push({ dir: project.created, how: 'remove' });
          const sessionProgress = throttled(spec.name, 'session', 'push', spec.onProgress);
          await runRsync({
            rsyncPath: rsync,
            args: [
              ...baseArgs(connection, inspection.rsync),
              '--chmod=Du=rwx,Dgo=,Fu=rw,Fgo=',
              // The newer transcript wins: a conversation that went further on one side is never rolled back.
              '--update',
              ...sessionFilter(session.id),
              `${session.projectDir}/`,
              `${connection.prefix}${remoteProject}/`,
            ],
            env: rsyncEnv(connection),
            sides: { remote: connection.where, direction: 'push', what: `the Claude session ${session.id}` },
            onProgress: sessionProgress.onProgress,
            ...(spec.signal ? { signal: spec.signal } : {}),
            now: deps.clock.now,
          });
          sessionProgress.flush();
        }

        const text = session ? movedPreamble(localPath, remotePath, config.name) + (prompt ?? CONTINUE_PROMPT) : prompt!;
        const workspaceThere = spec.workIn ? await spec.workIn(remotePath) : remotePath;
        const task = await deps.fleet.start({
          name: spec.name,
          executor: config.name,
          kind: 'claude',
          text,
          workspace: workspaceThere,
          ...(session ? { resumeSessionId: session.id } : {}),
          ...(Object.keys(env).length ? { env } : {}),
          ...(spec.model ? { model: spec.model } : {}),
          ...(spec.maxTurns !== undefined ? { maxTurns: spec.maxTurns } : {}),
          actor: spec.actor,
          channel: spec.channel,
        });
        undo.length = 0; // the task works in there now
        store.update(spec.name, { state: 'started', error: null, ...(session ? {} : { sessionId: task.sessionId }) });
        deps.logger.info('offload: task started', { name: spec.name, executor: config.name, session: session?.id ?? null, files: workspace.files, bytes: workspace.transferredSize });
        return {
          task,
          executor: config.name,
          where: connection.where,
          localPath,
          remotePath,
          session: session ? { id: session.id, bytes: session.size } : null,
          workspace,
          envSent: Object.keys(env),
          durationMs: deps.clock.now() - started,
        };
      } catch (error) {
        const e = toSwitchboardError(error);
        store.update(spec.name, { state: 'failed', error: e.message });
        const leftovers = await undoRemote(connection.transport, undo);
        if (leftovers.length) deps.logger.warn('offload: could not remove what the failed offload made', { name: spec.name, executor: config.name, leftovers });
        throw e;
      }
    } finally {
      await connection.close();
    }
  }

  async function back(name: string, options: { force?: boolean; onProgress?: (progress: OffloadProgress) => void; signal?: AbortSignal } = {}): Promise<BackResult> {
    const started = deps.clock.now();
    const record = store.get(name);
    if (!record) {
      const known = store.list().map((r) => r.name);
      throw new SwitchboardError('unknown_name', `no offload named '${name}'`, { hint: known.length ? `offloads: ${known.join(', ')}` : 'Nothing has been offloaded yet.' });
    }
    if (record.state === 'syncing' || record.state === 'failed') {
      throw new SwitchboardError('usage', `the offload ${name} never finished (${record.error ?? record.state}), so there is nothing to bring back`, {
        hint: `Run offload ${record.executor} ${name} again to finish it.`,
      });
    }
    const task = deps.fleet.get(name);
    if (task && !isFinal(task.status) && !options.force) {
      throw new SwitchboardError('task_busy', `${name} is still ${task.status} on ${record.executor}; its workspace is changing`, {
        hint: `Wait until it finishes (or kill ${name}), then offload --back ${name}; --force copies it as it is now.`,
      });
    }
    const config = executorNamed(record.executor);
    const { rsync, ssh } = tools();
    mkdirSync(record.localPath, { recursive: true });
    const stamp = new Date(deps.clock.now()).toISOString().replace(/[:.]/g, '-');
    const backupDir = join(deps.backupDir, `${name}-${stamp}`);

    const connection = await connect(config, ssh);
    try {
      const inspection = await inspectRemote(connection.transport, connection.where, {
        rsync: deps.remoteRsyncPath ?? 'rsync',
        target: record.remotePath,
        claudeConfigDir: config.env['CLAUDE_CONFIG_DIR'],
        taskHome: config.env['HOME'],
      });
      if (connection.remote && !inspection.rsync) {
        throw new SwitchboardError('missing_tool', `rsync not found on ${connection.where}`, { hint: 'Install rsync on that host (apt install rsync).' });
      }
      await connection.ready();
      if (inspection.state !== 'nonempty' && inspection.state !== 'empty') {
        throw new SwitchboardError('workspace_missing', `${record.remotePath} no longer exists on ${connection.where}`, { hint: `forget ${name} if the work there is gone.` });
      }
      const progress = throttled(name, 'workspace', 'pull', options.onProgress);
      const workspace = await runRsync({
        rsyncPath: rsync,
        args: [
          ...baseArgs(connection, inspection.rsync),
          '--delete',
          '--backup',
          `--backup-dir=${join(backupDir, 'workspace')}`,
          ...excludeArgs({ includeEnv: record.includeEnv, extra: record.excludes }),
          `${connection.prefix}${record.remotePath}/`,
          `${record.localPath}/`,
        ],
        env: rsyncEnv(connection),
        sides: { remote: connection.where, direction: 'pull', what: `the workspace ${record.remotePath}` },
        onProgress: progress.onProgress,
        ...(options.signal ? { signal: options.signal } : {}),
        now: deps.clock.now,
      });
      progress.flush();

      let sessionCopied = false;
      const sessionId = task?.sessionId ?? record.sessionId;
      if (sessionId) {
        const remoteProject = `${inspection.claudeConfig}/projects/${encodeProjectPath(record.remotePath)}`;
        const configDir = deps.claudeConfigDir ?? claudeConfigDirOf(deps.runtimeEnv, homeDir);
        const localProject = join(configDir, 'projects', encodeProjectPath(record.localPath));
        mkdirSync(localProject, { recursive: true, mode: 0o700 });
        const sessionStats = await runRsync({
          rsyncPath: rsync,
          args: [
            ...baseArgs(connection, inspection.rsync),
            '--chmod=Du=rwx,Dgo=,Fu=rw,Fgo=',
            '--update',
            '--backup',
            `--backup-dir=${join(backupDir, 'claude-session')}`,
            ...sessionFilter(sessionId),
            `${connection.prefix}${remoteProject}/`,
            `${localProject}/`,
          ],
          env: rsyncEnv(connection),
          sides: { remote: connection.where, direction: 'pull', what: `the Claude session ${sessionId}` },
          now: deps.clock.now,
        }).catch((error: unknown) => {
          // The workspace is home; a missing session (the task never started claude) is not a failure of that.
          deps.logger.warn('offload --back: the session did not come back', { name, error: String(error) });
          return null;
        });
        sessionCopied = sessionStats !== null && existsSync(join(localProject, `${sessionId}.jsonl`));
      }
      store.update(name, { state: 'back', backAt: deps.clock.now(), lastSync: workspace });
      deps.logger.info('offload: workspace back', { name, executor: config.name, files: workspace.transferred, deleted: workspace.deleted });
      return {
        name,
        executor: config.name,
        localPath: record.localPath,
        remotePath: record.remotePath,
        workspace,
        sessionCopied,
        backupDir: existsSync(backupDir) ? backupDir : null,
        durationMs: deps.clock.now() - started,
      };
    } finally {
      await connection.close();
    }
  }

  return {
    offload,
    back,
    get: (name) => store.get(name),
    list: () => store.list(),
    forget: (name) => store.delete(name),
  };
}

/** Only this session's transcript and its folder, from a projects folder that may hold many. */
function sessionFilter(sessionId: string): string[] {
  return [`--include=/${sessionId}.jsonl`, `--include=/${sessionId}/***`, '--exclude=*'];
}

/** Before the prompt of a moved conversation: where its files are now (earlier turns name the old paths). */
export function movedPreamble(localPath: string, remotePath: string, executor: string): string {
  if (localPath === remotePath) return `[Switchboard] This conversation moved to executor '${executor}'; the workspace is at the same path.\n\n`;
  return (
    `[Switchboard] This conversation moved to executor '${executor}': the workspace that was at ${localPath} is now at ` +
    `${remotePath}. Paths from earlier turns refer to the old location.\n\n`
  );
}
