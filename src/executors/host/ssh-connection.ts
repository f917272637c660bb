import { Client, type ConnectConfig } from 'ssh2';
import { SwitchboardError } from '../../errors.js';
import { retryDelayMs } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { checkHostKey, hostKeyOf, type HostKey, type SshTarget } from './host-key.js';

export interface SshConnectionOptions {
  target: SshTarget;
  /** `ssh executor 'box' (me@host:22)`, the prefix of every message. */
  label: string;
  clock: Clock;
  logger: Logger;
  /** Makes the ssh2 client; tests may wrap or replace it. */
  createClient?: () => Client;
  keepaliveIntervalMs?: number;
  /** After a failed connect, every use fails at once until base · 2^(failures-1) (capped) has passed. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /**
   * Resolves and checks the host's addresses before each connect; the first one, not the name, goes to ssh2 (which
   * would resolve it again). A tunnel carrying an API passes the REST client's guard, so a rebinding name is refused.
   */
  resolveAddresses?: (host: string) => Promise<string[]>;
}

/** One SSH connection to one host, opened on first use and reopened (with backoff) after it drops. */
export interface SshConnection {
  readonly label: string;
  /** The live client, connecting first if needed. */
  client(): Promise<Client>;
  /** The next client() tries at once, whatever the backoff says (an explicit user action). */
  retryNow(): void;
  /** Called when an established connection ends; returns the unsubscribe. */
  onLost(listener: (client: Client) => void): () => void;
  /** The key the host presented on the last successful handshake. */
  readonly hostKey: HostKey | undefined;
  /** Successful handshakes so far. */
  readonly connects: number;
  close(): Promise<void>;
}

/**
 * The one ssh2 connection state machine: host-key pinning, keep-alives, reconnect backoff and the mapping of
 * ssh2's errors to SwitchboardErrors all live here. Exec, files, tunnels and rsync's shell ride on it.
 */
export function createSshConnection(options: SshConnectionOptions): SshConnection {
  const { target, label, logger } = options;
  const baseMs = options.reconnectBaseMs ?? 1_000;
  const maxMs = options.reconnectMaxMs ?? 60_000;
  const lostListeners = new Set<(client: Client) => void>();

  let client: Client | undefined;
  let connecting: Promise<Client> | undefined;
  let failures = 0;
  let retryAt = 0;
  let lastError: SwitchboardError | undefined;
  let closed = false;
  let hostKey: HostKey | undefined;
  let connects = 0;

  const closedError = () => new SwitchboardError('executor_unreachable', `${label}: the connection was closed`);

  function connect(): Promise<Client> {
    if (closed) return Promise.reject(closedError());
    if (client) return Promise.resolve(client);
    if (connecting) return connecting;
    const now = options.clock.now();
    if (lastError && now < retryAt) {
      const seconds = Math.ceil((retryAt - now) / 1000);
      return Promise.reject(
        new SwitchboardError(lastError.code, `${lastError.message} (next try in ${seconds} s)`, {
          cause: lastError,
          ...(lastError.hint ? { hint: lastError.hint } : {}),
        }),
      );
    }
    connecting = address()
      .then(open)
      .then(
        (ready) => {
          connecting = undefined;
          failures = 0;
          lastError = undefined;
          if (closed) {
            ready.end();
            throw closedError();
          }
          connects++;
          client = ready;
          return ready;
        },
        (error: SwitchboardError) => {
          connecting = undefined;
          failures++;
          lastError = error;
          retryAt = options.clock.now() + retryDelayMs(failures, baseMs, maxMs);
          throw error;
        },
      );
    return connecting;
  }

  async function address(): Promise<string> {
    if (!options.resolveAddresses) return target.host;
    let addresses: string[];
    try {
      addresses = await options.resolveAddresses(target.host);
    } catch (error) {
      if (error instanceof SwitchboardError) {
        throw new SwitchboardError(error.code, `${label}: ${error.message}`, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
      }
      const code = (error as { code?: string }).code;
      throw new SwitchboardError('executor_unreachable', `${label}: cannot connect: ${target.host} cannot be resolved (${code ?? String(error)})`, { cause: error });
    }
    const first = addresses[0];
    if (!first) throw new SwitchboardError('executor_unreachable', `${label}: cannot connect: ${target.host} has no address`);
    return first;
  }

  function open(host: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const candidate = options.createClient ? options.createClient() : new Client();
      let seen: HostKey | undefined;
      let keyProblem: SwitchboardError | undefined;
      let settled = false;

      candidate.on('ready', () => {
        settled = true;
        hostKey = seen;
        if (!target.hostKey) logger.warn('ssh host key accepted without a pin', { executor: target.executor, fingerprint: seen?.fingerprint });
        resolve(candidate);
      });
      candidate.on('error', (error: Error & { level?: string; code?: string }) => {
        if (settled) {
          // After ready: the connection broke. 'close' follows; the next use reconnects.
          logger.warn('ssh connection lost', { executor: target.executor, error: error.message });
          if (client === candidate) client = undefined;
          return;
        }
        settled = true;
        candidate.end();
        reject(keyProblem ?? describeConnectError(error, label, target));
      });
      candidate.on('close', () => {
        if (!settled) {
          settled = true;
          reject(keyProblem ?? new SwitchboardError('executor_unreachable', `${label}: the connection closed during the handshake`));
          return;
        }
        if (client === candidate) client = undefined;
        for (const listener of lostListeners) listener(candidate);
      });
      const config: ConnectConfig = {
        host,
        port: target.port,
        username: target.user,
        readyTimeout: target.connectTimeoutMs,
        keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          seen = hostKeyOf(key);
          keyProblem = checkHostKey(target, label, seen.fingerprint);
          return keyProblem === undefined;
        },
        ...(target.privateKey ? { privateKey: target.privateKey } : {}),
        ...(target.agentSocket ? { agent: target.agentSocket } : {}),
      };
      try {
        candidate.connect(config);
      } catch (error) {
        settled = true;
        reject(new SwitchboardError('config_invalid', `${label}: ${(error as Error).message}`, { cause: error }));
      }
    });
  }

  return {
    label,
    client: connect,
    retryNow() {
      retryAt = 0;
    },
    onLost(listener) {
      lostListeners.add(listener);
      return () => lostListeners.delete(listener);
    },
    get hostKey() {
      return hostKey;
    },
    get connects() {
      return connects;
    },
    async close() {
      closed = true;
      const c = client;
      client = undefined;
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
