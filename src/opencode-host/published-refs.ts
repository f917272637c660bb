import type { ServerRef } from '../opencode/server-ref.js';
import type { Host } from './host-registry.js';
import type { HostRow } from './store.js';
import type { ManagedServer } from './types.js';

export const OPENCODE_USERNAME = 'opencode';

/** `@<executor>`: what users type and what registered sessions store. */
export const labelOf = (executor: string): string => `@${executor}`;

export type PublishedRefs = ReturnType<typeof createPublishedRefs>;

/**
 * The one ServerRef per managed server that the core holds for the life of the process. A restart updates its
 * URL and password in place, so the clients, watches and event streams holding it go on working.
 */
export function createPublishedRefs() {
  const refs = new Map<string, ServerRef>();
  return {
    /** Updates (or makes) the executor's ref; an undefined password leaves the known one. */
    publish(executor: string, url: string, password: string | undefined): void {
      const ref = refs.get(executor);
      if (!ref) {
        refs.set(executor, { label: labelOf(executor), url, username: OPENCODE_USERNAME, ...(password !== undefined ? { password } : {}) });
        return;
      }
      ref.url = url;
      if (password !== undefined) ref.password = password;
    },
    get(executor: string): ServerRef | undefined {
      return refs.get(executor);
    },
    forget(executor: string): void {
      refs.delete(executor);
    },
  };
}

/**
 * Takes up a server that answered on `url` (just started, or re-attached): it becomes the host's live server and
 * its ref points at it. `startedAt` is the row's, or now when the row has none.
 */
export function takeUpServer(refs: PublishedRefs, host: Host, row: HostRow, at: { url: string; password: string; remotePort: number; startedAt: number }): ManagedServer {
  const executor = host.config.name;
  const server: ManagedServer = {
    executor,
    label: labelOf(executor),
    url: at.url,
    username: OPENCODE_USERNAME,
    password: at.password,
    home: row.home ?? '',
    remotePort: at.remotePort,
    startedAt: at.startedAt,
    restarts: row.restarts,
  };
  host.live.server = server;
  refs.publish(executor, at.url, at.password);
  return server;
}
