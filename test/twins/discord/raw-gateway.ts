import { WebSocket } from 'ws';

/**
 * A bare gateway client for the twin's own protocol tests: it sends exactly what a test tells it to, so the
 * tests can check answers discord.js never provokes (bad tokens, stale sessions, missing intents) and do it
 * without the 5 s identify throttle. Adapter tests use the real discord.js instead.
 */

export interface Frame {
  op: number;
  d: unknown;
  s: number | null;
  t: string | null;
}

export class RawGateway {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      this.frames.push(JSON.parse(raw.toString()) as Frame);
      this.changed();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.changed();
    });
  }

  static async connect(url: string): Promise<RawGateway> {
    const ws = new WebSocket(url);
    const client = new RawGateway(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(op: number, d: unknown): void {
    this.ws.send(JSON.stringify({ op, d }));
  }

  identify(token: string, intents: number): void {
    this.send(2, { token, intents, properties: { os: 'linux', browser: 'raw', device: 'raw' } });
  }

  /** The first frame (from `from` on) matching, waiting for it if needed. */
  next(match: (frame: Frame) => boolean, from = 0, timeoutMs = 2000): Promise<Frame> {
    return this.until(() => this.frames.slice(from).find(match), `a frame matching ${match.toString()}`, timeoutMs);
  }

  dispatch(t: string, from = 0): Promise<Frame> {
    return this.next((f) => f.op === 0 && f.t === t, from);
  }

  closed(timeoutMs = 2000): Promise<number> {
    return this.until(() => this.closeCode ?? undefined, 'the socket to close', timeoutMs);
  }

  close(code = 1000): Promise<number> {
    if (this.closeCode === null) this.ws.close(code);
    return this.closed();
  }

  private until<T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`RawGateway: timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => f.t ?? `op${f.op}`))}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
