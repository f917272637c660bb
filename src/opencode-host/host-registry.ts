import { readFileSync } from 'node:fs';
import type { Client } from 'ssh2';
import { SwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import {
  describeExecutor,
  executorNamed,
  homeDirOf,
  openHost,
  type ExecutorConfig,
  type Host as ExecutorHost,
  type LocalExecutorConfig,
  type PortForward,
  type SshExecutorConfig,
  type SshTarget,
  type Transport,
} from '../executors/index.js';
import { strictConnectionGuard, type ConnectionGuard } from '../opencode/connection-guard.js';
import type { ManagedServer } from './types.js';

/** What this process knows of the server on one executor. */
export interface Live {
  server: ManagedServer | null;
  /** The local end that reaches the server's port (carried over SSH, or the port itself on a local executor). */
  tunnel: PortForward | null;
  unreachable: boolean;
  /** When it was restarted lately, for the restart budget. */
  restartTimes: number[];
}

/** An executor that hosts a managed server: its config, the host-layer Host its scripts and tunnel use, and its live state. */
export interface Host {
  config: SshExecutorConfig | LocalExecutorConfig;
  where: string;
  transport: ExecutorHost;
  live: Live;
  tail: Promise<unknown>;
}

/** How the host of a managed server is reached: the host layer's seams, and the guard every SSH (re)connect passes. */
export interface ServerHostDeps {
  clock: Clock;
  logger: Logger;
  runtimeEnv: Readonly<Record<string, string | undefined>>;
  homeDir?: string;
  readIdentity?: (path: string) => Buffer;
  /** Tests: the transport for an ssh executor's scripts (it carries no tunnel). */
  connectSsh?: (target: SshTarget) => Transport;
  /** Tests: the ssh2 client. */
  createSshClient?: () => Client;
  /**
   * Checks the host's addresses on every SSH (re)connect: the connection carries an OpenCode server's API, so a
   * host name that rebinds to a metadata address is refused as the REST client would refuse it.
   */
  connectionGuard?: ConnectionGuard;
}

/**
 * Opens the executor's host through the host layer: one SSH connection for the server's scripts, files and
 * tunnel, kept alive every 10 s and reconnected with backoff (0.5 s doubling to 15 s) so a tunnel recovers soon
 * after its host comes back.
 */
export function openServerHost(config: SshExecutorConfig | LocalExecutorConfig, deps: ServerHostDeps): ExecutorHost {
  const guard = deps.connectionGuard ?? strictConnectionGuard;
  return openHost(config, {
    clock: deps.clock,
    logger: deps.logger,
    runtimeEnv: deps.runtimeEnv,
    homeDir: homeDirOf(deps),
    readIdentity: deps.readIdentity ?? ((path) => readFileSync(path)),
    ...(deps.connectSsh ? { connectSsh: deps.connectSsh } : {}),
    ...(deps.createSshClient ? { createClient: deps.createSshClient } : {}),
    resolveAddresses: (host) => guard.addresses(host),
    keepaliveIntervalMs: 10_000,
    reconnectBaseMs: 500,
    reconnectMaxMs: 15_000,
  });
}

export interface HostRegistryDeps extends ServerHostDeps {
  executors: readonly ExecutorConfig[];
}

export type HostRegistry = ReturnType<typeof createHostRegistry>;

/** One Host per executor, made on first use and kept until clear(). */
export function createHostRegistry(deps: HostRegistryDeps) {
  const hosts = new Map<string, Host>();

  const configured = (executor: string): ExecutorConfig | undefined => deps.executors.find((e) => e.name === executor);

  function configOf(executor: string): SshExecutorConfig | LocalExecutorConfig {
    const hostable = deps.executors.filter((e) => e.type !== 'container').map((e) => `@${e.name}`);
    const config = executorNamed(
      deps.executors,
      executor,
      hostable.length ? `executors that can run an OpenCode server: ${hostable.join(', ')}` : 'add an ssh executor under executors: in switchboard.yaml',
    );
    if (config.type === 'container') {
      throw new SwitchboardError('usage', `${describeExecutor(config)} cannot run an OpenCode server for Switchboard; use an ssh or local executor`);
    }
    return config;
  }

  return {
    configured,
    /** Whether this executor can host a server (an ssh or local executor). */
    canHost(executor: string): boolean {
      const config = configured(executor);
      return config !== undefined && config.type !== 'container';
    },
    /** The executor's Host, made on first use; throws for an executor that is unknown or cannot host a server. */
    get(executor: string): Host {
      const existing = hosts.get(executor);
      if (existing) return existing;
      const config = configOf(executor);
      const host: Host = {
        config,
        where: describeExecutor(config),
        transport: openServerHost(config, deps),
        live: { server: null, tunnel: null, unreachable: false, restartTimes: [] },
        tail: Promise.resolve(),
      };
      hosts.set(executor, host);
      return host;
    },
    /** The Host if it was made already. */
    known(executor: string): Host | undefined {
      return hosts.get(executor);
    },
    all(): Host[] {
      return [...hosts.values()];
    },
    clear(): void {
      hosts.clear();
    },
  };
}

/** Everything on one executor happens in order: a start, a probe and a stop never interleave. */
export function exclusive<T>(host: Host, fn: () => Promise<T>): Promise<T> {
  const run = host.tail.then(fn, fn);
  host.tail = run.catch(() => undefined);
  return run;
}
