import { SwitchboardError } from '../../errors.js';
import type { ExecResult } from './transport.js';
import { bash } from '../protocol/script.js';

/**
 * Many scripts over one long-lived SSH exec channel. Every new exec channel costs a session setup plus the
 * remote login shell reading its rc files: 0.5–1 s per exec measured here (pyenv in .bashrc), several seconds
 * on a busy host. This channel runs one small bash loop once; each request runs as its own `bash -c` child
 * (its own state and stdin), so a script behaves as under a fresh exec, for ~50 ms.
 *
 * Wire format, one line each way. Request: `<id> <base64 of script NUL arg1 NUL … NUL> [<base64 stdin>]`.
 * Response: `<id> <exit code> <base64 stdout> <base64 stderr>`. Requests run one at a time, in order. A script's
 * stdin is /dev/null, or the request's bytes from a file in the loop's private (0700) directory: small file
 * uploads go this way on hosts without SFTP, never through a command line.
 * Nothing a task does goes through here: tasks live in tmux, started detached.
 */
export const COMMAND_SERVER_SCRIPT = bash`
set -u
# mktemp -d makes it 0700: what lands in it (a request's stdin) is private whatever the umask.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
while IFS=' ' read -r id payload input; do
  base64 -d <<< "$payload" > "$tmp/req" || { printf '%s 125  \n' "$id"; continue; }
  mapfile -d '' -t req < "$tmp/req"
  from=/dev/null
  if [ -n "$input" ]; then
    base64 -d <<< "$input" > "$tmp/in" || { printf '%s 125  \n' "$id"; continue; }
    from=$tmp/in
  fi
  bash --norc -c "\${req[0]}" bash "\${req[@]:1}" < "$from" > "$tmp/out" 2> "$tmp/err"
  code=$?
  rm -f -- "$tmp/in"
  printf '%s %s ' "$id" "$code"
  base64 -w0 < "$tmp/out"
  printf ' '
  base64 -w0 < "$tmp/err"
  printf '\n'
done
`;

/** The parts of an ssh2 channel this needs (also makes it testable with a local child process). */
export interface Duplex {
  write(data: string): unknown;
  end(): unknown;
  close?(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/** What a script printed, as bytes. */
export interface RawResult {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** Requests whose stdin is larger than this go on their own exec channel: bash reads a request line byte by byte. */
export const MAX_CHANNEL_STDIN = 64 * 1024;

export interface CommandChannel {
  run(script: string, args: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /** The same with bytes: stdin (at most MAX_CHANNEL_STDIN) and the raw output. */
  runRaw(script: string, args: readonly string[], timeoutMs: number, stdin?: Buffer): Promise<RawResult>;
  readonly closed: boolean;
  close(): void;
}

interface Pending {
  resolve(result: RawResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export function createCommandChannel(stream: Duplex, label: string): CommandChannel {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let buffer = '';
  let closed = false;

  const failAll = (error: Error) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(error);
    }
  };

  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const [id, code, out, err] = line.split(' ');
      const p = pending.get(Number(id));
      if (!p) continue;
      pending.delete(Number(id));
      clearTimeout(p.timer);
      p.resolve({ code: Number(code), stdout: Buffer.from(out ?? '', 'base64'), stderr: Buffer.from(err ?? '', 'base64') });
    }
  });
  stream.on('close', () => {
    closed = true;
    failAll(new SwitchboardError('executor_unreachable', `${label}: the command channel closed`));
  });

  const channel: CommandChannel = {
    get closed() {
      return closed;
    },
    async run(script, args, timeoutMs) {
      const result = await channel.runRaw(script, args, timeoutMs);
      return { code: result.code, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') };
    },
    runRaw(script, args, timeoutMs, stdin) {
      if (closed) return Promise.reject(new SwitchboardError('executor_unreachable', `${label}: the command channel is closed`));
      const id = nextId++;
      const payload = Buffer.from([script, ...args].map((part) => `${part}\0`).join(''), 'utf8').toString('base64');
      const input = stdin && stdin.length > 0 ? ` ${stdin.toString('base64')}` : '';
      return new Promise<RawResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new SwitchboardError('timeout', `${label}: a command took longer than ${timeoutMs} ms`));
          // The loop is stuck behind that script: drop the channel; the next request opens a new one.
          channel.close();
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        stream.write(`${id} ${payload}${input}\n`);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      failAll(new SwitchboardError('executor_unreachable', `${label}: the command channel was closed`));
      stream.end();
      stream.close?.();
    },
  };
  return channel;
}
