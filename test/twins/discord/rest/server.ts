import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TwinClock } from '../ids.js';
import { DiscordHttpError, errors } from './errors.js';
import type { FailureInjector } from './failures.js';
import { BodyParseError, parseBody, readBody } from './request.js';
import { findRoute, splitPath, type RouteDef, type RouteResult } from './routing.js';

/**
 * One HTTP entry point for `/api/v10/*`: parse, record, inject failures, authenticate, dispatch to a route.
 * Every request is recorded, including 401s, 404s and injected 429s, so a test can assert the exact attempts.
 */

export interface RestCall {
  seq: number;
  at: number;
  method: string;
  /** Decoded and without `/api/v10`, e.g. `/webhooks/1/tok/messages/@original`. */
  path: string;
  /** `PATCH /webhooks/:applicationId/:token/messages/:messageId`, or null when no route matched. */
  route: string | null;
  query: Record<string, string>;
  /** `bot` for a valid `Bot <token>`, `invalid` for a wrong one, `none` without the header. */
  auth: 'bot' | 'invalid' | 'none';
  /** JSON body, or the parsed `payload_json` of a multipart request. */
  body: unknown;
  files: Array<{ field: string; filename: string; contentType: string | undefined; size: number }>;
  status: number;
  /** Discord's JSON error code, when the answer was an error. */
  errorCode: number | null;
  /** Answered by `failNext` rather than by the route. */
  injected: boolean;
}

export interface RestServerDeps {
  botToken: string;
  routes: RouteDef[];
  failures: FailureInjector;
  clock: TwinClock;
  record(call: RestCall): void;
  nextSeq(): number;
  log(line: string): void;
}

export const API_PREFIX = ['api', 'v10'];

export function createRestHandler(deps: RestServerDeps) {
  return async function handleApi(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = (request.method ?? 'GET').toUpperCase();
    const segments = splitPath(url.pathname).slice(API_PREFIX.length);
    const path = `/${segments.join('/')}`;
    const match = findRoute(deps.routes, method, segments);
    const authHeader = request.headers.authorization;
    const call: RestCall = {
      seq: deps.nextSeq(),
      at: deps.clock.now(),
      method,
      path,
      route: match ? `${method} ${match.route.pattern}` : null,
      query: Object.fromEntries(url.searchParams),
      auth: authHeader === undefined ? 'none' : authHeader === `Bot ${deps.botToken}` ? 'bot' : 'invalid',
      body: undefined,
      files: [],
      status: 0,
      errorCode: null,
      injected: false,
    };

    let result: RouteResult;
    try {
      const parsed = await parseBody(await readBody(request), request.headers['content-type']);
      call.body = parsed.json;
      call.files = parsed.files.map((f) => ({ field: f.field, filename: f.filename, contentType: f.contentType, size: f.bytes.length }));
      const injected = deps.failures.take({ method, path, route: call.route });
      if (injected) {
        call.injected = true;
        result = injected;
      } else if (!match) {
        deps.log(`REST ${method} ${path}: no such route in the Discord twin`);
        result = errorResult(errors.notFound());
      } else if (match.route.auth === 'bot' && call.auth !== 'bot') {
        result = errorResult(errors.unauthorized());
      } else {
        result = await match.route.handle({ params: match.params, query: url.searchParams, body: parsed.json, files: parsed.files });
      }
    } catch (error) {
      result = toErrorResult(error, deps.log, `${method} ${path}`);
    }

    call.status = result.status;
    const body = result.body as { code?: unknown } | undefined;
    call.errorCode = result.status >= 400 && typeof body?.code === 'number' ? body.code : null;
    deps.record(call);
    writeResult(response, result);
  };
}

function errorResult(error: DiscordHttpError): RouteResult {
  return { status: error.status, body: error.body() };
}

function toErrorResult(error: unknown, log: (line: string) => void, where: string): RouteResult {
  if (error instanceof DiscordHttpError) return errorResult(error);
  if (error instanceof BodyParseError || error instanceof SyntaxError) {
    return { status: 400, body: { message: 'The request body contains invalid JSON.', code: 50109 } };
  }
  // A bug in the twin, not a Discord answer: say so loudly, and answer 500 like Discord's own failures.
  log(`REST ${where}: twin error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return { status: 500, body: { message: `500: Discord twin error: ${error instanceof Error ? error.message : String(error)}`, code: 0 } };
}

export function writeResult(response: ServerResponse, result: RouteResult): void {
  const headers: Record<string, string> = { ...(result.headers ?? {}) };
  if (result.body === undefined || result.status === 204) {
    response.writeHead(result.status, headers);
    response.end();
    return;
  }
  const payload = JSON.stringify(result.body);
  headers['Content-Type'] = 'application/json';
  response.writeHead(result.status, headers);
  response.end(payload);
}
