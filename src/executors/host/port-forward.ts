import { createServer, type Server, type Socket } from 'node:net';
import type { ClientChannel } from 'ssh2';
import type { Logger } from '../../core/logger.js';
import type { SshConnection } from './ssh-connection.js';

/**
 * A local port on 127.0.0.1 whose connections are carried over SSH (direct-tcpip) to a port on the host's own
 * loopback, so a server there is never exposed on the network. The local port stays the same for the forward's
 * life; the SSH connection under it reconnects lazily after a drop (each carried connection then fails once, and
 * its client reconnects, as the monitor's event stream does).
 */
export interface PortForward {
  readonly localPort: number;
  /** `http://127.0.0.1:<localPort>` */
  readonly url: string;
  /** Where connections go on the host; changes when the server there restarts on another port. */
  remotePort: number;
  /** Opens the SSH connection now, whatever the backoff says (so setup errors surface early). */
  connect(): Promise<void>;
  /** Drops every carried connection (the server went away). */
  resetConnections(): void;
  readonly stats: { readonly connections: number; readonly sshConnects: number; readonly open: number };
  close(): Promise<void>;
}

export async function openPortForward(options: {
  connection: SshConnection;
  remotePort: number;
  logger: Logger;
  executor: string;
  /** Close the connection with the forward (it was opened for this forward alone). */
  ownsConnection?: boolean;
}): Promise<PortForward> {
  const { connection, logger, executor } = options;
  const sockets = new Set<Socket>();
  const counts = { connections: 0, open: 0 };
  let remotePort = options.remotePort;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  // Everything carried over a lost connection is gone: say so to each local client at once instead of letting it hang.
  const unsubscribe = connection.onLost(dropAll);

  const server: Server = createServer((socket) => {
    counts.connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.pause();
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    connection.client().then(
      (c) => {
        if (socket.destroyed) return;
        c.forwardOut('127.0.0.1', socket.remotePort ?? 0, '127.0.0.1', remotePort, (error: Error | undefined, channel: ClientChannel) => {
          if (error) {
            logger.warn('port forward: the host refused a forwarded connection', { executor, port: remotePort, error: error.message });
            socket.destroy();
            return;
          }
          if (socket.destroyed) {
            channel.close();
            return;
          }
          counts.open++;
          channel.on('close', () => {
            counts.open--;
            socket.destroy();
          });
          channel.on('error', () => socket.destroy());
          socket.on('close', () => channel.close());
          socket.pipe(channel).pipe(socket);
          socket.resume();
        });
      },
      (error: unknown) => {
        logger.debug('port forward: no ssh connection for a local connection', { executor, error: String(error) });
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
      return remotePort;
    },
    set remotePort(port: number) {
      if (port !== remotePort) {
        remotePort = port;
        dropAll();
      }
    },
    async connect() {
      connection.retryNow();
      await connection.client();
    },
    resetConnections: dropAll,
    stats: {
      get connections() {
        return counts.connections;
      },
      get sshConnects() {
        return connection.connects;
      },
      get open() {
        return counts.open;
      },
    },
    async close() {
      unsubscribe();
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (options.ownsConnection) await connection.close();
    },
  };
}

/** This machine: the port is reached directly, nothing is carried. */
export function directPort(port: number): PortForward {
  let current = port;
  return {
    get localPort() {
      return current;
    },
    get url() {
      return `http://127.0.0.1:${current}`;
    },
    get remotePort() {
      return current;
    },
    set remotePort(next: number) {
      current = next;
    },
    connect: async () => undefined,
    resetConnections: () => undefined,
    stats: { connections: 0, sshConnects: 0, open: 0 },
    close: async () => undefined,
  };
}
