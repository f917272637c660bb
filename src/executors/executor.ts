import { SwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { expandHome, type ExecutorConfig, type SshExecutorConfig } from './config.js';
import { createContainerRuntime } from './runtime/container-runtime.js';
import type { TaskRuntime } from './runtime/runtime.js';
import { createTmuxRuntime } from './runtime/tmux-runtime.js';
import { createLocalTransport } from './transport/local.js';
import { createSshTransport, type SshTarget } from './transport/ssh.js';
import type { Transport } from './transport/transport.js';

/**
 * One configured executor, ready to use: its runtime (tmux over a transport, or a container runtime), a lock
 * that serialises what the fleet does on it, and what was last learned about its reachability.
 */
export interface ExecutorHandle {
  readonly config: ExecutorConfig;
  readonly name: string;
  readonly where: string;
  readonly runtime: TaskRuntime;
  /** Runs fn after everything queued before it on this executor (probe, launch, kill never interleave). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** null until first contact. */
  reachable: boolean | null;
  lastError: SwitchboardError | null;
}

export interface ExecutorDeps {
  clock: Clock;
  logger: Logger;
  runtimeEnv: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  /** Reads an ssh identity file (default: fs.readFileSync). */
  readIdentity: (path: string) => Buffer;
  /** Makes the transport for an ssh target (tests can wrap or replace it). */
  connectSsh?: (target: SshTarget) => Transport;
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

/** Builds every executor's handle; ssh executors reaching the same account share one connection. */
export function createExecutorHandles(configs: readonly ExecutorConfig[], deps: ExecutorDeps): ExecutorHandle[] {
  let local: Transport | undefined;
  const localTransport = () => (local ??= createLocalTransport({ env: deps.runtimeEnv }));
  const sshPool = new Map<string, Transport>();

  return configs.map((config) => {
    const where = describeExecutor(config);
    let runtime: TaskRuntime;
    if (config.type === 'container') {
      runtime = createContainerRuntime({ where, config, transport: localTransport() });
    } else {
      let transport: Transport;
      if (config.type === 'local') transport = localTransport();
      else {
        // Shared only when everything about the connection is the same (credentials and host-key policy too).
        const key = JSON.stringify([config.user, config.host, config.port, config.identityFile, config.agent, config.hostKey, config.insecureAcceptNewHostKey, config.connectTimeoutSec]);
        transport = sshPool.get(key) ?? sshTransportFor(config, where, deps);
        sshPool.set(key, transport);
      }
      runtime = createTmuxRuntime({ where, transport, tmuxPath: config.tmuxPath, tmuxSocket: config.tmuxSocket });
    }
    let tail: Promise<unknown> = Promise.resolve();
    return {
      config,
      name: config.name,
      where,
      runtime,
      reachable: null,
      lastError: null,
      exclusive<T>(fn: () => Promise<T>): Promise<T> {
        const run = tail.then(fn, fn);
        tail = run.catch(() => undefined);
        return run;
      },
    };
  });
}

function sshTransportFor(config: SshExecutorConfig, where: string, deps: ExecutorDeps): Transport {
  let target: SshTarget;
  try {
    target = sshTargetFor(config, deps);
  } catch (error) {
    // Reported on every use, with the executor named, instead of failing the whole start-up.
    return brokenTransport(where, error as SwitchboardError);
  }
  return deps.connectSsh ? deps.connectSsh(target) : createSshTransport(target, { clock: deps.clock, logger: deps.logger });
}

/**
 * How to reach an ssh executor (host, port, user, key bytes, agent socket, host-key policy), from its config.
 * Throws config_invalid, naming the executor, when its credentials cannot be used (an unreadable key file).
 */
export function sshTargetFor(
  config: SshExecutorConfig,
  deps: Pick<ExecutorDeps, 'runtimeEnv' | 'homeDir' | 'readIdentity'>,
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

function brokenTransport(where: string, error: SwitchboardError): Transport {
  const fail = () => Promise.reject(error);
  return { where, exec: fail, writeFile: fail, readFile: fail, close: async () => {} };
}
