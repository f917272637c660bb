import { SwitchboardError } from '../errors.js';
import { bareMime, formatSize, mimeAllowed, type FileLimits } from './limits.js';
import { refuseNul, uniqueFileNames } from './names.js';

/**
 * A file attached to a command, as an adapter saw it: the platform's name, declared size and type, and where
 * to fetch the bytes. Platform-neutral: Slack's `url_private_download` (with the bot token) and Discord's
 * attachment URL both fit.
 */
export interface InboundFile {
  readonly name: string;
  /** As declared by the platform; the download is held to the limit whatever it says. */
  readonly size: number;
  /** As declared (`image/png`); '' when the platform gave none (the name's extension decides then). */
  readonly mimeType: string;
  readonly url: string;
  /** The `authorization` header for the download (Slack: `Bearer xoxb-…`): not enumerable, so never logged. */
  readonly authorization?: string;
}

/** An InboundFile whose authorization header stays out of logs and JSON. */
export function inboundFile(fields: Omit<InboundFile, 'authorization'>, authorization?: string): InboundFile {
  const file = { ...fields };
  if (authorization !== undefined) Object.defineProperty(file, 'authorization', { value: authorization, enumerable: false });
  return file;
}

/** A file downloaded within the limits, under a safe name, ready to hand to an agent. */
export interface AttachedFile {
  /** Safe basename (names.ts), unique within the prompt. */
  name: string;
  size: number;
  mimeType: string;
  data: Buffer;
}

export type FetchFile = (url: string, init: { headers: Record<string, string>; signal: AbortSignal; redirect: 'follow' }) => Promise<Response>;

const BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  pdf: 'application/pdf',
};

/** The declared type, or one from the extension, or application/octet-stream. */
export function typeOf(file: Pick<InboundFile, 'name' | 'mimeType'>): string {
  const declared = bareMime(file.mimeType);
  if (declared) return declared;
  const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase();
  return (ext && BY_EXTENSION[ext]) ?? 'application/octet-stream';
}

/** `a.png (12 KB, image/png)`. */
export function describeFile(file: Pick<AttachedFile, 'name' | 'size' | 'mimeType'>): string {
  return `${file.name} (${formatSize(file.size)}, ${file.mimeType})`;
}

const shown = (name: string) => JSON.stringify(name.length > 60 ? `${name.slice(0, 59)}…` : name);

/**
 * What can be said before downloading anything: how many, each one's declared size and type. Throws the
 * refusal (nothing is fetched, nothing sent).
 */
export function checkFiles(files: readonly InboundFile[], limits: FileLimits): void {
  if (files.length > limits.maxFiles) {
    throw new SwitchboardError('file_refused', `${files.length} files attached; at most ${limits.maxFiles} may go with one prompt. Nothing was sent`, {
      hint: 'attach fewer files, or send them in several prompts',
    });
  }
  for (const file of files) {
    refuseNul(file.name);
    if (file.size > limits.maxBytes) {
      throw new SwitchboardError('file_refused', `${shown(file.name)} is ${formatSize(file.size)}; the limit is ${formatSize(limits.maxBytes)} a file. Nothing was sent`, {
        hint: 'attach a smaller file (or raise files.maxBytes in switchboard.yaml)',
      });
    }
    const type = typeOf(file);
    if (!mimeAllowed(type, limits.types)) {
      throw new SwitchboardError('file_refused', `${shown(file.name)} is ${type}, which may not be attached. Nothing was sent`, {
        hint: `allowed: ${limits.types.join(', ')} (files.types in switchboard.yaml)`,
      });
    }
  }
}

const DOWNLOAD_TIMEOUT_MS = 60_000;

/**
 * Fetches every file within the limits, checked again while the bytes arrive: a download that goes past
 * `maxBytes` (whatever was declared) is cut off there. Any failure refuses the whole set.
 */
export async function downloadFiles(files: readonly InboundFile[], limits: FileLimits, fetchFile: FetchFile = fetch): Promise<AttachedFile[]> {
  checkFiles(files, limits);
  const names = uniqueFileNames(files.map((f) => f.name));
  return Promise.all(files.map((file, i) => downloadOne(file, names[i]!, limits, fetchFile)));
}

async function downloadOne(file: InboundFile, name: string, limits: FileLimits, fetchFile: FetchFile): Promise<AttachedFile> {
  const failed = (why: string, cause?: unknown) =>
    new SwitchboardError('file_download_failed', `could not download ${shown(file.name)} (${why}). Nothing was sent`, cause === undefined ? {} : { cause });
  const tooBig = () =>
    new SwitchboardError('file_refused', `${shown(file.name)} is larger than the limit of ${formatSize(limits.maxBytes)} a file. Nothing was sent`, {
      hint: 'attach a smaller file (or raise files.maxBytes in switchboard.yaml)',
    });
  if (!file.url) throw failed('the platform gave no link to download it from');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timed out')), DOWNLOAD_TIMEOUT_MS);
  timer.unref?.();
  try {
    let response: Response;
    try {
      response = await fetchFile(file.url, {
        headers: file.authorization ? { authorization: file.authorization } : {},
        signal: controller.signal,
        redirect: 'follow',
      });
    } catch (error) {
      throw failed(error instanceof Error && error.message ? error.message : 'network error', error);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw failed(`HTTP ${response.status}${response.status === 401 || response.status === 403 ? ': not allowed to read it' : ''}`);
    }
    const type = typeOf(file);
    const served = bareMime(response.headers.get('content-type') ?? '');
    // Slack answers a token without files:read with its sign-in page, 200 and all.
    if (served === 'text/html' && type !== 'text/html') {
      await response.body?.cancel().catch(() => undefined);
      throw failed('the platform sent a web page instead of the file; does the bot have permission to read files (Slack: files:read)?');
    }
    const length = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(length) && length > limits.maxBytes) {
      controller.abort();
      throw tooBig();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        let step: Awaited<ReturnType<typeof reader.read>>;
        try {
          step = await reader.read();
        } catch (error) {
          throw failed(error instanceof Error && error.message ? error.message : 'the download broke off', error);
        }
        if (step.done) break;
        size += step.value.byteLength;
        if (size > limits.maxBytes) {
          controller.abort();
          await reader.cancel().catch(() => undefined);
          throw tooBig();
        }
        chunks.push(Buffer.from(step.value));
      }
    }
    return { name, size, mimeType: type, data: Buffer.concat(chunks, size) };
  } finally {
    clearTimeout(timer);
  }
}

/** `data:image/png;base64,…`: how a file travels in an OpenCode prompt. */
export function dataUrl(file: Pick<AttachedFile, 'mimeType' | 'data'>): string {
  return `data:${file.mimeType};base64,${file.data.toString('base64')}`;
}
