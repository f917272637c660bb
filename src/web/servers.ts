import type { ServerDirectory } from '../opencode/server-directory.js';
import type { OpencodeHosts } from '../opencode-host/index.js';
import type { Registry } from '../sessions/registry.js';
import type { ServerView } from './fleet-probe.js';

/**
 * Every OpenCode server the page knows of, with its health: the configured ones, the URLs names were created on,
 * and those Switchboard runs on executors (their state is the host layer's own; no extra request).
 */
export function serverProbe(directory: Pick<ServerDirectory, 'configured' | 'forStored' | 'client'>, hosts: Pick<OpencodeHosts, 'list'>, registry: Pick<Registry, 'list'>) {
  return async (): Promise<ServerView[]> => {
    const managed = hosts.list();
    const refs = new Map(directory.configured().map((ref) => [ref.label, ref]));
    for (const record of registry.list()) {
      const t = record.target;
      if (t.kind !== 'opencode' || refs.has(t.server) || t.server.startsWith('@')) continue;
      refs.set(t.server, directory.forStored(t.server, t.serverUrl));
    }
    const probed = await Promise.all(
      [...refs].map(async ([name, ref]): Promise<ServerView> => {
        try {
          const health = await directory.client(ref).health();
          return { name, managed: false, healthy: health.healthy, ...(health.version ? { version: health.version } : {}) };
        } catch (error) {
          return { name, managed: false, healthy: false, problem: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    return [
      ...probed,
      ...managed.map((s): ServerView => ({ name: s.label, managed: true, healthy: s.state === 'running', ...(s.state !== 'running' ? { problem: s.lastError ?? s.state } : {}) })),
    ];
  };
}
