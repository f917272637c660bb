import got, { type Got, type Method } from 'got';
import { z } from 'zod';
import { SwitchboardError } from '../errors.js';
import { basicAuthorization } from './basic-auth.js';
import { messageOfErrorBody, redirectError, transportError } from './client-errors.js';
import { strictConnectionGuard, type ConnectionGuard } from './connection-guard.js';
import {
  agentSchema,
  healthSchema,
  messageSchema,
  permissionSchema,
  providersSchema,
  questionSchema,
  sessionSchema,
  statusMapSchema,
  todoSchema,
} from './schemas.js';
import type { ServerRef } from './server-ref.js';

export interface OpencodeClientOptions {
  /** Per-request budget for ordinary calls. */
  timeoutMs?: number;
  /** Checks the address of every connection (default: system DNS, metadata addresses refused). */
  guard?: ConnectionGuard;
  /**
   * Keep connections open between calls (default). A one-shot client (a managed server's health check) passes
   * false, so no idle socket outlives its call and holds the tunnel open.
   */
  keepAlive?: boolean;
}

export interface PromptInput {
  text: string;
  agent?: string;
  /** `provider/model`; the server remembers the last model per session, so Switchboard always sends its own. */
  model?: string;
  /** Files that go with the prompt, as the API's `file` parts (after the text): a `data:` URL each. */
  files?: readonly { mime: string; url: string; filename: string }[];
}

interface CallOptions {
  searchParams?: Record<string, string | number>;
  json?: unknown;
  /** 204 No Content is the success reply (prompt_async). */
  empty?: boolean;
}

export type OpencodeClient = ReturnType<typeof createOpencodeClient>;

/**
 * A typed client for the classic OpenCode routes. Every reply is validated; every failure becomes a
 * SwitchboardError naming the server. Retries happen only for GETs and only on transient network errors,
 * since a retried POST could send a prompt twice.
 */
