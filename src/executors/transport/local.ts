import { spawn } from 'node:child_process';
import { chmod, open, writeFile } from 'node:fs/promises';
import { SwitchboardError } from '../../errors.js';
import { hostEnvironment } from './host-environment.js';
import {
  DEFAULT_EXEC_TIMEOUT_MS,
  readWindow,
  type ExecOptions,
  type ExecResult,
  type ReadRange,
  type ReadResult,
  type Transport,
} from './transport.js';

export interface LocalTransportOptions {
  /** The bot's environment; scripts get only its basics (see hostEnvironment). The process's own env is never read here. */
  env: Readonly<Record<string, string | undefined>>;
  bashPath?: string;
}

/** This machine: bash as a child process, files through fs. */
export function createLocalTransport(options: LocalTransportOptions): Transport {
  const bash = options.bashPath ?? 'bash';
  const env = hostEnvironment(options.env);

  return {
    where: 'local',

    exec(script: string, execOptions: ExecOptions = {}): Promise<ExecResult> {
      const timeoutMs = execOptions.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
      return new Promise((resolve, reject) => {
        // Its own process group, so a timeout can stop the script and whatever it started in the foreground.
        // --norc: with stdin a socket (as here) and SHLVL unset, bash thinks sshd started it and sources ~/.bashrc,
        // which can cost half a second (pyenv init, measured) on every exec.
        const child = spawn(bash, ['--norc', '-c', script, 'bash', ...(execOptions.args ?? [])], {
          env,
          stdio: ['pipe', 'pipe', 'pipe'],
          detached: true,
        });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => stdout.push(c));
        child.stderr.on('data', (c: Buffer) => stderr.push(c));
        child.stdin.on('error', () => {}); // a script that does not read stdin may exit before we finish writing
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
          reject(new SwitchboardError('timeout', `a command on this machine took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        child.on('error', (error) => {
          clearTimeout(timer);
          reject(new SwitchboardError('missing_tool', `cannot run ${bash} on this machine: ${error.message}`, { cause: error }));
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({
            code,
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          });
        });
        child.stdin.end(execOptions.stdin ?? '');
      });
    },

    async writeFile(path, data, mode) {
      await writeFile(path, data, { mode });
      // An existing file keeps its old mode on write, and umask may have trimmed a new one: set it explicitly.
      await chmod(path, mode);
    },

    async readFile(path: string, range?: ReadRange): Promise<ReadResult | null> {
      let handle;
      try {
        handle = await open(path, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
      try {
        const { size } = await handle.stat();
        const { offset, length } = readWindow(size, range);
        const data = Buffer.alloc(length);
        const { bytesRead } = await handle.read(data, 0, length, offset);
        return { data: data.subarray(0, bytesRead), size, offset };
      } finally {
        await handle.close();
      }
    },

    async close() {},
  };
}
