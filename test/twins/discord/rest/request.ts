import type { IncomingMessage } from 'node:http';

/**
 * Reads a REST request the way Discord accepts it: a JSON body, or multipart/form-data with `payload_json` plus
 * `files[n]` parts (what @discordjs/rest sends when a message has attachments).
 */

export interface UploadedFile {
  /** The form field, `files[0]` as @discordjs/rest names them. */
  field: string;
  /** n of `files[n]`, which the body's `attachments[].id` refers to. */
  index: number | null;
  filename: string;
  contentType: string | undefined;
  bytes: Buffer;
}

export interface ParsedBody {
  json: unknown;
  files: UploadedFile[];
}

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class BodyParseError extends Error {
  override name = 'BodyParseError';
}

export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  if (raw.length === 0) return { json: undefined, files: [] };
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return parseMultipart(raw, contentType!);
  try {
    return { json: JSON.parse(raw.toString('utf8')), files: [] };
  } catch {
    throw new BodyParseError('The request body contains invalid JSON.');
  }
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<ParsedBody> {
  // undici's Response already implements a spec-compliant multipart parser; no dependency needed.
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  let json: unknown;
  const files: UploadedFile[] = [];
  for (const [field, value] of form) {
    if (typeof value === 'string') {
      if (field === 'payload_json') json = JSON.parse(value);
      continue;
    }
    const index = /^files\[(\d+)\]$/.exec(field)?.[1];
    files.push({
      field,
      index: index === undefined ? null : Number(index),
      filename: value.name,
      contentType: value.type || undefined,
      bytes: Buffer.from(await value.arrayBuffer()),
    });
  }
  return { json, files };
}
