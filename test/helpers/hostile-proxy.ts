import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback servers for the address-guard tests: a stand-in for a metadata endpoint that records every hit, and
 * a proxy in front of a real OpenCode server that can turn hostile.
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
  /** From now on, `GET /global/event` answers `302 Location: <location>`; undefined relays it again. */
  redirectEventsTo(location: string | undefined): void;
  close(): Promise<void>;
}

/**
 * Relays everything to `target` (a real OpenCode server), closing the connection after each reply so every
 * request is a new connection, and checked anew by the bot's connection guard.
 */
export async function startOpencodeProxy(target: string): Promise<OpencodeProxy> {
  const requests: string[] = [];
  let redirect: string | undefined;
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (redirect && req.url?.startsWith('/global/event')) {
      res.writeHead(302, { location: redirect, connection: 'close' });
      res.end();
      return;
    }
    const relay = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, connection: 'close' });
        answer.pipe(res);
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
    redirectEventsTo: (location) => (redirect = location),
    close: closer(server),
  };
}
