import { SwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { ExecutorConfig, SshExecutorConfig } from './config.js';
import type { Host } from './host/host.js';
import type { SshTarget } from './host/host-key.js';
import { brokenHost, createLocalHost, describeExecutor, openHost } from './host/index.js';
import { createContainerRuntime } from './runtime/container-runtime.js';
import type { TaskRuntime } from './runtime/runtime.js';
import { createTmuxRuntime } from './runtime/tmux-runtime.js';
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
  /** The machine its tasks run on, as the host layer opened it (this machine for a container executor). */
  readonly host: Host;
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

/** Builds every executor's handle; ssh executors reaching the same account share one connection. */
export function createExecutorHandles(configs: readonly ExecutorConfig[], deps: ExecutorDeps): ExecutorHandle[] {
  let local: Host | undefined;
  const localTransport = () => (local ??= createLocalHost({ env: deps.runtimeEnv }));
  const sshPool = new Map<string, Host>();

  return configs.map((config) => {
    const where = describeExecutor(config);
    let runtime: TaskRuntime;
    let transport: Host;
    if (config.type === 'container') {
      transport = localTransport();
      runtime = createContainerRuntime({ where, config, transport });
    } else {
      if (config.type === 'local') transport = localTransport();
      else {
        // Shared only when everything about the connection is the same (credentials and host-key policy too).
        const key = JSON.stringify([config.user, config.host, config.port, config.identityFile, config.agent, config.hostKey, config.insecureAcceptNewHostKey, config.connectTimeoutSec]);
        transport = sshPool.get(key) ?? sshHostFor(config, where, deps);
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
      host: transport,
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

function sshHostFor(config: SshExecutorConfig, where: string, deps: ExecutorDeps): Host {
  try {
    return openHost(config, deps);
  } catch (error) {
    // Reported on every use, with the executor named, instead of failing the whole start-up.
    return brokenHost(where, error as SwitchboardError);
  }
}
