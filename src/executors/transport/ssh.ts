import { createHash } from 'node:crypto';
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { SwitchboardError } from '../../errors.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { shellLine } from '../protocol/quote.js';
import { COMMAND_SERVER_SCRIPT, createCommandChannel, type CommandChannel, type Duplex } from './command-channel.js';
import {
  DEFAULT_EXEC_TIMEOUT_MS,
  readWindow,
  type ExecOptions,
  type ExecResult,
  type ReadRange,
  type ReadResult,
  type Transport,
} from './transport.js';

/** Everything needed to reach one host; built by the fleet from an ssh executor's config. */
export interface SshTarget {
  /** The executor's name, for messages. */
  executor: string;
  host: string;
  port: number;
  user: string;
  /** The private key's bytes (the caller read the file), or undefined to use only the agent. */
  privateKey?: Buffer;
  identityFile?: string;
  agentSocket?: string;
  hostKey?: string;
  insecureAcceptNewHostKey: boolean;
  connectTimeoutMs: number;
}

/** Makes the ssh2 client; tests may wrap it. */
export type SshClientFactory = () => Client;

export interface SshTransportDeps {
  clock: Clock;
  logger: Logger;
  createClient?: SshClientFactory;
  keepaliveIntervalMs?: number;
  /** Reconnect backoff: base · 2^(failures-1), capped. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /**
   * Run scripts through one long-lived command channel (default) instead of a new exec channel each: an exec
   * costs a session setup and the login shell's rc files (0.5–1 s measured), a request on the channel ~50 ms.
   */
  commandChannel?: boolean;
}

/** `SHA256:<base64, no padding>` of a host key blob, the form `ssh-keygen -lf` prints. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * One kept-alive SSH connection to one host, opened on first use and reopened with backoff after it drops.
 * Scripts run as `bash -c <script> bash <args…>`, every word POSIX-quoted; files move over one SFTP session.
 */
