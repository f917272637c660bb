import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseBody, readRawBody, type ParsedBody } from './request-body.js';

/**
 * The twin's single HTTP server: routing and body parsing only. What each route means lives in the handlers the
 * twin passes in, so this file knows nothing about Slack semantics.
 */
export interface RouteReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Objects are sent as JSON, strings as text/plain, Buffers as they are (with the headers given). */
  readonly body: Record<string, unknown> | string | Buffer;
}

export interface TwinRoutes {
  /** `/api/<method>` */
  api(method: string, req: IncomingMessage, body: ParsedBody): RouteReply;
  /** `/upload/<fileId>`: the upload URL handed out by files.getUploadURLExternal. */
  upload(fileId: string, body: ParsedBody): RouteReply;
  /** `/response/<invocationId>`: a response_url. */
  response(invocationId: string, body: ParsedBody): RouteReply;
  /** `GET /files-pri/<team>-<file>/download/<name>`: a shared file's bytes (url_private_download). */
  file(teamAndFile: string, req: IncomingMessage): RouteReply;
  /** WebSocket upgrades; returns false to refuse. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

const ROUTES: ReadonlyArray<{ pattern: RegExp; route: 'api' | 'upload' | 'response' | 'file' }> = [
  { pattern: /^\/files-pri\/([\w-]+)(?:\/download)?\/[^/]+$/, route: 'file' },
  { pattern: /^\/api\/([\w.]+)$/, route: 'api' },
  { pattern: /^\/upload\/([\w-]+)$/, route: 'upload' },
  { pattern: /^\/response\/([\w-]+)$/, route: 'response' },
];

export interface ListeningServer {
  readonly server: Server;
  readonly port: number;
  readonly origin: string;
  close(): Promise<void>;
}

export async function listenTwinServer(routes: TwinRoutes, host: string): Promise<ListeningServer> {
  const server = createServer((req, res) => {
    handle(routes, req, res).catch((error: unknown) => {
      send(res, { status: 500, body: { ok: false, error: 'internal_error', detail: String(error) } });
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!routes.upgrade(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    origin: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Bolt's fetch keeps connections alive; without this, close() would wait for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

async function handle(routes: TwinRoutes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://twin.invalid').pathname;
  const match = ROUTES.map(({ pattern, route }) => ({ route, m: pattern.exec(path) })).find((r) => r.m);
  if (!match?.m || (req.method !== 'POST' && req.method !== 'GET')) {
    send(res, { status: 404, body: { ok: false, error: 'unknown_route', path } });
    return;
  }
  const id = match.m[1] ?? '';
  if (match.route === 'file') {
    send(res, req.method === 'GET' ? routes.file(id, req) : { status: 405, body: 'Method Not Allowed' });
    return;
  }
  const raw = await readRawBody(req);
  let body: ParsedBody;
  try {
    body = await parseBody(req, raw);
  } catch (error) {
    send(res, { status: 200, body: { ok: false, error: 'invalid_form_data', detail: String(error) } });
    return;
  }
  switch (match.route) {
    case 'api':
      send(res, routes.api(id, req, body));
      return;
    case 'upload':
      send(res, routes.upload(id, body));
      return;
    case 'response':
      send(res, routes.response(id, body));
      return;
  }
}

function send(res: ServerResponse, reply: RouteReply): void {
  if (Buffer.isBuffer(reply.body)) {
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body);
    return;
  }
  const isText = typeof reply.body === 'string';
  const payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...reply.headers,
  });
  res.end(payload);
}
