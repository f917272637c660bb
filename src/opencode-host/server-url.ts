import type { Client } from 'ssh2';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { ConnectionGuard } from '../opencode/connection-guard.js';
import type { Host } from './host-registry.js';
import { openTunnel, type Tunnel } from './tunnel.js';

export interface ServerUrlDeps {
  clock: Clock;
  logger: Logger;
  /** Tests: the ssh2 client for tunnels. */
  createSshClient?: () => Client;
  /** Checks the host's address on every SSH connection of a tunnel. */
  connectionGuard?: ConnectionGuard;
}

export type ServerUrls = ReturnType<typeof createServerUrls>;

/**
 * Where this process reaches a managed server: the local end of the executor's tunnel (made once per executor
 * per process and kept across server restarts), or the server itself on a local executor.
 */
export function createServerUrls(deps: ServerUrlDeps) {
  async function tunnelOf(host: Host, remotePort: number): Promise<Tunnel | null> {
    if (!host.target) return null;
    if (!host.live.tunnel) {
      host.live.tunnel = await openTunnel({
        target: host.target,
        label: host.where,
        remotePort,
        clock: deps.clock,
        logger: deps.logger,
        ...(deps.createSshClient ? { createClient: deps.createSshClient } : {}),
        ...(deps.connectionGuard ? { guard: deps.connectionGuard } : {}),
      });
    }
    return host.live.tunnel;
  }

  return {
    /** Points the tunnel at the port and connects it: the server's URL, and how long the tunnel took. */
    async reach(host: Host, port: number): Promise<{ url: string; tunnelMs: number | null }> {
      if (!host.target) return { url: `http://127.0.0.1:${port}`, tunnelMs: null };
      const started = deps.clock.now();
      const tunnel = (await tunnelOf(host, port))!;
      tunnel.remotePort = port;
      await tunnel.connect();
      return { url: tunnel.url, tunnelMs: deps.clock.now() - started };
    },
    /**
     * The URL without connecting (no SSH yet), so the server has it for the whole process even while its host
     * is unreachable.
     */
    async localEnd(host: Host, port: number): Promise<string> {
      const tunnel = await tunnelOf(host, port);
      return tunnel ? tunnel.url : `http://127.0.0.1:${port}`;
    },
  };
}