export function createSshTransport(target: SshTarget, deps: SshTransportDeps): Transport {
  const where = `${target.user}@${target.host}:${target.port}`;
  const label = `ssh executor '${target.executor}' (${where})`;
  const baseMs = deps.reconnectBaseMs ?? 1_000;
  const maxMs = deps.reconnectMaxMs ?? 60_000;

  let client: Client | undefined;
  let connecting: Promise<Client> | undefined;
  let sftp: Promise<SFTPWrapper> | undefined;
  let commands: Promise<CommandChannel> | undefined;
  let failures = 0;
  let retryAt = 0;
  let lastError: SwitchboardError | undefined;
  let closed = false;

  function forget(which: Client): void {
    if (client === which) {
      client = undefined;
      sftp = undefined;
      commands = undefined;
    }
  }

  function connect(): Promise<Client> {
    if (closed) return Promise.reject(new SwitchboardError('executor_unreachable', `${label}: the connection was closed`));
    if (client) return Promise.resolve(client);
    if (connecting) return connecting;
    const now = deps.clock.now();
    if (lastError && now < retryAt) {
      const seconds = Math.ceil((retryAt - now) / 1000);
      return Promise.reject(
        new SwitchboardError(lastError.code, `${lastError.message} (next try in ${seconds} s)`, {
          cause: lastError,
          ...(lastError.hint ? { hint: lastError.hint } : {}),
        }),
      );
    }
    connecting = open().then(
      (ready) => {
        failures = 0;
        lastError = undefined;
        client = ready;
        connecting = undefined;
        return ready;
      },
      (error: SwitchboardError) => {
        failures += 1;
        retryAt = deps.clock.now() + Math.min(maxMs, baseMs * 2 ** (failures - 1));
        lastError = error;
        connecting = undefined;
        throw error;
      },
    );
    return connecting;
  }

  function open(): Promise<Client> {
    return new Promise((resolve, reject) => {
      const candidate = deps.createClient ? deps.createClient() : new Client();
      let seenKey: string | undefined;
      let keyProblem: SwitchboardError | undefined;
      let settled = false;

      const config = connectConfig(target, label, deps.keepaliveIntervalMs ?? 15_000, (fingerprint, problem) => {
        seenKey = fingerprint;
        keyProblem = problem;
      });

      candidate.on('ready', () => {
        settled = true;
        if (!target.hostKey) deps.logger.warn('ssh host key accepted without a pin', { executor: target.executor, fingerprint: seenKey });
        candidate.on('close', () => forget(candidate));
        resolve(candidate);
      });
      candidate.on('error', (error: Error & { level?: string; code?: string }) => {
        if (settled) {
          // After ready: the connection broke. The next use reconnects.
          deps.logger.warn('ssh connection lost', { executor: target.executor, error: error.message });
          forget(candidate);
          return;
        }
        settled = true;
        candidate.end();
        reject(keyProblem ?? describeConnectError(error, label, target));
      });
      candidate.on('close', () => {
        if (settled) return;
        settled = true;
        reject(keyProblem ?? new SwitchboardError('executor_unreachable', `${label}: the connection closed during the handshake`));
      });
      try {
        candidate.connect(config);
      } catch (error) {
        settled = true;
        reject(new SwitchboardError('config_invalid', `${label}: ${(error as Error).message}`, { cause: error }));
      }
    });
  }

  function getSftp(): Promise<SFTPWrapper> {
    if (sftp) return sftp;
    const pending = connect().then(
      (c) =>
        new Promise<SFTPWrapper>((resolve, reject) =>
          c.sftp((error, session) => (error ? reject(wrapIoError(error, label, 'open an SFTP session')) : resolve(session))),
        ),
    );
    sftp = pending;
    pending.catch(() => {
      if (sftp === pending) sftp = undefined;
    });
    return pending;
  }

  function commandChannel(): Promise<CommandChannel> {
    if (commands) return commands;
    const opening = connect().then(
      (c) =>
        new Promise<CommandChannel>((resolve, reject) => {
          c.exec(`exec ${shellLine(['bash', '--norc', '-c', COMMAND_SERVER_SCRIPT])}`, (error: Error | undefined, stream: ClientChannel) => {
            if (error) return reject(new SwitchboardError('executor_unreachable', `${label}: cannot open a command channel: ${error.message}`, { cause: error }));
            stream.stderr.on('data', (chunk: Buffer) => deps.logger.debug('ssh command channel stderr', { executor: target.executor, text: chunk.toString() }));
            const channel = createCommandChannel(stream as unknown as Duplex, label);
            stream.on('close', () => {
              if (commands === opening) commands = undefined;
            });
            resolve(channel);
          });
        }),
    );
    commands = opening;
    opening.catch(() => {
      if (commands === opening) commands = undefined;
    });
    return opening;
  }

  async function execChannel(script: string, options: ExecOptions): Promise<ExecResult> {
    const c = await connect();
    // The login shell sshd starts sources ~/.bashrc anyway; --norc keeps our bash from doing it a second time.
    const command = `exec ${shellLine(['bash', '--norc', '-c', script, 'bash', ...(options.args ?? [])])}`;
    const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      c.exec(command, (error: Error | undefined, channel: ClientChannel) => {
        if (error) {
          reject(new SwitchboardError('executor_unreachable', `${label}: cannot run a command: ${error.message}`, { cause: error }));
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        const timer = setTimeout(() => {
          channel.close();
          reject(new SwitchboardError('timeout', `${label}: a command took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('close', (code: number | null | undefined) => {
          clearTimeout(timer);
          resolve({
            code: typeof code === 'number' ? code : null,
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          });
        });
        // Always end stdin, so nothing on the far side waits for more input.
        channel.end(options.stdin ?? '');
      });
    });
  }

  return {
    where,

    async exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
      if (deps.commandChannel === false || options.stdin !== undefined) return execChannel(script, options);
      let channel: CommandChannel;
      try {
        channel = await commandChannel();
      } catch (error) {
        // No command channel (an odd remote shell?): a plain exec still works, only slower.
        if ((error as SwitchboardError).code !== 'executor_unreachable' || !client) throw error;
        deps.logger.warn('ssh command channel unavailable; using one exec per command', { executor: target.executor });
        return execChannel(script, options);
      }
      // Once sent, a request is never re-sent another way: it may have run.
      return channel.run(script, options.args ?? [], options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
    },

    async writeFile(path, data, mode) {
      const session = await getSftp();
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
      await new Promise<void>((resolve, reject) =>
        session.writeFile(path, bytes, { mode }, (error) => (error ? reject(wrapIoError(error, label, `write ${path}`)) : resolve())),
      );
      // The server applies its umask on create, and an existing file keeps its mode: set it explicitly.
      await new Promise<void>((resolve, reject) =>
        session.chmod(path, mode, (error) => (error ? reject(wrapIoError(error, label, `chmod ${path}`)) : resolve())),
      );
    },

    async readFile(path: string, range?: ReadRange): Promise<ReadResult | null> {
      const session = await getSftp();
      const handle = await new Promise<Buffer | null>((resolve, reject) =>
        session.open(path, 'r', (error, h) => {
          if (!error) return resolve(h);
          if ((error as Error & { code?: number }).code === 2) return resolve(null); // SSH_FX_NO_SUCH_FILE
          reject(wrapIoError(error, label, `open ${path}`));
        }),
      );
      if (!handle) return null;
      try {
        const size = await new Promise<number>((resolve, reject) =>
          session.fstat(handle, (error, stats) => (error ? reject(wrapIoError(error, label, `stat ${path}`)) : resolve(stats.size))),
        );
        const { offset, length } = readWindow(size, range);
        const data = Buffer.alloc(length);
        let filled = 0;
        while (filled < length) {
          const n = await new Promise<number>((resolve, reject) =>
            session.read(handle, data, filled, length - filled, offset + filled, (error, bytesRead) =>
              error ? reject(wrapIoError(error, label, `read ${path}`)) : resolve(bytesRead),
            ),
          );
          if (n === 0) break;
          filled += n;
        }
        return { data: data.subarray(0, filled), size, offset };
      } finally {
        await new Promise<void>((resolve) => session.close(handle, () => resolve()));
      }
    },

    async close() {
      closed = true;
      const c = client;
      client = undefined;
      sftp = undefined;
      const channel = commands;
      commands = undefined;
      await channel?.then((ch) => ch.close()).catch(() => undefined);
      if (c) {
        await new Promise<void>((resolve) => {
          c.once('close', () => resolve());
          c.end();
          setTimeout(resolve, 1_000).unref();
        });
      }
    },
  };
}

/** Undefined when the key is acceptable; otherwise the error that says what was seen and how to fix it. */
/**
 * How ssh2 reaches a target: the host key checked against its pin (the verdict is handed to `onKey`),
 * keep-alives so a dead peer is noticed, and the key or agent to log in with. The executor transport and the
 * OpenCode tunnel connect the same way.
 */
export function connectConfig(
  target: SshTarget,
  label: string,
  keepaliveIntervalMs: number,
  onKey: (fingerprint: string, problem: SwitchboardError | undefined) => void,
): ConnectConfig {
  return {
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: target.connectTimeoutMs,
    keepaliveInterval: keepaliveIntervalMs,
    keepaliveCountMax: 3,
    hostVerifier: (key: Buffer) => {
      const fingerprint = fingerprintOf(key);
      const problem = checkHostKey(target, label, fingerprint);
      onKey(fingerprint, problem);
      return problem === undefined;
    },
    ...(target.privateKey ? { privateKey: target.privateKey } : {}),
    ...(target.agentSocket ? { agent: target.agentSocket } : {}),
  };
}

export function checkHostKey(target: Pick<SshTarget, 'hostKey' | 'insecureAcceptNewHostKey' | 'executor'>, label: string, seen: string) {
  if (target.hostKey) {
    if (target.hostKey === seen) return undefined;
    return new SwitchboardError(
      'host_key_mismatch',
      `${label}: host key mismatch: expected ${target.hostKey}, the server presented ${seen}. ` +
        'Someone may be intercepting the connection, or the host was reinstalled.',
      { hint: `If the host was reinstalled, check the new key on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and update hostKey for '${target.executor}'.` },
    );
  }
  if (target.insecureAcceptNewHostKey) return undefined;
  return new SwitchboardError(
    'host_key_unknown',
    `${label}: the host key is not pinned, so the connection was refused (the server presented ${seen}).`,
    { hint: `Check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add "hostKey: ${seen}" to executor '${target.executor}', or set insecureAcceptNewHostKey: true.` },
  );
}

function describeConnectError(error: Error & { level?: string; code?: string }, label: string, target: SshTarget): SwitchboardError {
  if (error.level === 'client-authentication') {
    const how = target.privateKey ? `the key ${target.identityFile ?? '(given)'}` : 'the ssh agent keys';
    return new SwitchboardError('ssh_auth_failed', `${label}: the server refused ${how} for user ${target.user}`, {
      cause: error,
      hint: `Add the public key to ~${target.user}/.ssh/authorized_keys on ${target.host}, or fix identityFile.`,
    });
  }
  if (error.level === 'client-timeout' || error.code === 'ETIMEDOUT') {
    return new SwitchboardError('executor_unreachable', `${label}: no answer within ${target.connectTimeoutMs / 1000} s (timed out)`, { cause: error });
  }
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is sshd running on that port?)',
    ENOTFOUND: 'unknown host name',
    EAI_AGAIN: 'the host name could not be resolved right now',
    EHOSTUNREACH: 'no route to host',
    ENETUNREACH: 'network unreachable',
    ECONNRESET: 'the connection was reset',
  };
  const reason = (error.code && reasons[error.code]) ?? error.message;
  return new SwitchboardError('executor_unreachable', `${label}: cannot connect: ${reason}`, { cause: error });
}

function wrapIoError(error: Error, label: string, what: string): SwitchboardError {
  return new SwitchboardError('executor_unreachable', `${label}: could not ${what}: ${error.message}`, { cause: error });
}
