import { SwitchboardError } from '../../errors.js';
import type { ContainerExecutorConfig } from '../config.js';
import { PREPARE_SCRIPT, PROBE_SCRIPT, REMOVE_DIR_SCRIPT } from '../protocol/host-scripts.js';
import { parseProbeOutput, type ContainerInfo, type TaskProbe } from '../protocol/probe.js';
import { FILE, type TaskFile } from '../protocol/task-files.js';
import type { ReadRange, ReadResult, Transport } from '../transport/transport.js';
import type { HostCheck, PreparedTask, StopReport, TaskRef, TaskRuntime } from './runtime.js';
import { parseFields } from './tmux-runtime.js';

export interface ContainerRuntimeOptions {
  where: string;
  config: ContainerExecutorConfig;
  /** This machine: the task directory lives here and is mounted into the container at the same path. */
  transport: Transport;
}

/** Runs argv directly (`exec "$@"`): no word of it is ever parsed by a shell. */
const RUN_ARGV = 'exec "$@"';
const RESET_SCRIPT = `set -u
cd -- "$1" || exit 3
rm -f done exit_code pid wrapper_pid
printf '%s\\n' "$2" > attempt.tmp && mv -f attempt.tmp attempt`;

/**
 * Tasks as containers: `<runtime> run -d --init` with the task directory mounted at its own path, running the
 * same wrapper as tmux does. Env travels in a 0600 `--env-file` (never `-e K=V`, which `inspect` would show).
 * Liveness comes from `inspect` (pids inside are in another namespace); stop is `stop -t <grace>` then `rm`.
 */
