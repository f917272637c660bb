import type { ServerRef } from '../opencode/server-ref.js';
import { serverKeyOf } from './event-hub.js';

/**
 * Which watched name an event is about, and which servers need an event stream. Updated one name at a
 * time, so watching the 5 000th name costs the same as the first.
 */
export function createWatchIndex() {
  const bySession = new Map<string, string>();
  const byName = new Map<string, { serverKey: string; sessionKey: string }>();
  const servers = new Map<string, { server: ServerRef; names: Set<string> }>();
  const sessionKey = (serverKey: string, sessionId: string) => `${serverKey}\u0001${sessionId}`;

  function remove(name: string): void {
    const entry = byName.get(name);
    if (!entry) return;
    byName.delete(name);
    bySession.delete(entry.sessionKey);
    const server = servers.get(entry.serverKey);
    server?.names.delete(name);
    if (server && server.names.size === 0) servers.delete(entry.serverKey);
  }

  return {
    add(name: string, server: ServerRef, sessionId: string): void {
      remove(name);
      const serverKey = serverKeyOf(server);
      const key = sessionKey(serverKey, sessionId);
      bySession.set(key, name);
      byName.set(name, { serverKey, sessionKey: key });
      const entry = servers.get(serverKey) ?? { server, names: new Set<string>() };
      entry.names.add(name);
      servers.set(serverKey, entry);
    },
    remove,
    clear(): void {
      bySession.clear();
      byName.clear();
      servers.clear();
    },
    nameFor(serverKey: string, sessionId: string): string | undefined {
      return bySession.get(sessionKey(serverKey, sessionId));
    },
    namesOn(serverKey: string): string[] {
      return [...(servers.get(serverKey)?.names ?? [])];
    },
    has(name: string): boolean {
      return byName.has(name);
    },
    size: () => byName.size,
    servers(): Map<string, ServerRef> {
      return new Map([...servers].map(([key, entry]) => [key, entry.server]));
    },
  };
}
