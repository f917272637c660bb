import type { UploadedFile } from './request.js';

/**
 * Route tables and the matcher tests use to pick requests (`failNext`, `restCalls`). Paths are matched after
 * percent-decoding each segment: discord.js sends `@original` as `%40original`, and a twin that compares raw paths
 * never sees its editReply calls.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  files: UploadedFile[];
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteDef {
  method: HttpMethod;
  /** `/channels/:channelId/messages`, relative to `/api/v10`. */
  pattern: string;
  /** Interaction callbacks and webhook-token routes carry no Authorization header on Discord. */
  auth: 'bot' | 'none';
  handle(ctx: RouteContext): RouteResult | Promise<RouteResult>;
}

export const json = (body: unknown, status = 200): RouteResult => ({ status, body });
export const noContent = (): RouteResult => ({ status: 204 });

export function splitPath(path: string): string[] {
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/** Params when `segments` fit `pattern` (`:name` and `*` match one segment), else null. */
export function matchSegments(pattern: string, segments: readonly string[]): Record<string, string> | null {
  const parts = splitPath(pattern);
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const actual = segments[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = actual;
    else if (part !== '*' && part !== actual) return null;
  }
  return params;
}

export function findRoute(routes: readonly RouteDef[], method: string, segments: readonly string[]): { route: RouteDef; params: Record<string, string> } | null {
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchSegments(route.pattern, segments);
    if (params) return { route, params };
  }
  return null;
}

/** What a matcher sees: enough to pick "the next message post in channel X" or "any PATCH". */
export interface RequestInfo {
  method: string;
  /** Decoded, without `/api/v10`: `/webhooks/1/tok/messages/@original`. */
  path: string;
  /** The twin's route template, `POST /channels/:channelId/messages`, or null for unknown routes. */
  route: string | null;
}

/**
 * `'POST /channels/:id/messages'` (`:x` and `*` match any one segment; the method may be left out or be `*`),
 * a RegExp tested against `'POST /channels/123/messages'`, or a predicate.
 */
export type RouteMatcher = string | RegExp | ((request: RequestInfo) => boolean);

export function matchesRequest(matcher: RouteMatcher, request: RequestInfo): boolean {
  if (typeof matcher === 'function') return matcher(request);
  const line = `${request.method} ${request.path}`;
  if (matcher instanceof RegExp) return matcher.test(line);
  const trimmed = matcher.trim();
  if (trimmed === '*') return true;
  const space = trimmed.indexOf(' ');
  const method = space === -1 ? '*' : trimmed.slice(0, space).toUpperCase();
  const pattern = space === -1 ? trimmed : trimmed.slice(space + 1).trim();
  if (method !== '*' && method !== request.method) return false;
  return matchSegments(pattern, splitPath(request.path)) !== null;
}

export function describeMatcher(matcher: RouteMatcher): string {
  return typeof matcher === 'function' ? '<predicate>' : String(matcher);
}
