import { readFileSync } from 'node:fs';
import { SwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { ExecutorConfig, LocalExecutorConfig, SshExecutorConfig } from '../executors/config.js';
import { describeExecutor, sshTargetFor } from '../executors/executor.js';
import { createLocalTransport } from '../executors/transport/local.js';
import { createSshTransport, type SshTarget } from '../executors/transport/ssh.js';
import type { Transport } from '../executors/transport/transport.js';
import type { Tunnel } from './tunnel.js';
import type { ManagedServer } from './types.js';

/** What this process knows of the server on one executor. */
export interface Live {
  server: ManagedServer | null;
  tunnel: Tunnel | null;
  unreachable: boolean;
  /** When it was restarted lately, for the restart budget. */
  restartTimes: number[];
}

/** An executor that hosts a managed server: its config, the transport its scripts run over, and its live state. */
export interface Host {
  config: SshExecutorConfig | LocalExecutorConfig;
  where: string;
  transport: Transport;
  /** Null for a local executor (no tunnel). */
  target: SshTarget | null;
  live: Live;
  tail: Promise<unknown>;
}

export interface HostRegistryDeps {
  executors: readonly ExecutorConfig[];
  clock: Clock;
  logger: Logger;
  runtimeEnv: Readonly<Record<string, string | undefined>>;
  homeDir?: string;
  readIdentity?: (path: string) => Buffer;
  /** Tests: the transport for an ssh executor's scripts. */
  connectSsh?: (target: SshTarget) => Transport;
}

export type HostRegistry = ReturnType<typeof createHostRegistry>;

/** One Host per executor, made on first use and kept until clear(). */
export function createHostRegistry(deps: HostRegistryDeps) {
  const homeDir = deps.homeDir ?? deps.runtimeEnv['HOME'] ?? '/';
  const hosts = new Map<string, Host>();

  const configured = (executor: string): ExecutorConfig | undefined => deps.executors.find((e) => e.name === executor);

  function configOf(executor: string): SshExecutorConfig | LocalExecutorConfig {
    const config = configured(executor);
    if (!config) {
      const hostable = deps.executors.filter((e) => e.type !== 'container').map((e) => e.name);
      throw new SwitchboardError('unknown_executor', `no executor named '${executor}'`, {
        hint: hostable.length ? `executors that can run an OpenCode server: ${hostable.map((n) => `@${n}`).join(', ')}` : 'add an ssh executor under executors: in switchboard.yaml',
      });
    }
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
      let transport: Transport;
      let target: SshTarget | null = null;
      if (config.type === 'local') transport = createLocalTransport({ env: deps.runtimeEnv });
      else {
        target = sshTargetFor(config, { runtimeEnv: deps.runtimeEnv, homeDir, readIdentity: deps.readIdentity ?? ((p) => readFileSync(p)) });
        transport = deps.connectSsh ? deps.connectSsh(target) : createSshTransport(target, { clock: deps.clock, logger: deps.logger });
      }
      const host: Host = {
        config,
        where: describeExecutor(config),
        transport,
        target,
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
