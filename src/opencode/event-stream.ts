import got from 'got';
import { createParser } from 'eventsource-parser';
import { z } from 'zod';
import { basicAuthorization } from './basic-auth.js';
import { guardRefusal, redirectError } from './client-errors.js';
import { strictConnectionGuard, type ConnectionGuard } from './connection-guard.js';
import type { ServerRef } from './server-ref.js';

/** One event of `GET /global/event`, unwrapped. `sync` duplicates are dropped before they get here. */
export interface ServerEvent {
  directory?: string;
  type: string;
  properties: Record<string, unknown>;
}

const frameSchema = z.object({
  directory: z.string().optional(),
  payload: z.object({ type: z.string(), properties: z.record(z.string(), z.unknown()).default({}) }).loose(),
});

export interface EventStreamHandlers {
  /**
   * The server relays: its first frame (`server.connected`) arrived. Not the response headers: a server may
   * answer them before it subscribes to its bus, and an event in between would be lost unseen.
   */
  onOpen(): void;
  onEvent(event: ServerEvent): void;
}

export interface StreamEnd {
  reason: string;
  /**
   * The server was refused, not lost: it redirects, its address is a metadata one, or it wants a password.
   * Reconnecting will likely meet the same answer, so this is worth a warning rather than a debug line.
   */
  refused?: true;
}

export interface EventStream {
  /** Resolves when the stream ends for any reason (closed by the server, error, silence, or `close()`). */
  ended: Promise<StreamEnd>;
  close(): void;
}

export interface EventStreamOptions {
  silenceMs?: number;
  /** Checks the address connected to (default: system DNS, metadata addresses refused). */
  guard?: ConnectionGuard;
}

/**
 * Opens the server-wide event stream. The server sends a heartbeat every 10 s, so silence for
 * `silenceMs` means the connection is dead even if TCP has not noticed; the stream then ends and the caller
 * reconnects. The stream is best-effort: callers reconcile by polling after every (re)connect.
 */
export function openEventStream(server: ServerRef, handlers: EventStreamHandlers, options: EventStreamOptions = {}): EventStream {
  const silenceMs = options.silenceMs ?? 35_000;
  const controller = new AbortController();
  // One connection per stream: no pool to keep, and every reconnect is checked by the guard afresh.
  const agent = (options.guard ?? strictConnectionGuard).agents();
  let silenceTimer: NodeJS.Timeout | undefined;
  let finish!: (value: StreamEnd) => void;
  const ended = new Promise<StreamEnd>((resolve) => (finish = resolve));
  let done = false;
  const end = (reason: string, refused = false) => {
    if (done) return;
    done = true;
    clearTimeout(silenceTimer);
    controller.abort();
    agent.http.destroy();
    agent.https.destroy();
    finish(refused ? { reason, refused } : { reason });
  };
  const armSilence = () => {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => end(`no event or heartbeat for ${Math.round(silenceMs / 1000)} s`), silenceMs);
    silenceTimer.unref();
  };

  const authorization = basicAuthorization(server);
  const stream = got.stream(`${server.url}/global/event`, {
    headers: { accept: 'text/event-stream', ...(authorization ? { authorization } : {}) },
    // Generous: a loaded server answers slowly, and each reconnect risks missing events.
    timeout: { connect: 10_000, response: 30_000 },
    retry: { limit: 0 },
    // A redirect could point anywhere (a metadata address, another server's events): never follow one.
    followRedirect: false,
    throwHttpErrors: false,
    agent,
    signal: controller.signal,
  });

  let accepted = false;
  let relaying = false;
  const parser = createParser({
    onEvent(message) {
      armSilence();
      if (!relaying) {
        relaying = true;
        handlers.onOpen();
      }
      let frame;
      try {
        frame = frameSchema.safeParse(JSON.parse(message.data));
      } catch {
        return;
      }
      if (!frame.success) return;
      const { payload, directory } = frame.data;
      if (payload.type === 'sync') return;
      handlers.onEvent({ ...(directory ? { directory } : {}), type: payload.type, properties: payload.properties });
    },
  });

  stream.on('response', (response: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => {
    const type = String(response.headers['content-type'] ?? '');
    const { statusCode } = response;
    if (statusCode >= 300 && statusCode < 400) {
      end(redirectError(server.label, statusCode).message, true);
      return;
    }
    if (statusCode !== 200 || !type.includes('text/event-stream')) {
      end(statusCode === 401 ? 'authentication failed' : `unexpected reply ${statusCode} ${type.split(';')[0]}`, statusCode === 401);
      return;
    }
    accepted = true;
    armSilence();
  });
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    if (accepted && !done) parser.feed(chunk);
  });
  stream.on('end', () => end('the server closed the stream'));
  stream.on('error', (error: Error & { code?: string }) => {
    const refusal = guardRefusal(server.label, error);
    if (refusal) end(refusal.message, true);
    else end(error.code ?? error.message);
  });

  return { ended, close: () => end('closed') };
}
