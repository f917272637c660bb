import type { Client } from 'ssh2';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { createSshConnection, openPortForward, type PortForward, type SshTarget } from '../executors/index.js';
import { strictConnectionGuard, type ConnectionGuard } from '../opencode/connection-guard.js';

/**
 * A local port carried over SSH to a managed OpenCode server's port on the executor's loopback: the host layer's
 * port forward (executors/host/port-forward.ts) on its own SSH connection, whose every (re)connect checks the
 * host's address with the REST client's guard. Kept for the code that opens tunnels this way; with `openHost`,
 * `host.forward(port)` does the same on the host's shared connection.
 */
export type Tunnel = PortForward;

export interface TunnelOptions {
  target: SshTarget;
  /** `ssh executor 'box' (me@host:22)`, for messages. */
  label: string;
  remotePort: number;
  clock: Clock;
  logger: Logger;
  createClient?: () => Client;
  /**
   * Checks the host's address on every SSH (re)connect: the tunnel carries an OpenCode server's API, so a host
   * name that rebinds to a metadata address is refused as the REST client would refuse it.
   */
  guard?: ConnectionGuard;
  keepaliveIntervalMs?: number;
  /** After a failed connect, new connections fail at once until this much time has passed (base · 2^n, capped). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

export function openTunnel(options: TunnelOptions): Promise<Tunnel> {
  const guard = options.guard ?? strictConnectionGuard;
  const connection = createSshConnection({
    target: options.target,
    label: options.label,
    clock: options.clock,
    logger: options.logger,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? 10_000,
    reconnectBaseMs: options.reconnectBaseMs ?? 500,
    reconnectMaxMs: options.reconnectMaxMs ?? 15_000,
    resolveAddresses: (host) => guard.addresses(host),
    ...(options.createClient ? { createClient: options.createClient } : {}),
  });
  return openPortForward({ connection, remotePort: options.remotePort, logger: options.logger, executor: options.target.executor, ownsConnection: true });
}
