import { request } from 'node:http';
import { isRecord } from './limits.js';
import { slackSignatureHeaders, type Signing } from './signing.js';
import type { SocketModeServer } from './socket-mode.js';
import type { Ack, Block, Via } from './types.js';
import type { EventRetries } from './event-retries.js';

/**
 * Gets a payload to the app the way Slack would: a signed POST to the events URL, or an envelope over the
 * Socket Mode connection. Either way the result is the app's ack, normalised into one `Ack` shape.
 */
export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

/** `auto` uses the socket when an app is connected, otherwise the events URL. */
export type ViaOption = Via | 'auto';

export interface DeliveryOptions {
  readonly via?: ViaOption;
  /** Tamper with the HTTP signature to prove the app rejects it (HTTP only). */
  readonly signing?: Signing;
}

export interface DeliveryDeps {
  readonly signingSecret: string;
  readonly socket: SocketModeServer;
  eventsUrl(): string | undefined;
  now(): number;
  readonly httpTimeoutMs: number;
  /** Events API over HTTP: Slack's deadline and retries. */
  readonly eventRetries: EventRetries;
}

export class Delivery {
  constructor(private readonly deps: DeliveryDeps) {}

  resolveVia(via: ViaOption = 'auto'): Via {
    if (via !== 'auto') return via;
    if (this.deps.socket.connectionCount > 0) return 'socket';
    if (this.deps.eventsUrl()) return 'http';
    throw new Error('Nowhere to deliver: call slack.setEventsUrl(url) or start a Bolt App with socketMode: true');
  }

  async deliver(type: EnvelopeType, payload: Record<string, unknown>, via: Via, signing: Signing = 'valid'): Promise<Ack> {
    if (via === 'socket') {
      if (signing !== 'valid') throw new Error('Signatures only exist over HTTP; use via: "http" to tamper with them');
      return ackFromSocket(await this.deps.socket.deliver(type, payload));
    }
    const url = this.deps.eventsUrl();
    if (!url) throw new Error('No events URL: call slack.setEventsUrl(url) before delivering over HTTP');
    const { body, contentType } = encodeForHttp(type, payload);
    // A forged request is the test's, not Slack's: Slack retries only what it sent itself.
    if (type === 'events_api' && signing === 'valid') {
      const answer = await this.deps.eventRetries.deliver(String(payload['event_id']), (retryHeaders, deadlineMs) =>
        // Read again for each attempt: the app may have come back on another port (a restart in a test).
        httpPost(this.deps.eventsUrl() ?? url, body, { ...this.signedHeaders(body, contentType, signing), ...retryHeaders }, deadlineMs).catch((error: unknown) => {
          if (error instanceof DeadlineError) return undefined;
          throw error;
        }),
      );
      return answer ? ackFromHttp(answer.status, answer.contentType, answer.text) : describeAck('http', 0, undefined);
    }
    return this.postSigned(url, body, contentType, signing);
  }

  private signedHeaders(body: string, contentType: string, signing: Signing): Record<string, string> {
    return { 'content-type': contentType, ...slackSignatureHeaders(this.deps.signingSecret, body, this.deps.now(), signing) };
  }

  /** A signed POST of an arbitrary body, for tests of the receiver itself. */
  async postSigned(url: string, body: string, contentType: string, signing: Signing = 'valid'): Promise<Ack> {
    const response = await httpPost(url, body, this.signedHeaders(body, contentType, signing), this.deps.httpTimeoutMs);
    return ackFromHttp(response.status, response.contentType, response.text);
  }
}

/** Commands are form fields, interactive payloads a form field holding JSON, events a JSON body. */
export function encodeForHttp(type: EnvelopeType, payload: Record<string, unknown>): { body: string; contentType: string } {
  const form = 'application/x-www-form-urlencoded';
  switch (type) {
    case 'slash_commands': {
      const fields = Object.entries(payload).map(([k, v]) => [k, String(v)] as [string, string]);
      return { body: new URLSearchParams(fields).toString(), contentType: form };
    }
    case 'interactive':
      return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: form };
    case 'events_api':
      return { body: JSON.stringify(payload), contentType: 'application/json' };
  }
}

interface HttpResult {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/** node:http with no agent: each request gets its own connection, so Bolt's server can close without waiting. */
function httpPost(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    // A deadline from the moment of sending, as Slack counts its 3 s; not an idle timeout.
    const timer = setTimeout(() => req.destroy(new DeadlineError(`No HTTP response from ${url} within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(body);
  });
}

class DeadlineError extends Error {
  override name = 'DeadlineError';
}

export function ackFromHttp(status: number, contentType: string, text: string): Ack {
  let body: unknown = text === '' ? undefined : text;
  if (text !== '' && contentType.includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      // Keep the text; a receiver that claims JSON and sends something else is worth seeing as-is.
    }
  }
  return describeAck('http', status, body);
}

/** Bolt's socket receiver sends `ack('x')` as `{text:'x'}` and `ack()` as `{}`; both map onto the HTTP shape. */
export function ackFromSocket(payload: Record<string, unknown>): Ack {
  return describeAck('socket', 200, Object.keys(payload).length === 0 ? undefined : payload);
}

function describeAck(via: Via, status: number, body: unknown): Ack {
  const obj = isRecord(body) ? body : undefined;
  const text = typeof body === 'string' ? body : typeof obj?.['text'] === 'string' ? obj['text'] : undefined;
  return Object.freeze({
    via,
    status,
    body,
    text,
    blocks: Array.isArray(obj?.['blocks']) ? (obj['blocks'] as Block[]) : undefined,
    responseType: typeof obj?.['response_type'] === 'string' ? obj['response_type'] : undefined,
    empty: body === undefined,
  });
}
