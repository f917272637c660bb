import type { IncomingMessage } from 'node:http';

/**
 * Reads what clients send to Slack. @slack/web-api sends form-urlencoded bodies with non-scalars JSON-encoded,
 * multipart when a Buffer is involved (file bytes), and other clients send JSON; all three end up as one record.
 */
export type FieldValue = string | Buffer;

export interface ParsedBody {
  readonly raw: Buffer;
  readonly contentType: string;
  /** Scalars stay strings (form encoding has no types); JSON bodies keep their values. */
  readonly fields: Record<string, unknown>;
}

export async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function parseBody(req: IncomingMessage, raw: Buffer): Promise<ParsedBody> {
  const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
  const url = new URL(req.url ?? '/', 'http://twin.invalid');
  const fields: Record<string, unknown> = Object.fromEntries(url.searchParams);

  if (contentType.startsWith('application/json')) {
    const text = raw.toString('utf8');
    if (text.trim() !== '') {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(fields, parsed);
      else throw new SyntaxError('JSON body must be an object');
    }
  } else if (contentType.startsWith('multipart/form-data')) {
    Object.assign(fields, await parseMultipart(contentType, raw));
  } else if (raw.length > 0) {
    // Slack treats a missing content type as form encoding, and so does web-api's serializer.
    Object.assign(fields, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
  }
  return { raw, contentType, fields };
}

/** undici (Node's fetch) already parses multipart; borrowing its Request avoids a hand-written parser. */
async function parseMultipart(contentType: string, raw: Buffer): Promise<Record<string, FieldValue>> {
  const request = new Request('http://twin.invalid/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: raw,
  });
  const form = await request.formData();
  const out: Record<string, FieldValue> = {};
  for (const [key, value] of form.entries()) {
    out[key] = typeof value === 'string' ? value : Buffer.from(await value.arrayBuffer());
  }
  return out;
}

/** Fields web-api JSON-encodes because they are arrays or objects. Only these are decoded, so a `text` that
 * happens to start with `[` stays text. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'files', 'user_auth_blocks', 'payload']);

export type DecodeResult =
  | { readonly ok: true; readonly args: Record<string, unknown> }
  | { readonly ok: false; readonly field: string; readonly reason: string };

export function decodeJsonFields(fields: Record<string, unknown>): DecodeResult {
  const args: Record<string, unknown> = { ...fields };
  for (const key of JSON_FIELDS) {
    const value = args[key];
    if (typeof value !== 'string') continue;
    try {
      args[key] = JSON.parse(value);
    } catch (error) {
      return { ok: false, field: key, reason: error instanceof Error ? error.message : String(error) };
    }
  }
  return { ok: true, args };
}
