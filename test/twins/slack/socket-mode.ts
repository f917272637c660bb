import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { socketAckFrame } from './schemas.js';
import type { EnvelopeRecord, TwinState } from './state.js';
import type { LostStage } from './event-retries.js';

/**
 * Slack's Socket Mode, server side. apps.connections.open hands out a one-time ticket URL; the app connects, gets
 * `{type:'hello'}` (which is what makes Bolt's `app.start()` resolve), and from then on the twin pushes envelopes
 * and waits for `{envelope_id, payload}` acks. Pings need no code: `ws` answers the client's pings itself.
 */
export const SOCKET_PATH = '/socket/link/';

export class SocketAckTimeoutError extends Error {
  override name = 'SocketAckTimeoutError';
}

interface PendingAck {
  readonly record: EnvelopeRecord;
  readonly frame: Record<string, unknown>;
  /** The connection it went out on; an ack from any other (or after a loss, from this one) does not count. */
  ws: WebSocket | undefined;
  lost: boolean;
  /** Times it was sent again after a reconnect: the envelope's `retry_attempt` for events. */
  retries: number;
  timer: NodeJS.Timeout | undefined;
  resolve(payload: Record<string, unknown>): void;
  reject(error: Error): void;
}

export interface SocketModeServerOptions {
  readonly state: TwinState;
  readonly appId: string;
  /** Slack gives the app 3 s to ack an envelope before it retries; the twin fails the delivery instead. */
  readonly ackTimeoutMs: number;
}

export class SocketModeServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Set<string>();
  /** Connections in the order they said hello; deliveries use the newest, as Slack spreads over live ones. */
  private readonly sockets: WebSocket[] = [];
  private readonly pending = new Map<string, PendingAck>();
  private readonly losses: LostStage[] = [];
  private ticketCount = 0;

  constructor(private readonly options: SocketModeServerOptions) {}

  get connectionCount(): number {
    return this.sockets.length;
  }

  /** The URL apps.connections.open returns; each ticket admits one connection. */
  issueUrl(wsOrigin: string): string {
    this.ticketCount += 1;
    const ticket = `twin-ticket-${this.ticketCount}`;
    this.tickets.add(ticket);
    return `${wsOrigin}${SOCKET_PATH}?ticket=${ticket}&app_id=${this.options.appId}`;
  }

  /** Returns false when the upgrade is not for Socket Mode, so the caller can refuse it. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://twin.invalid');
    if (url.pathname !== SOCKET_PATH) return false;
    const ticket = url.searchParams.get('ticket') ?? '';
    if (!this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
    return true;
  }

  private onConnection(ws: WebSocket): void {
    this.sockets.push(ws);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onFrame(ws, String(data));
    });
    ws.on('close', () => {
      const index = this.sockets.indexOf(ws);
      if (index >= 0) this.sockets.splice(index, 1);
      this.options.state.setSocketConnections(this.sockets.length);
    });
    // A client that errors is already gone; 'close' follows and does the bookkeeping.
    ws.on('error', () => {});
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.length,
        debug_info: { host: 'applink-twin', build_number: 1, approximate_connection_time: 18_060 },
        connection_info: { app_id: this.options.appId },
      }),
    );
    this.options.state.setSocketConnections(this.sockets.length);
    this.redeliverTo(ws);
  }

  /**
   * The next `count` envelopes go missing: before the app sees one, or the app's ack on the way back. Either
   * way the connection is recycled (Slack sends `disconnect`) and the envelope comes again, same envelope_id,
   * over the new connection once it said hello; events carry `retry_attempt` and `retry_reason` then.
   */
  loseNext(stage: LostStage, count = 1): void {
    for (let i = 0; i < count; i++) this.losses.push(stage);
  }

  private redeliverTo(ws: WebSocket): void {
    for (const pending of this.pending.values()) {
      if (pending.ws === ws || (pending.ws?.readyState === WebSocket.OPEN && !pending.lost)) continue;
      pending.retries += 1;
      pending.lost = false;
      this.send(pending, ws);
    }
  }

  private send(pending: PendingAck, ws: WebSocket): void {
    pending.ws = ws;
    const isEvent = pending.frame['type'] === 'events_api';
    const frame = isEvent && pending.retries > 0 ? { ...pending.frame, retry_attempt: pending.retries, retry_reason: 'timeout' } : pending.frame;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => {
      this.pending.delete(pending.record.envelopeId);
      pending.reject(
        new SocketAckTimeoutError(
          `Socket Mode envelope ${pending.record.envelopeId} (${String(pending.frame['type'])}) was not acknowledged within ${this.options.ackTimeoutMs} ms`,
        ),
      );
    }, this.options.ackTimeoutMs);
    ws.send(JSON.stringify(frame));
  }

  private onFrame(ws: WebSocket, text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = socketAckFrame.safeParse(frame);
    if (!parsed.success) return;
    const pending = this.pending.get(parsed.data.envelope_id);
    if (!pending || pending.ws !== ws) return;
    if (pending.lost) {
      // The ack the app did send never arrives; the connection is recycled and the envelope comes again.
      ws.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested' }));
      return;
    }
    this.pending.delete(parsed.data.envelope_id);
    const payload = parsed.data.payload ?? {};
    this.options.state.ackEnvelope(pending.record, payload);
    pending.resolve(payload);
  }

  /** Pushes one envelope and resolves with the ack payload the app sent back. */
  deliver(type: EnvelopeRecord['type'], payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ws = this.sockets.at(-1);
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error('No Socket Mode connection: start a Bolt App with socketMode: true first'));
    }
    const record = this.options.state.addEnvelope({ type, payload });
    const frame = {
      envelope_id: record.envelopeId,
      type,
      payload,
      accepts_response_payload: type !== 'events_api',
      ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
    };
    const lost = this.losses.shift();
    return new Promise((resolve, reject) => {
      const pending: PendingAck = {
        record,
        frame,
        ws: undefined,
        lost: false,
        retries: 0,
        timer: undefined,
        resolve: (ackPayload) => {
          clearTimeout(pending.timer);
          resolve(ackPayload);
        },
        reject: (error) => {
          clearTimeout(pending.timer);
          reject(error);
        },
      };
      this.pending.set(record.envelopeId, pending);
      if (lost !== 'request') this.send(pending, ws);
      if (lost === undefined) return;
      // Lost: no deadline runs until it goes out again on the next connection.
      pending.lost = true;
      pending.ws = ws;
      clearTimeout(pending.timer);
      if (lost === 'request') ws.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested' }));
    });
  }

  /** Slack's `{type:'disconnect'}`: the client drops this socket and reconnects via apps.connections.open. */
  requestReconnect(reason = 'refresh_requested'): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ type: 'disconnect', reason }));
  }

  /**
   * Bolt's `app.stop()` resolves before the close handshake finishes, so a socket may still be closing here.
   * Give each one `graceMs` to finish on its own (a forced cut makes Bolt log a spurious WebSocket error), then
   * terminate whatever is left.
   */
  async close(graceMs: number): Promise<void> {
    for (const pending of this.pending.values()) pending.reject(new Error('The Slack twin was closed'));
    this.pending.clear();
    await Promise.all(this.sockets.map((ws) => waitForClose(ws, graceMs)));
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function waitForClose(ws: WebSocket, graceMs: number): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, graceMs);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
