import { decodeJsonFields } from './request-body.js';
import { deleteMessage, postEphemeral, postMessage, update } from './methods/chat.js';
import { fail, type MethodContext, type MethodHandler, type MethodOutcome } from './methods/context.js';
import { completeUploadExternal, getUploadUrlExternal } from './methods/files.js';
import { appsConnectionsOpen, authTest, conversationsInfo, usersInfo } from './methods/info.js';
import type { ApiOutcome } from './types.js';

/**
 * The `/api/<method>` dispatcher: authenticate, apply injected failures, decode, run the handler, record the call.
 * Every attempt is recorded, including 429s and rejected content, so tests can assert order and retries.
 */
type TokenKind = 'bot' | 'app';

interface MethodSpec {
  readonly handler: MethodHandler;
  readonly token: TokenKind;
}

const METHODS: Readonly<Record<string, MethodSpec>> = {
  'auth.test': { handler: authTest, token: 'bot' },
  'chat.postMessage': { handler: postMessage, token: 'bot' },
  'chat.update': { handler: update, token: 'bot' },
  'chat.delete': { handler: deleteMessage, token: 'bot' },
  'chat.postEphemeral': { handler: postEphemeral, token: 'bot' },
  'conversations.info': { handler: conversationsInfo, token: 'bot' },
  'users.info': { handler: usersInfo, token: 'bot' },
  'files.getUploadURLExternal': { handler: getUploadUrlExternal, token: 'bot' },
  'files.completeUploadExternal': { handler: completeUploadExternal, token: 'bot' },
  'apps.connections.open': { handler: appsConnectionsOpen, token: 'app' },
};

export interface ApiRequest {
  readonly method: string;
  readonly fields: Record<string, unknown>;
  readonly authorization: string | undefined;
}

export interface ApiReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

export interface WebApiDeps extends MethodContext {
  readonly tokens: { readonly bot: string; readonly app: string };
}

export function handleApiRequest(deps: WebApiDeps, request: ApiRequest): ApiReply {
  const { method, fields } = request;
  const bearer = request.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? (typeof fields['token'] === 'string' ? fields['token'] : undefined);
  const { token: _token, ...argsWithoutToken } = fields;

  const outcome = run(deps, method, token, argsWithoutToken);
  const decoded = decodeJsonFields(argsWithoutToken);
  const args = decoded.ok ? decoded.args : argsWithoutToken;
  const reply = toReply(outcome);
  deps.state.addApiCall({
    at: deps.now(),
    method,
    args,
    token,
    outcome: outcomeKind(outcome, reply.status),
    status: reply.status,
    error: outcome.kind === 'error' ? outcome.error : outcome.kind === 'rate_limited' ? 'ratelimited' : undefined,
    retryAfterSec: outcome.kind === 'rate_limited' ? outcome.retryAfterSec : undefined,
    response: reply.body,
  });
  return reply;
}

/** A 429 or 5xx the test injected with failNext, carried through as an outcome with its HTTP status. */
type RunOutcome = MethodOutcome | { readonly kind: 'http_error'; readonly status: number };

function run(deps: WebApiDeps, method: string, token: string | undefined, args: Record<string, unknown>): RunOutcome {
  const spec = METHODS[method];
  const expected = spec?.token === 'app' ? deps.tokens.app : deps.tokens.bot;
  if (token === undefined) return fail('not_authed');
  // An unknown method still needs some valid token, as on Slack, so a typo is reported as such.
  if (spec ? token !== expected : token !== deps.tokens.bot && token !== deps.tokens.app) return fail('invalid_auth');

  const injected = deps.limiter.takeFailure(method);
  if (injected) {
    if (injected.error !== undefined) return fail(injected.error);
    if (injected.status === 429) return { kind: 'rate_limited', retryAfterSec: injected.retryAfterSec ?? 1 };
    return { kind: 'http_error', status: injected.status };
  }
  if (!spec) return fail('unknown_method');

  const decoded = decodeJsonFields(args);
  if (!decoded.ok) {
    const error = decoded.field === 'blocks' ? 'invalid_blocks_format' : 'invalid_arguments';
    return fail(error, [`[ERROR] ${decoded.reason} [json-pointer:/${decoded.field}]`]);
  }
  return spec.handler(decoded.args, deps);
}

function toReply(outcome: RunOutcome): ApiReply {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  switch (outcome.kind) {
    case 'ok':
      return { status: 200, headers: json, body: { ok: true, ...outcome.body } };
    case 'error':
      return {
        status: 200,
        headers: json,
        body: {
          ok: false,
          error: outcome.error,
          ...(outcome.messages.length > 0 ? { response_metadata: { messages: outcome.messages } } : {}),
        },
      };
    case 'rate_limited':
      return {
        status: 429,
        headers: { ...json, 'retry-after': String(outcome.retryAfterSec) },
        body: { ok: false, error: 'ratelimited' },
      };
    case 'http_error':
      return { status: outcome.status, headers: json, body: { ok: false, error: 'internal_error' } };
  }
}

function outcomeKind(outcome: RunOutcome, status: number): ApiOutcome {
  if (outcome.kind === 'ok') return 'ok';
  if (outcome.kind === 'rate_limited' || status === 429) return 'rate_limited';
  if (outcome.kind === 'http_error') return 'http_error';
  return 'error';
}
