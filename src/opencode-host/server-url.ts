import type { Clock } from '../core/clock.js';
import type { PortForward } from '../executors/index.js';
import type { Host } from './host-registry.js';

export type ServerUrls = ReturnType<typeof createServerUrls>;

/**
 * Where this process reaches a managed server: the local end of the host's port forward (made once per executor
 * per process on the host's connection and kept across server restarts), or the server's own port on a local
 * executor.
 */
export function createServerUrls(deps: { clock: Clock }) {
  async function tunnelOf(host: Host, remotePort: number): Promise<PortForward> {
    host.live.tunnel ??= await host.transport.forward(remotePort);
    return host.live.tunnel;
  }

  return {
    /** Points the tunnel at the port and connects it: the server's URL, and how long the tunnel took (null: no tunnel). */
    async reach(host: Host, port: number): Promise<{ url: string; tunnelMs: number | null }> {
      const started = deps.clock.now();
      const tunnel = await tunnelOf(host, port);
      tunnel.remotePort = port;
      await tunnel.connect();
      return { url: tunnel.url, tunnelMs: host.config.type === 'ssh' ? deps.clock.now() - started : null };
    },
    /**
     * The URL without connecting (no SSH yet), so the server has it for the whole process even while its host
     * is unreachable.
     */
    async localEnd(host: Host, port: number): Promise<string> {
      return (await tunnelOf(host, port)).url;
    },
  };
}
