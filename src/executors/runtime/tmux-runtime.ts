import { randomBytes } from 'node:crypto';
import { SwitchboardError } from '../../errors.js';
import {
  END_SESSION_SCRIPT,
  KILL_SCRIPT,
  LAUNCH_SCRIPT,
  PREPARE_SCRIPT,
  PROBE_SCRIPT,
  REMOVE_DIR_SCRIPT,
  SIGNAL_SCRIPT,
} from '../protocol/host-scripts.js';
import { parseProbeOutput, type TaskProbe } from '../protocol/probe.js';
import { MAKE_DIRS_SCRIPT, subdirectoriesOf, type TaskFile } from '../protocol/task-files.js';
import type { ReadRange, ReadResult, Transport } from '../transport/transport.js';
import type { HostCheck, PreparedTask, StopReport, TaskRef, TaskRuntime } from './runtime.js';

export interface TmuxRuntimeOptions {
  /** `local executor 'dev'` or `ssh executor 'box' (root@10.0.0.5:22)`. */
  where: string;
  transport: Transport;
  /** Name or path of tmux on the host (resolved to an absolute path once). */
  tmuxPath: string;
  /** The dedicated tmux server (`tmux -L <socket>`), so the user's own sessions are never touched. */
  tmuxSocket: string;
}

/**
 * Tasks as tmux sessions on a host reached through a Transport (this machine or SSH). Each call is one exec
 * (or SFTP transfers), built from the static scripts in protocol/host-scripts.ts.
 */
