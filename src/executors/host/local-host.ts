import { createLocalTransport, type LocalTransportOptions } from '../transport/local.js';
import type { Host } from './host.js';
import { directPort } from './port-forward.js';

/** This machine (local and container executors): the local transport; ports are reached directly, rsync needs no shell. */
export function createLocalHost(options: LocalTransportOptions): Host {
  const transport = createLocalTransport(options);
  return {
    ...transport,
    fileTransfers: { sftp: 0, exec: 0 },
    forward: async (port) => directPort(port),
    rsyncShell: async () => null,
  };
}
