import { createServer, type Server, type Socket } from 'node:net';
import { Client, type ClientChannel } from 'ssh2';
import { SwitchboardError } from '../errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { connectConfig, type SshTarget } from '../executors/transport/ssh.js';
import { strictConnectionGuard, type ConnectionGuard } from '../opencode/connection-guard.js';

/**
 * A local port on 127.0.0.1 whose connections are carried over SSH (direct-tcpip) to a port on the executor's
 * own loopback, so a server there is never exposed on the network. The local port stays the same for the
 * tunnel's life; the SSH connection under it is opened on first use and reopened after it drops (each local
 * connection then fails once, and its client reconnects, as the monitor's event stream does).
 */
export interface Tunnel {
  readonly localPort: number;
  /** `http://127.0.0.1:<localPort>` */
  readonly url: string;
  /** Where connections go on the host; changes when the server there restarts on another port. */
  remotePort: number;
  /** Opens the SSH connection now (so setup errors surface early); later drops reconnect lazily. */
  connect(): Promise<void>;
  /** Drops every carried connection (the server went away). */
  resetConnections(): void;
  readonly stats: { connections: number; sshConnects: number; open: number };
  close(): Promise<void>;
}

export interface TunnelOptions {
  target: SshTarget;
  /** `ssh executor 'box' (me@host:22)`, for messages. */
  label: string;
  remotePort: number;
  clock: Clock;
  logger: Logger;
  createClient?: () => Client;
  /**
   * Checks the host's address on every SSH (re)connect: the tunnel carries an OpenCode server's API, so a host
   * name that rebinds to a metadata address is refused as the REST client would refuse it.
   */
  guard?: ConnectionGuard;
  keepaliveIntervalMs?: number;
  /** After a failed connect, new connections fail at once until this much time has passed (base · 2^n, capped). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

export async function openTunnel(options: TunnelOptions): Promise<Tunnel> {
  const { target, label, logger } = options;
  const baseMs = options.reconnectBaseMs ?? 500;
  const maxMs = options.reconnectMaxMs ?? 15_000;
  let client: Client | undefined;
  let connecting: Promise<Client> | undefined;
  let failures = 0;
  let retryAt = 0;
  let lastError: SwitchboardError | undefined;
  let closed = false;
  const sockets = new Set<Socket>();
  const stats = { connections: 0, sshConnects: 0, open: 0 };

  function dropAll(): void {
    for (const socket of sockets) socket.destroy();
  }

  function ssh(): Promise<Client> {
    if (closed) return Promise.reject(new SwitchboardError('unreachable', `${label}: the tunnel is closed`));
    if (client) return Promise.resolve(client);
    if (connecting) return connecting;
    if (lastError && options.clock.now() < retryAt) return Promise.reject(lastError);
    connecting = hostAddress().then((address) => new Promise<Client>((resolve, reject) => {
      const candidate = options.createClient ? options.createClient() : new Client();
      let keyProblem: SwitchboardError | undefined;
      let ready = false;
      const config = connectConfig(target, label, options.keepaliveIntervalMs ?? 10_000, (_fingerprint, problem) => {
        keyProblem = problem;
      });
      candidate.on('ready', () => {
        ready = true;
        stats.sshConnects++;
        resolve(candidate);
      });
      candidate.on('error', (error: Error & { level?: string }) => {
        if (ready) {
          logger.warn('tunnel ssh connection lost', { executor: target.executor, error: error.message });
          return;
        }
        reject(
          keyProblem ??
            (error.level === 'client-authentication'
              ? new SwitchboardError('ssh_auth_failed', `${label}: the server refused the key for user ${target.user}`, { cause: error })
              : new SwitchboardError('executor_unreachable', `${label}: cannot open the tunnel: ${error.message}`, { cause: error })),
        );
      });
      candidate.on('close', () => {
        if (!ready) {
          reject(keyProblem ?? new SwitchboardError('executor_unreachable', `${label}: the connection closed during the handshake`));
          return;
        }
        if (client === candidate) client = undefined;
        // Everything carried over it is gone: say so to each local client at once instead of letting it hang.
        dropAll();
      });
      try {
        // The address just checked, not the name: ssh2 would resolve it again. Host keys are pinned by fingerprint.
        candidate.connect({ ...config, host: address });
      } catch (error) {
        reject(new SwitchboardError('config_invalid', `${label}: ${(error as Error).message}`, { cause: error }));
      }
    })).then(
      (ready) => {
        connecting = undefined;
        failures = 0;
        lastError = undefined;
        if (closed) {
          ready.end();
          throw new SwitchboardError('unreachable', `${label}: the tunnel is closed`);
        }
        client = ready;
        return ready;
      },
      (error: SwitchboardError) => {
        connecting = undefined;
        failures++;
        lastError = error;
        retryAt = options.clock.now() + Math.min(maxMs, baseMs * 2 ** (failures - 1));
        throw error;
      },
    );
    return connecting;
  }

  /** One checked address of the host, resolved afresh for each SSH connection. */
  async function hostAddress(): Promise<string> {
    let addresses: string[];
    try {
      addresses = await (options.guard ?? strictConnectionGuard).addresses(target.host);
    } catch (error) {
      if (error instanceof SwitchboardError) {
        throw new SwitchboardError(error.code, `${label}: ${error.message}`, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
      }
      const code = (error as { code?: string }).code;
      throw new SwitchboardError('executor_unreachable', `${label}: cannot open the tunnel: ${target.host} cannot be resolved (${code ?? String(error)})`, { cause: error });
    }
    const address = addresses[0];
    if (!address) throw new SwitchboardError('executor_unreachable', `${label}: cannot open the tunnel: ${target.host} has no address`);
    return address;
  }

  const tunnel: { remotePort: number } = { remotePort: options.remotePort };

  const server: Server = createServer((socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.pause();
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    ssh().then(
      (c) => {
        if (socket.destroyed) return;
        c.forwardOut('127.0.0.1', socket.remotePort ?? 0, '127.0.0.1', tunnel.remotePort, (error: Error | undefined, channel: ClientChannel) => {
          if (error) {
            logger.warn('tunnel: the host refused a forwarded connection', { executor: target.executor, port: tunnel.remotePort, error: error.message });
            socket.destroy();
            return;
          }
          if (socket.destroyed) {
            channel.close();
            return;
          }
          stats.open++;
          channel.on('close', () => {
            stats.open--;
            socket.destroy();
          });
          channel.on('error', () => socket.destroy());
          socket.on('close', () => channel.close());
          socket.pipe(channel).pipe(socket);
          socket.resume();
        });
      },
      (error: unknown) => {
        logger.debug('tunnel: no ssh connection for a local connection', { executor: target.executor, error: String(error) });
        socket.destroy();
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const localPort = typeof address === 'object' && address ? address.port : 0;

  return {
    localPort,
    url: `http://127.0.0.1:${localPort}`,
    get remotePort() {
      return tunnel.remotePort;
    },
    set remotePort(port: number) {
      if (port !== tunnel.remotePort) {
        tunnel.remotePort = port;
        dropAll();
      }
    },
    async connect() {
      // An explicit connect is a user action: try now, whatever the backoff says.
      retryAt = 0;
      await ssh();
    },
    resetConnections: dropAll,
    stats,
    async close() {
      closed = true;
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
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
