import { RequestError, TimeoutError } from 'got';
import { SwitchboardError } from '../errors.js';
import { errorBodySchema } from './schemas.js';

/** Reads a message out of either error shape the server uses (`{name,data:{message}}` or `{_tag,message}`). */
export function messageOfErrorBody(body: string): string | undefined {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(body));
    if (!parsed.success) return undefined;
    const value = parsed.data;
    return value.data?.message ?? value.message ?? value._tag ?? value.name;
  } catch {
    return undefined;
  }
}

/** A server that answers with a redirect: never followed (it could point anywhere, metadata included). */
export function redirectError(label: string, statusCode: number): SwitchboardError {
  return new SwitchboardError('not_opencode', `${label} redirects (${statusCode}); it does not look like an OpenCode server`);
}

/** The connection guard's refusal, when it is what ended a request (got wraps it in a RequestError). */
export function guardRefusal(label: string, error: unknown): SwitchboardError | undefined {
  const refusal = error instanceof SwitchboardError ? error : (error as { cause?: unknown } | undefined)?.cause;
  if (!(refusal instanceof SwitchboardError) || refusal.code !== 'forbidden') return undefined;
  return new SwitchboardError('forbidden', `server ${label}: ${refusal.message}`, { cause: refusal, ...(refusal.hint ? { hint: refusal.hint } : {}) });
}

/** Maps a transport failure to a message that says which server and what went wrong. */
export function transportError(label: string, error: unknown, timeoutMs: number): SwitchboardError {
  const refused = guardRefusal(label, error);
  if (refused) return refused;
  if (error instanceof TimeoutError) {
    return new SwitchboardError('timeout', `server ${label} did not answer within ${Math.round(timeoutMs / 1000)} s`, {
      cause: error,
    });
  }
  const code = error instanceof RequestError ? error.code : (error as { code?: string } | undefined)?.code;
  const reason: Record<string, string> = {
    ECONNREFUSED: 'refused the connection (is `opencode serve` running there?)',
    ENOTFOUND: 'cannot be found (unknown host)',
    EAI_AGAIN: 'cannot be found (DNS lookup failed)',
    EHOSTUNREACH: 'is unreachable (no route to host)',
    ENETUNREACH: 'is unreachable (network unreachable)',
    ECONNRESET: 'dropped the connection',
    EPIPE: 'dropped the connection',
    ETIMEDOUT: `did not answer within ${Math.round(timeoutMs / 1000)} s`,
    EPROTO: 'did not speak the expected protocol (https to an http port?)',
  };
  const explained = code ? reason[code] : undefined;
  if (code === 'ETIMEDOUT') return new SwitchboardError('timeout', `server ${label} ${explained}`, { cause: error });
  return new SwitchboardError(
    'unreachable',
    `server ${label} ${explained ?? `is unreachable (${code ?? (error instanceof Error ? error.message : 'unknown error')})`}`,
    { cause: error },
  );
}
