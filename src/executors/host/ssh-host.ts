import type { Client, ClientChannel } from 'ssh2';
import { SwitchboardError } from '../../errors.js';
import { shellLine } from '../protocol/quote.js';
import { COMMAND_SERVER_SCRIPT, createCommandChannel, MAX_CHANNEL_STDIN, type CommandChannel, type Duplex } from '../transport/command-channel.js';
import { DEFAULT_EXEC_TIMEOUT_MS, type ExecOptions, type ExecResult } from '../transport/transport.js';
import type { Host } from './host.js';
import type { SshTarget } from './host-key.js';
import { openPortForward } from './port-forward.js';
import { prepareRsyncShell } from './rsync-shell.js';
import { createSshConnection, type SshConnection, type SshConnectionOptions } from './ssh-connection.js';
import { createSshFiles, type RawExecResult } from './ssh-files.js';

/** What the connection takes (ssh-connection.ts), and how scripts travel over it. */
export interface SshHostDeps extends Omit<SshConnectionOptions, 'target' | 'label'> {
  /**
   * Run scripts through one long-lived command channel (default) instead of a new exec channel each: an exec
   * costs a session setup and the login shell's rc files (0.5–1 s measured), a request on the channel ~50 ms.
   */
  commandChannel?: boolean;
}

/**
 * An SSH host: one kept-alive connection (ssh-connection.ts) carrying scripts (`bash -c <script> bash <args…>`,
 * every word POSIX-quoted), files (SFTP, or exec channels without it), port forwards and rsync's pinned shell.
 */
export function createSshHost(target: SshTarget, deps: SshHostDeps): Host {
  const where = `${target.user}@${target.host}:${target.port}`;
  const label = `ssh executor '${target.executor}' (${where})`;
  const connection: SshConnection = createSshConnection({ ...deps, target, label });
  let commands: { client: Client; channel: Promise<CommandChannel> } | undefined;

  function commandChannel(client: Client): Promise<CommandChannel> {
    if (commands?.client === client) return commands.channel;
    const channel = new Promise<CommandChannel>((resolve, reject) => {
      client.exec(`exec ${shellLine(['bash', '--norc', '-c', COMMAND_SERVER_SCRIPT])}`, (error: Error | undefined, stream: ClientChannel) => {
        if (error) return reject(new SwitchboardError('executor_unreachable', `${label}: cannot open a command channel: ${error.message}`, { cause: error }));
        stream.stderr.on('data', (chunk: Buffer) => deps.logger.debug('ssh command channel stderr', { executor: target.executor, text: chunk.toString() }));
        stream.on('close', () => {
          if (commands === entry) commands = undefined;
        });
        resolve(createCommandChannel(stream as unknown as Duplex, label));
      });
    });
    const entry = { client, channel };
    commands = entry;
    channel.catch(() => {
      if (commands === entry) commands = undefined;
    });
    return channel;
  }

  async function execRaw(script: string, args: readonly string[], stdin?: Buffer, timeoutMs = DEFAULT_EXEC_TIMEOUT_MS): Promise<RawExecResult> {
    const c = await connection.client();
    // The login shell sshd starts sources ~/.bashrc anyway; --norc keeps our bash from doing it a second time.
    const command = `exec ${shellLine(['bash', '--norc', '-c', script, 'bash', ...args])}`;
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
          resolve({ code: typeof code === 'number' ? code : null, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
        });
        // Always end stdin, so nothing on the far side waits for more input.
        channel.end(stdin ?? '');
      });
    });
  }

  async function execChannel(script: string, options: ExecOptions): Promise<ExecResult> {
    const stdin = options.stdin === undefined ? undefined : Buffer.from(options.stdin);
    const result = await execRaw(script, options.args ?? [], stdin, options.timeoutMs);
    return { code: result.code, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') };
  }

  /** The command channel, or undefined when it is turned off or cannot be opened (a plain exec still works, only slower). */
  async function channel(): Promise<CommandChannel | undefined> {
    if (deps.commandChannel === false) return undefined;
    const client = await connection.client();
    try {
      return await commandChannel(client);
    } catch (error) {
      if ((error as SwitchboardError).code !== 'executor_unreachable') throw error;
      deps.logger.warn('ssh command channel unavailable; using one exec per command', { executor: target.executor });
      return undefined;
    }
  }

  // Without SFTP, files go through scripts: on the command channel when small (an exec channel costs a session
  // and the login shell's rc files each), on their own exec channel when large.
  const files = createSshFiles({
    connection,
    execRaw: async (script, args, stdin) => {
      const commands = !stdin || stdin.length <= MAX_CHANNEL_STDIN ? await channel() : undefined;
      return commands ? commands.runRaw(script, args, DEFAULT_EXEC_TIMEOUT_MS, stdin) : execRaw(script, args, stdin);
    },
    logger: deps.logger,
    executor: target.executor,
  });

  return {
    where,
    fileTransfers: files.counts,

    async exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
      const commands = options.stdin === undefined ? await channel() : undefined;
      if (!commands) return execChannel(script, options);
      // Once sent, a request is never re-sent another way: it may have run.
      return commands.run(script, options.args ?? [], options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
    },

    writeFile: files.writeFile,
    readFile: files.readFile,

    forward: (remotePort) => openPortForward({ connection, remotePort, logger: deps.logger, executor: target.executor }),

    async rsyncShell(options) {
      // Connecting checks the host key against the pin and proves the credentials before rsync starts.
      await connection.client();
      const hostKey = connection.hostKey;
      if (!hostKey) throw new SwitchboardError('executor_unreachable', `${label}: the host key was not seen`);
      return prepareRsyncShell({ target, hostKey, sshPath: options.sshPath, ...(options.tmpRoot ? { tmpRoot: options.tmpRoot } : {}) });
    },

    async close() {
      const pending = commands;
      commands = undefined;
      await pending?.channel.then((ch) => ch.close()).catch(() => undefined);
      await connection.close();
    },
  };
}
