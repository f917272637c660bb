import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SwitchboardError } from '../../src/errors.js';
import { createOpencodeClient } from '../../src/opencode/client.js';
import { messageOfErrorBody, transportError } from '../../src/opencode/client-errors.js';
import { createServerDirectory } from '../../src/opencode/server-directory.js';
import type { ServerRef } from '../../src/opencode/server-ref.js';

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string, seen: Seen[]) => void;

interface Fake {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const toClose: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (toClose.length) await toClose.pop()!();
});

/** A tiny HTTP server on port 0 that records every request and answers with `handler`. */
async function fakeServer(handler: Handler): Promise<Fake> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: new URL(req.url!, 'http://x'), headers: req.headers, body });
      handler(req, res, body, seen);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  toClose.push(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const ref = (url: string, extra: Partial<ServerRef> = {}): ServerRef => ({ label: 'lab', url, username: 'opencode', ...extra });

async function rejection(promise: Promise<unknown>): Promise<SwitchboardError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchboardError);
    return error as SwitchboardError;
  }
  throw new Error('expected the call to fail');
}

const session = { id: 'ses_1', directory: '/srv/app', title: 't', time: { created: 1, updated: 2 } };

describe('OpenCode client: replies', () => {
  it('parses a valid reply', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, { healthy: true, version: '1.18.33', extra: 1 }));
    const client = createOpencodeClient(ref(server.url));
    await expect(client.health()).resolves.toEqual({ healthy: true, version: '1.18.33' });
    expect(server.seen[0]!.url.pathname).toBe('/global/health');
    expect(server.seen[0]!.headers.accept).toBe('application/json');
  });

  it('401 → auth_failed naming the server, with a hint that depends on whether a password is set', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="Secure Area"' });
      res.end();
    });
    const without = await rejection(createOpencodeClient(ref(server.url)).health());
    expect(without.code).toBe('auth_failed');
    expect(without.message).toBe('authentication failed for server lab');
    expect(without.hint).toContain('passwordEnv');
    const withPassword = await rejection(createOpencodeClient(ref(server.url, { password: 'nope' })).health());
    expect(withPassword.code).toBe('auth_failed');
    expect(withPassword.message).toBe('authentication failed for server lab');
    expect(withPassword.message).not.toContain('nope');
  });

  it('403 is an authentication failure too', async () => {
    const server = await fakeServer((_req, res) => json(res, 403, {}));
    expect((await rejection(createOpencodeClient(ref(server.url)).agents())).code).toBe('auth_failed');
  });

  it('200 text/html (the web UI on an unknown route) → not_opencode', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>OpenCode</title>');
    });
    const error = await rejection(createOpencodeClient(ref(server.url)).health());
    expect(error.code).toBe('not_opencode');
    expect(error.message).toBe('lab answers, but not as an OpenCode server (got text/html for global/health)');
  });

  it('404 Session not found → session_gone with the server message', async () => {
    const server = await fakeServer((_req, res) =>
      json(res, 404, { name: 'NotFoundError', data: { message: 'Session not found: ses_x' } }),
    );
    const error = await rejection(createOpencodeClient(ref(server.url)).getSession('ses_x'));
    expect(error.code).toBe('session_gone');
    expect(error.message).toBe('Session not found: ses_x');
    expect(server.seen[0]!.url.pathname).toBe('/session/ses_x');
  });

  it('404 without an error body → not_opencode', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
    });
    const error = await rejection(createOpencodeClient(ref(server.url)).todo('ses_1'));
    expect(error.code).toBe('not_opencode');
    expect(error.message).toContain('404 on session/ses_1/todo');
  });

  it('400 {"_tag":"BadRequest"} → opencode_error with the tag', async () => {
    const server = await fakeServer((_req, res) => json(res, 400, { _tag: 'BadRequest' }));
    const error = await rejection(createOpencodeClient(ref(server.url)).messages('ses_1', { limit: 5 }));
    expect(error.code).toBe('opencode_error');
    expect(error.message).toBe('lab said: BadRequest');
  });

  it('400 {"name":"BadRequest","data":{"message":…}} → opencode_error with the message', async () => {
    const server = await fakeServer((_req, res) =>
      json(res, 400, { name: 'BadRequest', data: { message: 'Missing key\n  at ["parts"]', kind: 'Payload' } }),
    );
    const error = await rejection(createOpencodeClient(ref(server.url)).promptAsync('ses_1', { text: 'hi' }));
    expect(error.code).toBe('opencode_error');
    expect(error.message).toBe('lab said: Missing key\n  at ["parts"]');
  });

  it('500 UnknownError → opencode_error with the message', async () => {
    const server = await fakeServer((_req, res) =>
      json(res, 500, { name: 'UnknownError', data: { message: 'Unexpected server error. Check server logs for details.', ref: 'err_1' } }),
    );
    const error = await rejection(createOpencodeClient(ref(server.url)).createSession({}));
    expect(error.code).toBe('opencode_error');
    expect(error.message).toBe('lab said: Unexpected server error. Check server logs for details.');
  });

  it('409 {"_tag","message"} uses the message', async () => {
    const server = await fakeServer((_req, res) => json(res, 409, { _tag: 'SessionBusyError', message: 'Session is busy: ses_1' }));
    const error = await rejection(createOpencodeClient(ref(server.url)).abort('ses_1'));
    expect(error.code).toBe('opencode_error');
    expect(error.message).toBe('lab said: Session is busy: ses_1');
  });

  it('an error status without a readable body says the status', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('oops');
    });
    const error = await rejection(createOpencodeClient(ref(server.url)).createSession({}));
    expect(error.code).toBe('opencode_error');
    expect(error.message).toBe('lab said: HTTP 500');
  });

  it('a redirect → not_opencode, and it is not followed', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(302, { location: '/login' });
      res.end();
    });
    const error = await rejection(createOpencodeClient(ref(server.url)).health());
    expect(error.code).toBe('not_opencode');
    expect(error.message).toContain('redirects (302)');
    expect(server.seen).toHaveLength(1);
  });

  it('a reply that fails the schema → not_opencode naming the field', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, { healthy: 'yes' }));
    const error = await rejection(createOpencodeClient(ref(server.url)).health());
    expect(error.code).toBe('not_opencode');
    expect(error.message).toMatch(/^unexpected reply from lab to GET \/global\/health: healthy: /);
  });

  it('a list reply with a bad element → not_opencode with its path', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, [session, { ...session, id: 42 }]));
    const error = await rejection(createOpencodeClient(ref(server.url)).listSessions());
    expect(error.code).toBe('not_opencode');
    expect(error.message).toContain('1.id');
  });

  it('invalid JSON labelled as JSON → not_opencode', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"healthy": tru');
    });
    const error = await rejection(createOpencodeClient(ref(server.url)).health());
    expect(error.code).toBe('not_opencode');
    expect(error.message).toBe('lab sent invalid JSON for global/health');
  });
});

