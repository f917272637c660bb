import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { Actor } from '../core/origin.js';
import { NAME_PATTERN } from '../sessions/names.js';
import type { Live } from './live.js';
import type { ReadModel } from './read-model.js';
import { staticFile, type StaticFiles } from './static-files.js';
import { cookieValue, SESSION_COOKIE, SESSION_TTL_MS, type Tokens } from './tokens.js';

/** A read-only page takes no bodies; a URL or a header block past this is not a browser's. */
const MAX_URL = 2_048;
const MAX_BODY = 0;

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface WebHttpDeps {
  logger: Logger;
  tokens: Tokens;
  model: ReadModel;
  live: Live;
  files: StaticFiles;
  /** Makes a value safe to send (the app's scrubber over every string). */
  clean(value: unknown): unknown;
  /** The session cookie gets `Secure` (the public URL is https). */
  secureCookie: boolean;
}

const REFUSAL: Record<string, string> = {
  missing: 'This page needs a link from the bot: type `dashboard` in chat (or at the console) for a private one-time link.',
  forged: 'This link was not made by this bot. Type `dashboard` for a new one.',
  expired: 'This link has expired (links last 15 minutes). Type `dashboard` for a new one.',
  reused: 'This link was already used (each link opens the page once). Type `dashboard` for a new one.',
  session: 'Your session is not valid here (expired, or made by another bot secret). Type `dashboard` for a new link.',
};

function headers(res: ServerResponse, type: string): void {
  res.setHeader('content-type', type);
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cache-control', 'no-store');
}

function plain(res: ServerResponse, status: number, message: string): void {
  headers(res, 'text/plain; charset=utf-8');
  res.statusCode = status;
  res.end(`${status} ${message}\n`);
}

/**
 * The fleet page over `node:http`: GET only, no request bodies, nothing it serves changes anything.
 *   /?t=<token>       opens a one-time link: sets the session cookie, 303 to /
 *   /                 the page (401 without a session)
 *   /static/<file>    the page's script and style (a fixed list; anything else 404)
 *   /api/snapshot     the overview, rows and charts the session may see
 *   /api/names/<name> one name in full (403 outside the session's scope)
 *   /api/events       Server-Sent Events: a snapshot, then each card change (429 past the limits)
 */
export function createWebHttp(deps: WebHttpDeps) {
  const { tokens, model, live, files } = deps;

  function json(res: ServerResponse, value: unknown): void {
    headers(res, 'application/json; charset=utf-8');
    res.end(JSON.stringify(deps.clean(value)));
  }

  function sessionActor(req: IncomingMessage): Actor | undefined {
    return tokens.readSession(cookieValue(req.headers.cookie, SESSION_COOKIE))?.actor;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const length = Number(req.headers['content-length'] ?? '0');
    if ((req.url ?? '').length > MAX_URL || !(length <= MAX_BODY) || req.headers['transfer-encoding'] !== undefined) {
      res.setHeader('connection', 'close');
      return plain(res, 413, 'request too large: this page takes no request bodies and URLs up to 2 KB');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return plain(res, 405, 'the fleet page is read-only: GET only');
    }
    const url = new URL(req.url ?? '/', 'http://page.invalid');
    const path = url.pathname;

    if (path.startsWith('/static/')) {
      const file = staticFile(files, path.slice('/static/'.length));
      if (!file) return plain(res, 404, 'no such file');
      headers(res, file.type);
      res.setHeader('cache-control', 'no-cache');
      return void res.end(file.body);
    }
    if (path === '/' && url.searchParams.has('t')) {
      const actor = tokens.redeem(url.searchParams.get('t') ?? undefined);
      if (typeof actor === 'string') return plain(res, 401, REFUSAL[actor]!);
      const session = tokens.session(actor);
      res.setHeader(
        'set-cookie',
        `${SESSION_COOKIE}=${session.cookie}; Path=/; Max-Age=${SESSION_TTL_MS / 1000}; HttpOnly; SameSite=Strict${deps.secureCookie ? '; Secure' : ''}`,
      );
      headers(res, 'text/plain; charset=utf-8');
      res.statusCode = 303;
      res.setHeader('location', '/');
      return void res.end();
    }
    const known = path === '/' || path === '/index.html' || path === '/api/snapshot' || path === '/api/events' || path.startsWith('/api/names/');
    if (!known) return plain(res, 404, 'no such page');
    const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const actor = sessionActor(req);
    if (!actor) return plain(res, 401, cookie ? REFUSAL.session! : REFUSAL.missing!);

    if (path === '/' || path === '/index.html') {
      const page = staticFile(files, 'index.html')!;
      headers(res, page.type);
      return void res.end(page.body);
    }
    if (path === '/api/snapshot') return json(res, await model.snapshot(actor));
    if (path === '/api/events') {
      // Refused before the snapshot is built: a flood of streams costs no rendering. Checked again after it.
      const opened = live.refusal(actor) ?? live.open(actor, res, await model.snapshot(actor));
      if (opened === 'full') return plain(res, 429, 'too many live connections to this page; try again later');
      if (opened === 'yours') return plain(res, 429, 'you have too many live connections to this page open; close some tabs');
      return;
    }
    let name: string;
    try {
      name = decodeURIComponent(path.slice('/api/names/'.length));
    } catch {
      return plain(res, 404, 'no such name');
    }
    if (!NAME_PATTERN.test(name)) return plain(res, 404, 'no such name');
    if (!model.canSee(actor, name)) return plain(res, 403, `${actor.id} may not see ${name} (or it does not exist)`);
    const detail = await model.detail(name);
    if (!detail) return plain(res, 404, 'no such name');
    return json(res, detail);
  }

  const server: Server = createServer({ maxHeaderSize: 16_384, requestTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      deps.logger.error('fleet page: request failed', { error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.end();
    });
  });
  // Idle keep-alive sockets would hold `close()` (SSE responses are ended by live.close()).
  server.keepAliveTimeout = 5_000;

  return {
    server,
    listen(port: number, host: string): Promise<AddressInfo> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close(): Promise<void> {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