export function createContainerRuntime(options: ContainerRuntimeOptions): TaskRuntime {
  const { config, transport, where } = options;
  const runtime = config.runtimePath ?? config.runtime;

  async function cli(args: string[], what: string, allowFailure = false) {
    const result = await transport.exec(RUN_ARGV, { args: [runtime, ...args] });
    if (result.code !== 0 && !allowFailure) {
      throw new SwitchboardError('task_failed', `${where}: ${config.runtime} could not ${what}: ${result.stderr.trim() || `exit ${result.code}`}`);
    }
    return result;
  }

  async function hostCheck(mode: 'check' | 'prepare') {
    const result = await transport.exec(PREPARE_SCRIPT, { args: [mode, '', '', '', config.tasksDir ?? ''] });
    const fields = parseFields(result.stdout);
    const found = await transport.exec('command -v -- "$1"', { args: [runtime] });
    const check: HostCheck = {
      home: fields.get('home') ?? '',
      path: fields.get('path') ?? '',
      runtime: found.code === 0 ? found.stdout.trim() : null,
      workspace: null,
    };
    return { check, dir: fields.get('dir') };
  }

  /** A workspace under a volume's container path can be checked on the host side; others live in the image. */
  async function workspaceExists(workspace: string): Promise<boolean | undefined> {
    for (const volume of config.volumes) {
      const [host, inside] = volume.split(':');
      if (!host || !inside || !host.startsWith('/')) continue;
      if (workspace === inside || workspace.startsWith(`${inside.replace(/\/$/, '')}/`)) {
        const hostPath = host + workspace.slice(inside.length);
        const result = await transport.exec('[ -d "$1" ]', { args: [hostPath] });
        return result.code === 0;
      }
    }
    return undefined;
  }

  function runArgs(ref: TaskRef): string[] {
    const args = ['run', '-d', '--init', '--name', ref.session, '--env-file', `${ref.dir}/${FILE.containerEnv}`];
    if (config.envFile) args.push('--env-file', config.envFile);
    for (const volume of config.volumes) args.push('-v', volume);
    args.push('-v', `${ref.dir}:${ref.dir}`);
    if (ref.workspace) args.push('-w', ref.workspace);
    args.push(config.image, 'bash', `${ref.dir}/${FILE.wrapper}`, ref.dir);
    return args;
  }

  async function inspect(refs: readonly TaskRef[]): Promise<Map<string, ContainerInfo>> {
    const result = await cli(['inspect', '--format', '{{.Name}} {{json .State}}', ...refs.map((r) => r.session)], 'inspect containers', true);
    const states = new Map<string, ContainerInfo>();
    for (const line of result.stdout.split('\n')) {
      const space = line.indexOf(' ');
      if (space === -1) continue;
      const name = line.slice(0, space).replace(/^\//, '');
      try {
        const state = JSON.parse(line.slice(space + 1)) as { Status?: string; Running?: boolean; ExitCode?: number };
        states.set(name, {
          running: state.Running === true,
          status: state.Status ?? 'unknown',
          exitCode: typeof state.ExitCode === 'number' ? state.ExitCode : null,
        });
      } catch {
        // a line we do not understand says nothing about liveness
      }
    }
    if (result.code !== 0 && states.size === 0 && !/no such (object|container)/i.test(result.stderr)) {
      throw new SwitchboardError('executor_unreachable', `${where}: ${config.runtime} inspect failed: ${result.stderr.trim()}`);
    }
    return states;
  }

  return {
    where,

    async check({ workspace }) {
      const { check } = await hostCheck('check');
      if (workspace) check.workspace = (await workspaceExists(workspace)) === false ? null : workspace;
      return check;
    },

    async prepare({ workspace, claudePath }): Promise<PreparedTask> {
      const ws = workspace ?? config.workspace ?? '';
      if (ws && (await workspaceExists(ws)) === false) {
        throw new SwitchboardError('workspace_missing', `workspace ${ws} does not exist on ${where} (checked through its volume)`);
      }
      const { check, dir } = await hostCheck('prepare');
      if (!check.runtime) {
        throw new SwitchboardError('missing_tool', `${config.runtime} not found on this machine for ${where}: looked for '${runtime}' (PATH=${check.path})`, {
          hint: `Install ${config.runtime}, or set runtimePath in switchboard.yaml.`,
        });
      }
      if (!dir) throw new SwitchboardError('task_failed', `${where}: mktemp -d did not create a task directory`);
      return { dir, workspace: ws, claudePath: claudePath };
    },

    async writeFiles(dir: string, files: readonly TaskFile[]) {
      await Promise.all(files.map((file) => transport.writeFile(`${dir}/${file.name}`, file.data, file.mode)));
    },

    async launch(ref: TaskRef, attempt: number) {
      const reset = await transport.exec(RESET_SCRIPT, { args: [ref.dir, String(attempt)] });
      if (reset.code !== 0) throw new SwitchboardError('task_failed', `${where}: no task directory ${ref.dir}`);
      // The previous attempt's container (exited) holds the name.
      await cli(['rm', '-f', ref.session], 'remove the old container', true);
      await cli(runArgs(ref), `start container ${ref.session}`);
    },

    async probe(refs: readonly TaskRef[]): Promise<TaskProbe[]> {
      if (refs.length === 0) return [];
      // The runtime first, then the files: a container seen exited has written all it ever will, so files
      // read afterwards show its outcome (the other order mistakes a task ending in between for a crash).
      const states = await inspect(refs);
      const files = await transport.exec(PROBE_SCRIPT, { args: ['', '', '0', '-', ...refs.flatMap((r) => [r.dir, ''])] });
      const probes = parseProbeOutput(files.stdout, refs, '-').tasks;
      await Promise.all(
        refs.map(async (ref, i) => {
          const probe = probes[i];
          if (!probe) return;
          probe.container = states.get(ref.session) ?? null;
          // A container that stopped without its wrapper's outcome: what it printed last says why (bash missing
          // from the image, a bad mount…). It stands in for the pane tail.
          if (probe.container && !probe.container.running && probe.done !== probe.attempt) {
            const logs = await cli(['logs', '--tail', '5', ref.session], `read the logs of ${ref.session}`, true);
            probe.paneTail = `${logs.stdout}${logs.stderr}`.trim();
          }
        }),
      );
      return probes;
    },

    readFile(ref: TaskRef, name: string, range?: ReadRange): Promise<ReadResult | null> {
      return transport.readFile(`${ref.dir}/${name}`, range);
    },

    async signal(ref: TaskRef, signal: 'TERM' | 'KILL') {
      const result = await cli(['kill', '--signal', signal, ref.session], `signal ${ref.session}`, true);
      return result.code === 0;
    },

    async stop(ref: TaskRef, graceMs: number): Promise<StopReport> {
      const states = await inspect([ref]);
      const wasRunning = states.get(ref.session)?.running === true;
      await cli(['stop', '-t', String(Math.ceil(graceMs / 1000)), ref.session], `stop ${ref.session}`, true);
      await cli(['rm', '-f', ref.session], `remove ${ref.session}`, true);
      // The outcome files, and whether a container of that name somehow still runs.
      const [after] = await this.probe([ref]).catch(() => []);
      return {
        stopped: wasRunning ? 1 : 0,
        forced: 0,
        survivors: after?.container?.running ? 1 : 0,
        done: after?.done ?? null,
        exitCode: after?.exitCode ?? null,
      };
    },

    async release(ref: TaskRef) {
      await cli(['rm', '-f', ref.session], `remove ${ref.session}`, true);
    },

    async removeDir(ref: TaskRef) {
      const result = await transport.exec(REMOVE_DIR_SCRIPT, { args: [ref.dir] });
      if (result.code !== 0) throw new SwitchboardError('task_failed', `${where}: could not remove ${ref.dir}: ${result.stderr.trim()}`);
    },

    close: () => transport.close(),
  };
}