describe('OpenCode client: requests', () => {
  it('sends Basic auth with the default user `opencode` for a configured password', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, { healthy: true }));
    const directory = createServerDirectory([{ name: 'lab', url: `${server.url}/`, passwordEnv: 'LAB_PASSWORD' }], {
      LAB_PASSWORD: 'pa:ss wörd',
    });
    const { ref: resolved, configured } = directory.resolve('lab');
    expect(configured).toBe(true);
    expect(resolved).toEqual({ label: 'lab', url: server.url, username: 'opencode', password: 'pa:ss wörd' });
    await directory.client(resolved).health();
    expect(server.seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('opencode:pa:ss wörd').toString('base64')}`);
  });

  it('sends Basic auth with a configured username', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, { healthy: true }));
    const directory = createServerDirectory([{ name: 'lab', url: server.url, username: 'botuser', passwordEnv: 'PW' }], { PW: 's3cret' });
    await directory.client(directory.resolve('lab').ref).health();
    expect(server.seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('botuser:s3cret').toString('base64')}`);
  });

  it('a URL that is a configured server uses its credentials; another URL has none', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, { healthy: true }));
    const directory = createServerDirectory([{ name: 'lab', url: server.url, passwordEnv: 'PW' }], { PW: 's3cret' });
    expect(directory.resolve(`${server.url}/`).ref.password).toBe('s3cret');
    const other = directory.resolve('http://127.0.0.1:1');
    expect(other).toEqual({ ref: { label: 'http://127.0.0.1:1', url: 'http://127.0.0.1:1', username: 'opencode' }, configured: false });
  });

  it('sends no authorization header without a password', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, { healthy: true }));
    await createOpencodeClient(ref(server.url)).health();
    expect(server.seen[0]!.headers.authorization).toBeUndefined();
  });

  it('sends the directory as a query parameter', async () => {
    const server = await fakeServer((req, res) => {
      if (req.url!.startsWith('/session/status')) json(res, 200, { ses_1: { type: 'busy' } });
      else if (req.url!.startsWith('/permission')) json(res, 200, []);
      else json(res, 200, session);
    });
    const client = createOpencodeClient(ref(server.url));
    await expect(client.status('/srv/my app & co')).resolves.toEqual({ ses_1: { type: 'busy' } });
    await client.permissions('/srv/app');
    await client.createSession({ directory: '/srv/app', title: 'Fix it', agent: 'build' });
    expect(server.seen.map((s) => [s.method, s.url.pathname, s.url.searchParams.get('directory')])).toEqual([
      ['GET', '/session/status', '/srv/my app & co'],
      ['GET', '/permission', '/srv/app'],
      ['POST', '/session', '/srv/app'],
    ]);
    expect(JSON.parse(server.seen[2]!.body)).toEqual({ title: 'Fix it', agent: 'build' });
  });

  it('sends no directory parameter when none is given', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, {}));
    await createOpencodeClient(ref(server.url)).status();
    expect(server.seen[0]!.url.search).toBe('');
  });

  it('encodes session ids into one path segment', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, session));
    await createOpencodeClient(ref(server.url)).getSession('../config?x=1');
    expect(server.seen[0]!.url.pathname).toBe('/session/..%2Fconfig%3Fx%3D1');
    expect(server.seen[0]!.url.search).toBe('');
  });

  it('prompt_async: 204 is success; the body carries text, agent and the split model', async () => {
    const server = await fakeServer((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const client = createOpencodeClient(ref(server.url));
    await expect(client.promptAsync('ses_1', { text: '  exact\n bytes ', agent: 'plan', model: 'openrouter/anthropic/claude-sonnet' })).resolves.toBeUndefined();
    expect(server.seen[0]!.method).toBe('POST');
    expect(server.seen[0]!.url.pathname).toBe('/session/ses_1/prompt_async');
    expect(server.seen[0]!.headers['content-type']).toContain('application/json');
    expect(JSON.parse(server.seen[0]!.body)).toEqual({
      parts: [{ type: 'text', text: '  exact\n bytes ' }],
      agent: 'plan',
      model: { providerID: 'openrouter', modelID: 'anthropic/claude-sonnet' },
    });
    await client.promptAsync('ses_1', { text: 'plain' });
    expect(JSON.parse(server.seen[1]!.body)).toEqual({ parts: [{ type: 'text', text: 'plain' }] });
  });

  it('permission and question replies post their bodies to the right routes', async () => {
    const server = await fakeServer((_req, res) => json(res, 200, true));
    const client = createOpencodeClient(ref(server.url));
    await client.replyPermission('per_1', '/srv/app', 'reject', 'use staging');
    await client.replyQuestion('que_1', undefined, [['Blue']]);
    await client.rejectQuestion('que_2', '/srv/app');
    expect(server.seen.map((s) => [s.method, s.url.pathname, s.url.searchParams.get('directory'), s.body])).toEqual([
      ['POST', '/permission/per_1/reply', '/srv/app', JSON.stringify({ reply: 'reject', message: 'use staging' })],
      ['POST', '/question/que_1/reply', null, JSON.stringify({ answers: [['Blue']] })],
      ['POST', '/question/que_2/reject', '/srv/app', ''],
    ]);
  });
});

