import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a real server that can be switched off and on again on the same port: off, every
 * connection is refused and the open ones are cut, as when the host goes away; on, it relays again. Tests use it
 * to make an OpenCode server unreachable without restarting it.
 */
export interface GateProxy {
  url: string;
  port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startGateProxy(target: string): Promise<GateProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const listening = createServer((client) => {
        track(client);
        const relay = connect(Number(upstream.port), upstream.hostname);
        track(relay);
        client.pipe(relay).pipe(client);
        client.on('close', () => relay.destroy());
        relay.on('close', () => client.destroy());
      });
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => {
        port = (listening.address() as { port: number }).port;
        server = listening;
        resolve();
      });
    });
  const shut = () =>
    new Promise<void>((resolve) => {
      const closing = server;
      server = undefined;
      sockets.forEach((socket) => socket.destroy());
      if (!closing) return resolve();
      closing.close(() => resolve());
    });

  await open();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    down: shut,
    up: open,
    close: shut,
  };
}