export function createTmuxRuntime(options: TmuxRuntimeOptions): TaskRuntime {
  const { transport, where } = options;
  let tmux: string | undefined;

  async function run(script: string, args: string[], what: string, timeoutMs?: number) {
    const result = await transport.exec(script, { args, ...(timeoutMs ? { timeoutMs } : {}) });
    if (result.code !== 0) {
      throw new SwitchboardError('task_failed', `${where}: could not ${what}: ${firstLine(result.stderr) || `exit ${result.code}`}`);
    }
    return result.stdout;
  }

  async function inspect(mode: 'check' | 'prepare', claudePath: string | null, workspace: string | undefined, tasksDir?: string) {
    const args = [mode, options.tmuxPath, claudePath ?? '', workspace ?? '', tasksDir ?? ''];
    const stdout = await run(PREPARE_SCRIPT, args, 'inspect the host');
    const fields = parseFields(stdout);
    const check: HostCheck = {
      home: fields.get('home') ?? '',
      path: fields.get('path') ?? '',
      tmux: fields.get('tmux') || null,
      workspace: fields.get('workspace') || null,
    };
    if (claudePath !== null) check.claude = fields.get('claude') || null;
    if (check.tmux) tmux = check.tmux;
    return { check, dir: fields.get('dir') };
  }

  async function tmuxBinary(): Promise<string> {
    if (tmux) return tmux;
    const { check } = await inspect('check', null, undefined);
    if (!check.tmux) throw missingTool('tmux', options.tmuxPath, check, where);
    return check.tmux;
  }

  return {
    where,

    async check({ claudePath, workspace }) {
      return (await inspect('check', claudePath, workspace)).check;
    },

    async prepare({ claudePath, workspace, tasksDir }): Promise<PreparedTask> {
      const { check, dir } = await inspect('prepare', claudePath, workspace, tasksDir);
      if (!check.tmux) throw missingTool('tmux', options.tmuxPath, check, where);
      if (claudePath !== null && !check.claude) throw missingTool('claude', claudePath, check, where);
      if (!check.workspace) {
        throw new SwitchboardError('workspace_missing', `workspace ${workspace ?? '~'} does not exist on ${where}`, {
          hint: 'Give an existing directory with --workspace, or create it first.',
        });
      }
      if (!dir) throw new SwitchboardError('task_failed', `${where}: mktemp -d did not create a task directory`);
      return { dir, workspace: check.workspace, claudePath: check.claude ?? null };
    },

    async writeFiles(dir: string, files: readonly TaskFile[]) {
      await makeSubdirectories(transport, dir, files, where);
      // SFTP requests pipeline over one channel, so writing them together costs about one round trip.
      await Promise.all(files.map((file) => transport.writeFile(`${dir}/${file.name}`, file.data, file.mode)));
    },

    async launch(ref: TaskRef, attempt: number, graceMs: number) {
      const binary = await tmuxBinary();
      const channel = `${ref.session}-go-${attempt}`;
      await run(
        LAUNCH_SCRIPT,
        [binary, options.tmuxSocket, ref.session, ref.dir, channel, String(attempt), ref.taskId, String(graceMs)],
        `start task ${ref.taskId} in tmux`,
        graceMs * 4 + 60_000,
      );
    },

    async probe(refs: readonly TaskRef[]): Promise<TaskProbe[]> {
      if (refs.length === 0) return [];
      const binary = await tmuxBinary();
      const nonce = `@${randomBytes(9).toString('hex')}`;
      const args = [binary, options.tmuxSocket, '1', nonce, ...refs.flatMap((ref) => [ref.dir, ref.session])];
      const stdout = await run(PROBE_SCRIPT, args, 'probe its tasks');
      return parseProbeOutput(stdout, refs, nonce).tasks;
    },

    readFile(ref: TaskRef, name: string, range?: ReadRange): Promise<ReadResult | null> {
      return transport.readFile(`${ref.dir}/${name}`, range);
    },

    async signal(ref: TaskRef, signal: 'TERM' | 'KILL') {
      const stdout = await run(SIGNAL_SCRIPT, [`${ref.dir}/pid`, signal], `signal task ${ref.taskId}`);
      return stdout.trim() === 'sent';
    },

    async stop(ref: TaskRef, graceMs: number): Promise<StopReport> {
      const binary = await tmuxBinary();
      const stdout = await run(
        KILL_SCRIPT,
        [binary, options.tmuxSocket, ref.session, ref.dir, ref.taskId, String(graceMs)],
        `stop task ${ref.taskId}`,
        graceMs * 4 + 60_000,
      );
      const fields = parseFields(stdout);
      return {
        stopped: Number(fields.get('stopped') ?? 0),
        forced: Number(fields.get('forced') ?? 0),
        survivors: Number(fields.get('survivors') ?? 0),
        done: fields.has('done') ? Number(fields.get('done')) : null,
        exitCode: fields.has('exit_code') ? Number(fields.get('exit_code')) : null,
      };
    },

    async release(ref: TaskRef) {
      await run(END_SESSION_SCRIPT, [await tmuxBinary(), options.tmuxSocket, ref.session], 'end the tmux session');
    },

    async removeDir(ref: TaskRef) {
      await run(REMOVE_DIR_SCRIPT, [ref.dir], `remove ${ref.dir}`);
    },

    close: () => transport.close(),
  };
}

export function missingTool(tool: string, looked: string, check: HostCheck, where: string): SwitchboardError {
  const key = tool === 'claude' ? 'claudePath' : 'tmuxPath';
  return new SwitchboardError('missing_tool', `${tool} not found on ${where}: looked for '${looked}' (PATH=${check.path})`, {
    hint: `Install ${tool} on that host, or set ${key} to its absolute path in switchboard.yaml.`,
  });
}

export function parseFields(stdout: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    if (space === -1) fields.set(line, '');
    else fields.set(line.slice(0, space), line.slice(space + 1));
  }
  return fields;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/**
 * Before files with a `/` in their name (attachments under `files/`) are written: their directories, 0700.
 * Only our own directory names reach the script, as arguments; the file names never do.
 */
export async function makeSubdirectories(transport: Transport, dir: string, files: readonly TaskFile[], where: string): Promise<void> {
  const dirs = subdirectoriesOf(dir, files);
  if (dirs.length === 0) return;
  const result = await transport.exec(MAKE_DIRS_SCRIPT, { args: dirs });
  if (result.code !== 0) throw new SwitchboardError('task_failed', `${where}: could not make ${dirs.join(', ')}: ${result.stderr.trim()}`);
}