describe('OpenCode client: transport failures and retries', () => {
  it('connection refused → unreachable "refused the connection"', async () => {
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await rejection(createOpencodeClient(ref(`http://127.0.0.1:${port}`), { timeoutMs: 2_000 }).health());
    expect(error.code).toBe('unreachable');
    expect(error.message).toBe('server lab refused the connection (is `opencode serve` running there?)');
  });

  it('a server that never answers → timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    toClose.push(
      () =>
        new Promise<void>((resolve) => {
          sockets.forEach((s) => s.destroy());
          silent.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const started = Date.now();
    const error = await rejection(createOpencodeClient(ref(url), { timeoutMs: 400 }).health());
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(/^server lab did not answer within \d+ s$/);
    expect(Date.now() - started).toBeLessThan(5_000);
    // A timed-out GET is not retried: one connection, one request.
    expect(sockets.size).toBeLessThanOrEqual(1);
  });

  it('a GET on a dropped connection is retried once', async () => {
    const server = await fakeServer((req, res, _body, seen) => {
      if (seen.length === 1) req.socket.destroy();
      else json(res, 200, { healthy: true });
    });
    await expect(createOpencodeClient(ref(server.url)).health()).resolves.toEqual({ healthy: true });
    expect(server.seen.map((s) => s.method)).toEqual(['GET', 'GET']);
  });

  it('a GET that keeps dropping is tried twice, then reported', async () => {
    const server = await fakeServer((req) => req.socket.destroy());
    const error = await rejection(createOpencodeClient(ref(server.url)).agents());
    expect(error.code).toBe('unreachable');
    expect(error.message).toBe('server lab dropped the connection');
    expect(server.seen).toHaveLength(2);
  });

  it('a POST on a dropped connection is not retried (it could send a prompt twice)', async () => {
    const server = await fakeServer((req) => req.socket.destroy());
    const error = await rejection(createOpencodeClient(ref(server.url)).promptAsync('ses_1', { text: 'once only' }));
    expect(error.code).toBe('unreachable');
    expect(error.message).toBe('server lab dropped the connection');
    expect(server.seen).toHaveLength(1);
  });

  it('a GET answered 503 is retried once; a POST is not', async () => {
    const server = await fakeServer((req, res, _body, seen) => {
      const gets = seen.filter((s) => s.method === 'GET').length;
      if (req.method === 'GET' && gets === 2) json(res, 200, { healthy: true });
      else json(res, 503, { name: 'Unavailable', data: { message: 'starting' } });
    });
    const client = createOpencodeClient(ref(server.url));
    await expect(client.health()).resolves.toEqual({ healthy: true });
    const error = await rejection(client.abort('ses_1'));
    expect(error.code).toBe('opencode_error');
    expect(error.message).toBe('lab said: starting');
    expect(server.seen.map((s) => s.method)).toEqual(['GET', 'GET', 'POST']);
  });
});

describe('messageOfErrorBody', () => {
  it('reads both error shapes and ignores anything else', () => {
    expect(messageOfErrorBody('{"name":"NotFoundError","data":{"message":"gone"}}')).toBe('gone');
    expect(messageOfErrorBody('{"_tag":"BadRequest"}')).toBe('BadRequest');
    expect(messageOfErrorBody('{"_tag":"X","message":"m"}')).toBe('m');
    expect(messageOfErrorBody('{"name":"UnknownError"}')).toBe('UnknownError');
    expect(messageOfErrorBody('')).toBeUndefined();
    expect(messageOfErrorBody('<html>')).toBeUndefined();
    expect(messageOfErrorBody('[1,2]')).toBeUndefined();
    expect(messageOfErrorBody('"text"')).toBeUndefined();
    expect(messageOfErrorBody('{}')).toBeUndefined();
  });
});

describe('transportError', () => {
  const withCode = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

  it.each([
    ['ENOTFOUND', 'unreachable', 'server lab cannot be found (unknown host)'],
    ['EAI_AGAIN', 'unreachable', 'server lab cannot be found (DNS lookup failed)'],
    ['EHOSTUNREACH', 'unreachable', 'server lab is unreachable (no route to host)'],
    ['ENETUNREACH', 'unreachable', 'server lab is unreachable (network unreachable)'],
    ['EPROTO', 'unreachable', 'server lab did not speak the expected protocol (https to an http port?)'],
    ['ETIMEDOUT', 'timeout', 'server lab did not answer within 15 s'],
    ['EWHATEVER', 'unreachable', 'server lab is unreachable (EWHATEVER)'],
  ])('%s → %s', (code, expectedCode, message) => {
    const error = transportError('lab', withCode(code), 15_000);
    expect(error).toBeInstanceOf(SwitchboardError);
    expect(error.code).toBe(expectedCode);
    expect(error.message).toBe(message);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('falls back to the message, or to "unknown error", without a code', () => {
    expect(transportError('lab', new Error('boom'), 1_000).message).toBe('server lab is unreachable (boom)');
    expect(transportError('lab', 'a string', 1_000).message).toBe('server lab is unreachable (unknown error)');
  });
});
