import type { Logger } from '../core/logger.js';
import { retryDelayMs } from '../core/backoff.js';
import type { ConnectionGuard } from '../opencode/connection-guard.js';
import { openEventStream, type EventStream, type ServerEvent } from '../opencode/event-stream.js';
import type { ServerRef } from '../opencode/server-ref.js';

export interface EventHubOptions {
  logger: Logger;
  /** An event that concerns one session. */
  onEvent(serverKey: string, event: ServerEvent): void;
  /** A stream (re)opened: whatever happened while it was down must be reconciled by polling. */
  onConnected(serverKey: string): void;
  open?: typeof openEventStream;
  /** Checks the address of each stream's connection (the servers' REST clients use the same). */
  guard?: ConnectionGuard;
  /** How long a stream stays open after its last watch ended (a new `send` then finds it already open). */
  lingerMs?: number;
}

interface Connection {
  server: ServerRef;
  stream?: EventStream;
  wanted: boolean;
  failures: number;
  timer?: NodeJS.Timeout;
  closeTimer?: NodeJS.Timeout;
}

export function serverKeyOf(server: ServerRef): string {
  return `${server.url}\u0000${server.username}`;
}

export type EventHub = ReturnType<typeof createEventHub>;

/**
 * One event-stream connection per OpenCode server, however many sessions are watched there. A dropped
 * stream is reopened with backoff; every (re)open triggers a reconciliation by the monitor.
 */
export function createEventHub(options: EventHubOptions) {
  const open = options.open ?? openEventStream;
  const lingerMs = options.lingerMs ?? 10 * 60_000;
  const connections = new Map<string, Connection>();

  function connect(key: string, connection: Connection): void {
    if (!connection.wanted) return;
    const openedAt = Date.now();
    const stream = open(connection.server, {
      onOpen: () => {
        connection.failures = 0;
        options.onConnected(key);
      },
      onEvent: (event) => options.onEvent(key, event),
    }, options.guard ? { guard: options.guard } : {});
    connection.stream = stream;
    void stream.ended.then(({ reason, refused }) => {
      connection.stream = undefined;
      if (!connection.wanted) return;
      // A stream that lived a while was healthy: start the backoff over.
      if (Date.now() - openedAt > 30_000) connection.failures = 0;
      connection.failures++;
      const wait = retryDelayMs(connection.failures, 500, 30_000);
      // A refusal (a redirect, a metadata address) will likely repeat: say it once, at warn, then keep quiet.
      const fields = { server: connection.server.label, reason, inMs: wait };
      if (refused && connection.failures === 1) options.logger.warn('event stream refused; reconnecting', fields);
      else options.logger.debug('event stream ended; reconnecting', fields);
      connection.timer = setTimeout(() => connect(key, connection), wait);
      connection.timer.unref();
    });
  }

  function close(key: string, connection: Connection): void {
    connection.wanted = false;
    clearTimeout(connection.timer);
    clearTimeout(connection.closeTimer);
    connection.stream?.close();
    connections.delete(key);
  }

  /** Opens streams for these servers; the ones no longer needed close after `lingerMs`. */
  function want(servers: ReadonlyMap<string, ServerRef>): void {
      for (const [key, server] of servers) {
        const existing = connections.get(key);
        if (existing) {
          clearTimeout(existing.closeTimer);
          existing.closeTimer = undefined;
          continue;
        }
        const connection: Connection = { server, wanted: true, failures: 0 };
        connections.set(key, connection);
        connect(key, connection);
      }
      for (const [key, connection] of connections) {
        if (servers.has(key) || connection.closeTimer) continue;
        // Reconnecting costs events: keep the stream a while in case work is sent there again soon.
        connection.closeTimer = setTimeout(() => close(key, connection), lingerMs);
        connection.closeTimer.unref();
      }
  }

  return {
    want,
    isOpen(key: string): boolean {
      return connections.get(key)?.stream !== undefined;
    },
    stop(): void {
      for (const [key, connection] of connections) close(key, connection);
    },
  };
}
