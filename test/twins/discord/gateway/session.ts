import type { WebSocket } from 'ws';

/**
 * A gateway session outlives its sockets, as on Discord: it owns the sequence counter and the log of every
 * dispatch, so a client that comes back with RESUME gets exactly what it missed, in order.
 */

export interface DispatchFrame {
  op: 0;
  t: string;
  s: number;
  d: unknown;
}

export interface GatewayConnection {
  readonly id: number;
  readonly ws: WebSocket;
  session: GatewaySession | null;
  /** Off after `stopAcking()`; the client then sees a zombie connection and reconnects. */
  acking: boolean;
  closed: boolean;
}

export class GatewaySession {
  private seq = 0;
  private readonly sent: DispatchFrame[] = [];
  connection: GatewayConnection | null = null;
  /** Set when the client closed with 1000/1001: Discord drops the session then, and RESUME gets op 9. */
  invalidated = false;

  constructor(
    readonly id: string,
    readonly token: string,
    readonly intents: number,
    private readonly transmit: (connection: GatewayConnection, frame: DispatchFrame) => void,
  ) {}

  get sequence(): number {
    return this.seq;
  }

  dispatch(t: string, d: unknown): void {
    const frame: DispatchFrame = { op: 0, t, s: ++this.seq, d };
    this.sent.push(frame);
    if (this.connection && !this.connection.closed) this.transmit(this.connection, frame);
  }

  /** Frames after `seq`, for RESUME. */
  missedSince(seq: number): DispatchFrame[] {
    return this.sent.filter((frame) => frame.s > seq);
  }
}
