import type { ServerRef } from '../opencode/server-ref.js';

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
