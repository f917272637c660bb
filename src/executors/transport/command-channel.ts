import { SwitchboardError } from '../../errors.js';
import type { ExecResult } from './transport.js';
import { bash } from '../protocol/script.js';

/**
 * Many scripts over one long-lived SSH exec channel. Every new exec channel costs a session setup plus the
 * remote login shell reading its rc files: 0.5–1 s per exec measured here (pyenv in .bashrc), several seconds
 * on a busy host. This channel runs one small bash loop once; each request runs as its own `bash -c` child
 * (its own state, stdin from /dev/null), so a script behaves as under a fresh exec, for ~50 ms.
 *
 * Wire format, one line each way. Request: `<id> <base64 of script NUL arg1 NUL … NUL>`. Response:
 * `<id> <exit code> <base64 stdout> <base64 stderr>`. Requests run one at a time, in order.
 * Nothing a task does goes through here: tasks live in tmux, started detached.
 */
export const COMMAND_SERVER_SCRIPT = bash`
set -u
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
while IFS=' ' read -r id payload; do
  base64 -d <<< "$payload" > "$tmp/req" || { printf '%s 125  \n' "$id"; continue; }
  mapfile -d '' -t req < "$tmp/req"
  bash --norc -c "\${req[0]}" bash "\${req[@]:1}" < /dev/null > "$tmp/out" 2> "$tmp/err"
  code=$?
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

export interface CommandChannel {
  run(script: string, args: readonly string[], timeoutMs: number): Promise<ExecResult>;
  readonly closed: boolean;
  close(): void;
}

interface Pending {
  resolve(result: ExecResult): void;
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
      p.resolve({
        code: Number(code),
        stdout: Buffer.from(out ?? '', 'base64').toString('utf8'),
        stderr: Buffer.from(err ?? '', 'base64').toString('utf8'),
      });
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
    run(script, args, timeoutMs) {
      if (closed) return Promise.reject(new SwitchboardError('executor_unreachable', `${label}: the command channel is closed`));
      const id = nextId++;
      const payload = Buffer.from([script, ...args].map((part) => `${part}\0`).join(''), 'utf8').toString('base64');
      return new Promise<ExecResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new SwitchboardError('timeout', `${label}: a command took longer than ${timeoutMs} ms`));
          // The loop is stuck behind that script: drop the channel; the next request opens a new one.
          channel.close();
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        stream.write(`${id} ${payload}\n`);
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
