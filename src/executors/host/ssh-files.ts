import type { Client, SFTPWrapper } from 'ssh2';
import { SwitchboardError } from '../../errors.js';
import type { Logger } from '../../core/logger.js';
import { DEFAULT_MAX_READ, readWindow, type ReadRange, type ReadResult } from '../transport/transport.js';
import { READ_FILE_SCRIPT, WRITE_FILE_SCRIPT } from './file-scripts.js';
import type { SshConnection } from './ssh-connection.js';

export interface RawExecResult {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs a script on its own exec channel, bytes in and out. */
export type RawExec = (script: string, args: readonly string[], stdin?: Buffer) => Promise<RawExecResult>;

export interface SshFiles {
  writeFile(path: string, data: string | Uint8Array, mode: number): Promise<void>;
  readFile(path: string, range?: ReadRange): Promise<ReadResult | null>;
  readonly counts: { sftp: number; exec: number };
}

/**
 * Files on an SSH host: over one SFTP session per connection, or, when the server has no SFTP subsystem, through
 * an exec channel (file-scripts.ts). Which one works is learned once per connection: a reconnect may reach a
 * reconfigured server.
 */
export function createSshFiles(options: { connection: SshConnection; execRaw: RawExec; logger: Logger; executor: string }): SshFiles {
  const { connection, execRaw, logger } = options;
  const label = connection.label;
  const withoutSftp = new WeakSet<Client>();
  let cached: { client: Client; session: Promise<SFTPWrapper> } | undefined;
  const counts = { sftp: 0, exec: 0 };

  /** The connection's SFTP session, or null when the server has no SFTP subsystem. */
  async function sftp(): Promise<SFTPWrapper | null> {
    const client = await connection.client();
    if (withoutSftp.has(client)) return null;
    if (cached?.client !== client) {
      const session = new Promise<SFTPWrapper>((resolve, reject) => client.sftp((error, s) => (error ? reject(error) : resolve(s))));
      const entry = { client, session };
      cached = entry;
      session.then(
        (s) => s.on('close', () => cached === entry && (cached = undefined)),
        () => cached === entry && (cached = undefined),
      );
    }
    try {
      return await cached.session;
    } catch (error) {
      // ssh2's words when the server refuses the `sftp` subsystem request.
      if (/Unable to start subsystem/i.test((error as Error).message)) {
        withoutSftp.add(client);
        logger.info('ssh host has no SFTP subsystem; moving files through exec channels', { executor: options.executor });
        return null;
      }
      throw wrapIoError(error as Error, label, 'open an SFTP session');
    }
  }

  async function writeOverExec(path: string, bytes: Buffer, mode: number): Promise<void> {
    counts.exec++;
    const result = await execRaw(WRITE_FILE_SCRIPT, [path, mode.toString(8)], bytes);
    if (result.code !== 0) {
      throw new SwitchboardError('executor_unreachable', `${label}: could not write ${path}: ${result.stderr.toString('utf8').trim() || `exit ${result.code}`}`);
    }
  }

  async function readOverExec(path: string, range: ReadRange = {}): Promise<ReadResult | null> {
    counts.exec++;
    const args = [path, range.tailBytes === undefined ? (range.fromOffset === undefined ? '' : String(range.fromOffset)) : '', range.tailBytes === undefined ? '' : String(range.tailBytes), String(range.maxBytes ?? DEFAULT_MAX_READ)];
    const result = await execRaw(READ_FILE_SCRIPT, args);
    if (result.code === 2) return null;
    const newline = result.stdout.indexOf(0x0a);
    if (result.code !== 0 || newline === -1) {
      throw new SwitchboardError('executor_unreachable', `${label}: could not read ${path}: ${result.stderr.toString('utf8').trim() || `exit ${result.code}`}`);
    }
    const [size, offset] = result.stdout.subarray(0, newline).toString('latin1').split(' ').map(Number);
    return { data: result.stdout.subarray(newline + 1), size: size ?? 0, offset: offset ?? 0 };
  }

  return {
    counts,

    async writeFile(path, data, mode) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
      const session = await sftp();
      if (!session) return writeOverExec(path, bytes, mode);
      counts.sftp++;
      await new Promise<void>((resolve, reject) =>
        session.writeFile(path, bytes, { mode }, (error) => (error ? reject(wrapIoError(error, label, `write ${path}`)) : resolve())),
      );
      // The server applies its umask on create, and an existing file keeps its mode: set it explicitly.
      await new Promise<void>((resolve, reject) =>
        session.chmod(path, mode, (error) => (error ? reject(wrapIoError(error, label, `chmod ${path}`)) : resolve())),
      );
    },

    async readFile(path, range) {
      const session = await sftp();
      if (!session) return readOverExec(path, range);
      counts.sftp++;
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
  };
}

function wrapIoError(error: Error, label: string, what: string): SwitchboardError {
  return new SwitchboardError('executor_unreachable', `${label}: could not ${what}: ${error.message}`, { cause: error });
}
