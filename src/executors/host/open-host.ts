import { SwitchboardError } from '../../errors.js';
import { expandHome, type ExecutorConfig, type SshExecutorConfig } from '../config.js';
import type { Transport } from '../transport/transport.js';
import type { Host } from './host.js';
import type { SshTarget } from './host-key.js';
import { createLocalHost } from './local-host.js';
import { createSshHost, type SshHostDeps } from './ssh-host.js';

export interface OpenHostDeps extends SshHostDeps {
  /** The bot's environment: scripts on this machine get its basics; SSH_AUTH_SOCK for `agent: true`. */
  runtimeEnv: Readonly<Record<string, string | undefined>>;
  /** For `~` in identityFile and agent (default: homeDirOf). */
  homeDir?: string;
  /** Reads an ssh identity file. */
  readIdentity: (path: string) => Buffer;
  /** Tests: what carries an ssh executor's scripts and files instead of a real connection. */
  connectSsh?: (target: SshTarget) => Transport;
}

/**
 * The one way to reach an executor's machine: an SSH host for an ssh executor, this machine for local and
 * container executors (the container engine runs here). Throws config_invalid, naming the executor, when its
 * credentials cannot be used (an unreadable key file).
 */
export function openHost(config: ExecutorConfig, deps: OpenHostDeps): Host {
  if (config.type !== 'ssh') return createLocalHost({ env: deps.runtimeEnv });
  const target = sshTargetFor(config, { ...deps, homeDir: homeDirOf(deps) });
  return deps.connectSsh ? hostOverTransport(deps.connectSsh(target), describeExecutor(config)) : createSshHost(target, deps);
}

/** Where `~` points on this machine: the configured home, else $HOME of the bot's environment. */
export function homeDirOf(deps: { homeDir?: string | undefined; runtimeEnv: Readonly<Record<string, string | undefined>> }): string {
  return deps.homeDir ?? deps.runtimeEnv['HOME'] ?? '/';
}

/** The executor of that name; an unknown name is an error that lists the known ones. */
export function executorNamed(executors: readonly ExecutorConfig[], name: string, hint = 'executors lists them; add one under executors: in switchboard.yaml.'): ExecutorConfig {
  const found = executors.find((e) => e.name === name);
  if (found) return found;
  const known = executors.map((e) => e.name).join(', ') || 'none configured';
  throw new SwitchboardError('unknown_executor', `no executor named '${name}' (known: ${known})`, { hint });
}

export function describeExecutor(config: ExecutorConfig): string {
  switch (config.type) {
    case 'local':
      return `local executor '${config.name}'`;
    case 'ssh':
      return `ssh executor '${config.name}' (${config.user}@${config.host}:${config.port})`;
    case 'container':
      return `container executor '${config.name}' (${config.runtime} ${config.image})`;
  }
}

/**
 * How to reach an ssh executor (host, port, user, key bytes, agent socket, host-key policy), from its config.
 * Throws config_invalid, naming the executor, when its credentials cannot be used (an unreadable key file).
 */
export function sshTargetFor(
  config: SshExecutorConfig,
  deps: { runtimeEnv: Readonly<Record<string, string | undefined>>; homeDir: string; readIdentity: (path: string) => Buffer },
): SshTarget {
  const target: SshTarget = {
    executor: config.name,
    host: config.host,
    port: config.port,
    user: config.user,
    hostKey: config.hostKey,
    insecureAcceptNewHostKey: config.insecureAcceptNewHostKey,
    connectTimeoutMs: config.connectTimeoutSec * 1000,
  };
  try {
    if (config.identityFile) {
      target.identityFile = expandHome(config.identityFile, deps.homeDir);
      target.privateKey = deps.readIdentity(target.identityFile);
    }
    if (config.agent === true) {
      const socket = deps.runtimeEnv['SSH_AUTH_SOCK'];
      if (!socket && !target.privateKey) throw new Error('agent: true but SSH_AUTH_SOCK is not set');
      if (socket) target.agentSocket = socket;
    } else if (typeof config.agent === 'string') {
      target.agentSocket = expandHome(config.agent, deps.homeDir);
    }
  } catch (error) {
    throw new SwitchboardError('config_invalid', `${describeExecutor(config)}: cannot use its credentials: ${(error as Error).message}`, { cause: error });
  }
  return target;
}

/** A host whose scripts and files go through a test's transport; it has no port forwards or rsync shell. */
function hostOverTransport(transport: Transport, where: string): Host {
  const none = () => Promise.reject(new SwitchboardError('executor_unreachable', `${where}: this test transport carries no port forwards or rsync`));
  return { ...transport, exec: transport.exec.bind(transport), writeFile: transport.writeFile.bind(transport), readFile: transport.readFile.bind(transport), close: transport.close.bind(transport), fileTransfers: { sftp: 0, exec: 0 }, forward: none, rsyncShell: none };
}

/** A host that fails every use with the same error (credentials that cannot be used), so one bad executor does not stop start-up. */
export function brokenHost(where: string, error: SwitchboardError): Host {
  const fail = () => Promise.reject(error);
  return { where, exec: fail, writeFile: fail, readFile: fail, forward: fail, rsyncShell: fail, fileTransfers: { sftp: 0, exec: 0 }, close: async () => {} };
}
