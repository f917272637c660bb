import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback servers for the address-guard and event-stream tests: a stand-in for a metadata endpoint that records
 * every hit, and a proxy in front of a real OpenCode server that can turn hostile or silently stop relaying events.
 */

export interface Recorder {
  url: string;
  /** `METHOD path` of every request that reached it. */
  hits: string[];
  close(): Promise<void>;
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/**
 * Answers every request with an event stream carrying a forged `session.idle` event, as a hostile redirect
 * target would: if the bot followed a redirect here, it would both leak the request and take the forgery.
 * Listens on another loopback address (127.0.0.2 by default), the way a metadata endpoint is another host.
 */
export async function startRecorder(host = '127.0.0.2'): Promise<Recorder> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`data: ${JSON.stringify({ payload: { type: 'session.idle', properties: { sessionID: 'ses_forged' } } })}\n\n`);
  });
  const port = await listen(server, host);
  return { url: `http://${host}:${port}`, hits, close: closer(server) };
}

export interface OpencodeProxy {
  url: string;
  port: number;
  /** `METHOD path` of every request the proxy received. */
  requests: string[];
  /**
   * In order, what went through: every request (`METHOD path`), and on each event stream (numbered from 1)
   * `stream N open`, `stream N relayed <type> [sessionID]`, `stream N swallowed <type> [sessionID]`, `stream N closed`.
   */
  journal: string[];
  /** From now on, `GET /global/event` answers `302 Location: <location>`; undefined relays it again. */
  redirectEventsTo(location: string | undefined): void;
  /**
   * From now on, event streams stay open but deliver only `server.connected` and heartbeats: a stream that
   * silently stops, which neither the bot's silence timer nor TCP can notice. False relays everything again.
   */
  swallowEvents(on: boolean): void;
  /** Event streams open through the proxy now. */
  openStreams(): number;
  close(): Promise<void>;
}

/** What a journal line says of one SSE frame of `/global/event`: its payload's type and session, if any. */
function describeFrame(frame: string): { type: string; session?: string } {
  const data = frame
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
  try {
    const payload = (JSON.parse(data) as { payload?: { type?: string; properties?: { sessionID?: unknown } } }).payload;
    const session = payload?.properties?.sessionID;
    return { type: payload?.type ?? '?', ...(typeof session === 'string' ? { session } : {}) };
  } catch {
    return { type: '?' };
  }
}

const KEPT_WHILE_SWALLOWING = new Set(['server.connected', 'server.heartbeat']);

/**
 * Relays everything to `target` (a real OpenCode server), closing the connection after each reply so every
 * request is a new connection, and checked anew by the bot's connection guard.
 */
export async function startOpencodeProxy(target: string): Promise<OpencodeProxy> {
  const requests: string[] = [];
  const journal: string[] = [];
  let redirect: string | undefined;
  let swallowing = false;
  let streams = 0;
  let open = 0;
  const upstream = new URL(target);

  /** Relays an event stream frame by frame, so each frame can be logged, and dropped while swallowing. */
  function relayEvents(answer: IncomingMessage, res: ServerResponse): void {
    const n = ++streams;
    open++;
    journal.push(`stream ${n} open`);
    res.on('close', () => {
      open--;
      journal.push(`stream ${n} closed`);
    });
    let buffered = '';
    answer.setEncoding('utf8');
    answer.on('data', (chunk: string) => {
      buffered += chunk.replace(/\r\n/g, '\n');
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const frame = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const { type, session } = describeFrame(frame);
        const drop = swallowing && !KEPT_WHILE_SWALLOWING.has(type);
        journal.push(`stream ${n} ${drop ? 'swallowed' : 'relayed'} ${type}${session ? ` ${session}` : ''}`);
        if (!drop) res.write(`${frame}\n\n`);
      }
    });
    answer.on('end', () => res.end());
  }

  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    journal.push(`${req.method} ${req.url}`);
    if (redirect && req.url?.startsWith('/global/event')) {
      res.writeHead(302, { location: redirect, connection: 'close' });
      res.end();
      return;
    }
    const relay = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, connection: 'close' });
        const events = req.url?.startsWith('/global/event') && String(answer.headers['content-type']).includes('text/event-stream');
        if (events) relayEvents(answer, res);
        else answer.pipe(res);
      },
    );
    relay.on('error', () => res.destroy());
    res.on('close', () => relay.destroy());
    req.pipe(relay);
  });
  const port = await listen(server, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    journal,
    redirectEventsTo: (location) => (redirect = location),
    swallowEvents: (on) => (swallowing = on),
    openStreams: () => open,
    close: closer(server),
  };
}
