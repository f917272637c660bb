/**
 * How the executor layer reaches a machine: run a bash script, move files, read files. The local machine and an
 * SSH host implement the same interface, so the task protocol is written once.
 *
 * A script is our own static text; values reach it as positional arguments ($1, $2, …), each POSIX-quoted when
 * a command line has to be built. Text that came from a user (prompts, commands) never goes through exec: it
 * travels as a file written with `writeFile` (mode 0600) or on stdin.
 */
export interface Transport {
  /** Says where, for error messages: `local`, `root@10.0.0.5:22`. */
  readonly where: string;
  exec(script: string, options?: ExecOptions): Promise<ExecResult>;
  /** Creates or replaces the file with exactly these bytes and this mode. */
  writeFile(path: string, data: string | Uint8Array, mode: number): Promise<void>;
  /** Null when the file does not exist. */
  readFile(path: string, range?: ReadRange): Promise<ReadResult | null>;
  close(): Promise<void>;
}

export interface ExecOptions {
  /** Positional parameters for the script ($1…). */
  args?: readonly string[];
  stdin?: string | Uint8Array;
  /** The exec fails with a timeout error after this long (default 60 s). */
  timeoutMs?: number;
}

export interface ExecResult {
  /** Exit status; null when the script died from a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Either from an offset (incremental reads) or the last `tailBytes` bytes. */
export interface ReadRange {
  fromOffset?: number;
  tailBytes?: number;
  /** At most this many bytes (default 4 MiB). */
  maxBytes?: number;
}

export interface ReadResult {
  data: Buffer;
  /** The file's size when read, so the caller knows where the next read starts. */
  size: number;
  /** Where `data` starts in the file. */
  offset: number;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_READ = 4 * 1024 * 1024;

/** Which bytes to read, given the file size (shared by every transport). */
export function readWindow(size: number, range: ReadRange = {}): { offset: number; length: number } {
  const max = range.maxBytes ?? DEFAULT_MAX_READ;
  let offset = 0;
  if (range.tailBytes !== undefined) offset = Math.max(0, size - range.tailBytes);
  else if (range.fromOffset !== undefined) offset = Math.min(range.fromOffset, size);
  return { offset, length: Math.max(0, Math.min(size - offset, max)) };
}
