import type { Logger } from '../core/logger.js';
import { retryDelayMs } from '../core/backoff.js';
import type { ConnectionGuard } from '../opencode/connection-guard.js';
import { openEventStream, type EventStream, type ServerEvent } from '../opencode/event-stream.js';
import type { ServerRef } from '../opencode/server-ref.js';

export interface EventHubOptions {
  logger: Logger;
  /** An event that concerns one session. */
  onEvent(serverKey: string, event: ServerEvent): void;
  /** A stream (re)opened and relays: whatever happened while it was down must be reconciled by polling. */
  onConnected(serverKey: string): void;
  open?: typeof openEventStream;
  /** Checks the address of each stream's connection (the servers' REST clients use the same). */
  guard?: ConnectionGuard;
  /** How long a stream stays open after its last watch ended (a new `send` then finds it already open). */
  lingerMs?: number;
}

/** A hold not released by then (its prompt was refused, so no watch took over) lets its stream go anyway. */
const HOLD_EXPIRES_MS = 60_000;

interface Connection {
  server: ServerRef;
  stream?: EventStream;
  /** The server said it is relaying (its first frame arrived): every event from here on reaches us. */
  relaying: boolean;
  wanted: boolean;
  /** Named in the last `want`: some watch needs it. */
  listed: boolean;
  /** Prompts about to be sent there: the stream stays while any is held, watched or not. */
  holds: number;
  /** Those waiting for the stream to relay: told true when it does, false when an attempt fails. */
  waiters: Set<(relaying: boolean) => void>;
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
 * stream is reopened with backoff; every (re)open triggers a reconciliation by the monitor. A prompt is
 * sent only once the stream relays (`hold`), so no event of its run falls in the gap of a (re)open.
 */
export function createEventHub(options: EventHubOptions) {
  const open = options.open ?? openEventStream;
  const lingerMs = options.lingerMs ?? 10 * 60_000;
  const connections = new Map<string, Connection>();
  /** Holds by owner (a name whose prompt is being sent): each keeps its server's stream open. */
  const holds = new Map<string, () => void>();

  function settle(connection: Connection, relaying: boolean): void {
    const waiters = [...connection.waiters];
    connection.waiters.clear();
    for (const tell of waiters) tell(relaying);
  }

  function connect(key: string, connection: Connection): void {
    if (!connection.wanted) return;
    const openedAt = Date.now();
    const stream = open(connection.server, {
      onOpen: () => {
        connection.failures = 0;
        connection.relaying = true;
        options.onConnected(key);
        settle(connection, true);
      },
      onEvent: (event) => options.onEvent(key, event),
    }, options.guard ? { guard: options.guard } : {});
    connection.stream = stream;
    void stream.ended.then(({ reason, refused }) => {
      connection.stream = undefined;
      connection.relaying = false;
      // A prompt waiting on this stream goes now: polling follows its run while the stream is down.
      settle(connection, false);
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
    settle(connection, false);
    connections.delete(key);
  }

  function ensure(key: string, server: ServerRef): Connection {
    let connection = connections.get(key);
    if (connection) {
      clearTimeout(connection.closeTimer);
      connection.closeTimer = undefined;
      return connection;
    }
    connection = { server, relaying: false, wanted: true, listed: false, holds: 0, waiters: new Set(), failures: 0 };
    connections.set(key, connection);
    connect(key, connection);
    return connection;
  }

  function release(owner: string): void {
    const letGo = holds.get(owner);
    holds.delete(owner);
    letGo?.();
  }

  /** Closes an unneeded stream after `lingerMs`: reconnecting costs a reconciliation, so keep it a while. */
  function lingerThenClose(key: string, connection: Connection): void {
    if (connection.listed || connection.holds > 0 || connection.closeTimer) return;
    connection.closeTimer = setTimeout(() => close(key, connection), lingerMs);
    connection.closeTimer.unref();
  }

  return {
    /** Opens streams for these servers; the ones no longer needed (nor held) close after `lingerMs`. */
    want(servers: ReadonlyMap<string, ServerRef>): void {
      for (const [key, server] of servers) ensure(key, server).listed = true;
      for (const [key, connection] of connections) {
        if (servers.has(key)) continue;
        connection.listed = false;
        lingerThenClose(key, connection);
      }
    },
    /**
     * Opens (or keeps) the stream to `server` for `owner`'s prompt about to be sent there, until `release(owner)`
     * (its watch has taken over). Resolves true once the stream relays, so the prompt's first events are not lost
     * to a stream still opening; false if an attempt failed or it did not relay within `waitMs`.
     */
    hold(owner: string, server: ServerRef, waitMs: number): Promise<boolean> {
      release(owner);
      const key = serverKeyOf(server);
      const connection = ensure(key, server);
      connection.holds++;
      const expires = setTimeout(() => release(owner), HOLD_EXPIRES_MS);
      expires.unref();
      holds.set(owner, () => {
        clearTimeout(expires);
        connection.holds--;
        if (connections.get(key) === connection) lingerThenClose(key, connection);
      });
      // A stream already failing (refused, server down) is not waited for: polling follows that run.
      if (connection.relaying || connection.failures > 0) return Promise.resolve(connection.relaying);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => tell(false), waitMs);
        timer.unref();
        const tell = (relaying: boolean) => {
          clearTimeout(timer);
          connection.waiters.delete(tell);
          resolve(relaying);
        };
        connection.waiters.add(tell);
      });
    },
    release,
    /** Whether the stream to this server relays events now. */
    isOpen(key: string): boolean {
      return connections.get(key)?.relaying === true;
    },
    stop(): void {
      for (const owner of [...holds.keys()]) release(owner);
      for (const [key, connection] of connections) close(key, connection);
    },
  };
}