export function createOpencodeClient(server: ServerRef, options: OpencodeClientOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const authorization = basicAuthorization(server);
  const http: Got = got.extend({
    prefixUrl: `${server.url}/`,
    agent: (options.guard ?? strictConnectionGuard).agents({ keepAlive: options.keepAlive ?? true, maxSockets: 16 }),
    timeout: { connect: Math.min(timeoutMs, 5_000), request: timeoutMs },
    retry: {
      limit: 1,
      methods: ['GET'],
      statusCodes: [502, 503, 504],
      errorCodes: ['ECONNRESET', 'EPIPE', 'EAI_AGAIN'],
      backoffLimit: 300,
    },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    headers: authorization ? { authorization, accept: 'application/json' } : { accept: 'application/json' },
  });

  async function call<T>(method: Method, path: string, schema: z.ZodType<T>, callOptions: CallOptions = {}): Promise<T> {
    let response;
    try {
      response = await http(path, {
        method,
        ...(callOptions.searchParams ? { searchParams: callOptions.searchParams } : {}),
        ...(callOptions.json !== undefined ? { json: callOptions.json } : {}),
      });
    } catch (error) {
      throw transportError(server.label, error, timeoutMs);
    }
    const { statusCode } = response;
    const body = response.body;
    if (statusCode === 401 || statusCode === 403) {
      throw new SwitchboardError('auth_failed', `authentication failed for server ${server.label}`, {
        hint: server.password
          ? 'check the password variable named by `passwordEnv` (and `username`) in switchboard.yaml'
          : 'this server needs a password: name it in switchboard.yaml with `passwordEnv`',
      });
    }
    if (statusCode >= 300 && statusCode < 400) {
      throw redirectError(server.label, statusCode);
    }
    if (statusCode >= 400) {
      const message = messageOfErrorBody(body) ?? `HTTP ${statusCode}`;
      if (statusCode === 404 && /session not found/i.test(message)) {
        throw new SwitchboardError('session_gone', message);
      }
      if (statusCode === 404 && !messageOfErrorBody(body)) {
        throw new SwitchboardError('not_opencode', `${server.label} answers, but not as an OpenCode server (404 on ${path})`);
      }
      throw new SwitchboardError('opencode_error', `${server.label} said: ${message}`);
    }
    if (callOptions.empty) {
      if (statusCode === 204 || body.trim() === '' || body.trim() === 'true') return undefined as T;
    }
    const contentType = String(response.headers['content-type'] ?? '');
    if (!contentType.includes('application/json')) {
      // Unknown routes answer 200 with the web UI: that is "not OpenCode", not success.
      throw new SwitchboardError(
        'not_opencode',
        `${server.label} answers, but not as an OpenCode server (got ${contentType.split(';')[0] || 'no content type'} for ${path})`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new SwitchboardError('not_opencode', `${server.label} sent invalid JSON for ${path}`, { cause: error });
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new SwitchboardError(
        'not_opencode',
        `unexpected reply from ${server.label} to ${method} /${path}: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}`,
        { cause: result.error },
      );
    }
    return result.data;
  }

  const withDir = (directory: string | undefined, extra: Record<string, string | number> = {}) => {
    const params = { ...extra, ...(directory ? { directory } : {}) };
    return Object.keys(params).length > 0 ? { searchParams: params } : {};
  };
  const sessionPath = (id: string, rest = '') => `session/${encodeURIComponent(id)}${rest}`;
  const promptBody = (input: PromptInput) => {
    const files = (input.files ?? []).map((f) => ({ type: 'file', mime: f.mime, url: f.url, filename: f.filename }));
    const body: Record<string, unknown> = { parts: [{ type: 'text', text: input.text }, ...files] };
    if (input.agent) body.agent = input.agent;
    if (input.model) {
      const [providerID, ...rest] = input.model.split('/');
      body.model = { providerID, modelID: rest.join('/') };
    }
    return body;
  };

  return {
    server,
    health: () => call('GET', 'global/health', healthSchema),
    agents: () => call('GET', 'agent', z.array(agentSchema)),
    providers: () => call('GET', 'config/providers', providersSchema),
    createSession: (input: { directory?: string; title?: string; agent?: string }) =>
      call('POST', 'session', sessionSchema, {
        ...withDir(input.directory),
        json: { ...(input.title ? { title: input.title } : {}), ...(input.agent ? { agent: input.agent } : {}) },
      }),
    getSession: (id: string) => call('GET', sessionPath(id), sessionSchema),
    listSessions: (input: { directory?: string; limit?: number } = {}) =>
      call('GET', 'session', z.array(sessionSchema), withDir(input.directory, input.limit ? { limit: input.limit } : {})),
    messages: (id: string, input: { limit?: number } = {}) =>
      call('GET', sessionPath(id, '/message'), z.array(messageSchema), input.limit ? { searchParams: { limit: input.limit } } : {}),
    promptAsync: (id: string, input: PromptInput) =>
      call('POST', sessionPath(id, '/prompt_async'), z.unknown(), { json: promptBody(input), empty: true }),
    todo: (id: string) => call('GET', sessionPath(id, '/todo'), z.array(todoSchema)),
    /** Busy sessions of one directory's instance. Idle sessions are absent. */
    status: (directory?: string) => call('GET', 'session/status', statusMapSchema, withDir(directory)),
    abort: (id: string) => call('POST', sessionPath(id, '/abort'), z.unknown()),
    permissions: (directory?: string) => call('GET', 'permission', z.array(permissionSchema), withDir(directory)),
    replyPermission: (requestId: string, directory: string | undefined, reply: 'once' | 'always' | 'reject', message?: string) =>
      call('POST', `permission/${encodeURIComponent(requestId)}/reply`, z.unknown(), {
        ...withDir(directory),
        json: { reply, ...(message ? { message } : {}) },
      }),
    questions: (directory?: string) => call('GET', 'question', z.array(questionSchema), withDir(directory)),
    replyQuestion: (requestId: string, directory: string | undefined, answers: string[][]) =>
      call('POST', `question/${encodeURIComponent(requestId)}/reply`, z.unknown(), { ...withDir(directory), json: { answers } }),
    rejectQuestion: (requestId: string, directory: string | undefined) =>
      call('POST', `question/${encodeURIComponent(requestId)}/reject`, z.unknown(), withDir(directory)),
    /** For the event stream, which needs the raw got instance and the same auth. */
    authorizationHeader: () => authorization,
  };
}
