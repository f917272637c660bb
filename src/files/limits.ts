import { z } from 'zod';

/** `10MB`, `512KB`, `1.5MB`, `200B` or a bare byte count; units are powers of 1024. */
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$/i;
const UNIT: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = SIZE.exec(value);
  if (!match) throw new Error(`'${value}' is not a size such as 10MB, 512KB or 2048`);
  return Math.floor(Number(match[1]) * UNIT[(match[2] ?? 'B').toUpperCase()]!);
}

/** `12 KB`, `1.5 MB`, `300 B`: for the echo and messages. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [unit, size] = bytes < 1024 ** 2 ? ['KB', bytes / 1024] : bytes < 1024 ** 3 ? ['MB', bytes / 1024 ** 2] : ['GB', bytes / 1024 ** 3];
  return `${size >= 10 ? Math.round(size) : Math.round(size * 10) / 10} ${unit}`;
}

/** A mime pattern: `image/*`, `text/*`, `application/json`. */
const MIME_PATTERN = /^[a-z0-9][a-z0-9.+-]*\/(\*|[a-z0-9][a-z0-9.+-]*)$/;

/** The media type without parameters, lower case: `text/plain; charset=utf-8` → `text/plain`. */
export function bareMime(mime: string): string {
  return mime.split(';')[0]!.trim().toLowerCase();
}

export function mimeAllowed(mime: string, patterns: readonly string[]): boolean {
  const bare = bareMime(mime);
  return patterns.some((pattern) => (pattern.endsWith('/*') ? bare.startsWith(pattern.slice(0, -1)) : bare === pattern));
}

const size = z.union([z.number().int().min(1), z.string()]).transform((value, ctx) => {
  try {
    const bytes = parseSize(value);
    if (bytes < 1) throw new Error('must be at least 1 byte');
    return bytes;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    return z.NEVER;
  }
});

export const DEFAULT_FILE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/*', 'application/json', 'application/pdf'] as const;

/** `files:` in switchboard.yaml: what may be attached to a prompt. */
export const filesSchema = z
  .strictObject({
    maxBytes: size.default(10 * 1024 * 1024),
    maxFiles: z.number().int().min(0).max(20).default(5),
    types: z.array(z.string().toLowerCase().regex(MIME_PATTERN, 'must be a media type such as image/png, image/* or application/json')).default([...DEFAULT_FILE_TYPES]),
  })
  .default({ maxBytes: 10 * 1024 * 1024, maxFiles: 5, types: [...DEFAULT_FILE_TYPES] });

export type FileLimits = z.infer<typeof filesSchema>;
