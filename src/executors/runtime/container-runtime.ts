import { SwitchboardError } from '../../errors.js';
import type { ContainerExecutorConfig } from '../config.js';
import { PREPARE_SCRIPT, PROBE_SCRIPT, REMOVE_DIR_SCRIPT } from '../protocol/host-scripts.js';
import { parseProbeOutput, type ContainerInfo, type TaskProbe } from '../protocol/probe.js';
import { describeRunFailure, parseInspectLine } from './container-state.js';
import { FILE, type TaskFile } from '../protocol/task-files.js';
import type { ReadRange, ReadResult, Transport } from '../transport/transport.js';
import type { HostCheck, PreparedTask, StopReport, TaskRef, TaskRuntime } from './runtime.js';
import { makeSubdirectories, parseFields } from './tmux-runtime.js';

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

/** Gives the task directory to the container's user: it is 0700, and that user may not be the bot's. */
const CHOWN_SCRIPT = 'chown -R -- "$1" "$2"';
/** Which host paths named as volume sources are missing (one per line). */
const MISSING_PATHS_SCRIPT = 'for p in "$@"; do [ -e "$p" ] || printf "%s\\n" "$p"; done';

/**
 * Tasks as containers: `<runtime> run -d --init` with the task directory mounted at its own path, running the
 * same wrapper as tmux does. Env travels in a 0600 `--env-file` (never `-e K=V`, which `inspect` would show).
 * Liveness comes from `inspect` (pids inside are in another namespace); stop is `stop -t <grace>` then `rm`:
 * the init passes TERM to the wrapper, which forwards it to the agent's process group and waits for it.
 *
 * Docker and podman differ where it hurts, so nothing is left to either: the image's ENTRYPOINT is replaced
 * (or named in the config), no `-w` (both create a missing workdir, root-owned; the wrapper's own `cd` fails
 * clearly instead), host volume sources are checked before `run` (docker would create them, podman refuses),
 * and a non-root image user gets the task directory chowned to it.
 */
export function createContainerRuntime(options: ContainerRuntimeOptions): TaskRuntime {
  const { config, transport, where } = options;
  const runtime = config.runtimePath ?? config.runtime;

  /** uid[:gid] of a user name, per image (looking it up starts a container). */
  const resolvedUsers = new Map<string, string>();

  async function cli(args: string[], what: string, allowFailure = false) {
    const result = await transport.exec(RUN_ARGV, { args: [runtime, ...args] });
    if (result.code !== 0 && !allowFailure) {
      throw new SwitchboardError('task_failed', `${where}: ${config.runtime} could not ${what}: ${describeRunFailure(config.runtime, result.code ?? -1, result.stderr)}`);
    }
    return result;
  }

  /** Absolute host paths the volumes mount; named volumes (no leading /) are the engine's business. */
  function volumeSources(): string[] {
    return config.volumes.filter((v) => v.includes(':')).map((v) => v.slice(0, v.indexOf(':'))).filter((host) => host.startsWith('/'));
  }

  /** The same error on docker (which would create a missing source, root-owned) and podman (which refuses). */
  async function checkVolumes() {
    const sources = volumeSources();
    if (sources.length === 0) return;
    const result = await transport.exec(MISSING_PATHS_SCRIPT, { args: sources });
    const missing = result.stdout.split('\n').filter(Boolean);
    if (missing.length > 0) {
      throw new SwitchboardError('workspace_missing', `${where}: volume source ${missing.join(', ')} does not exist on this machine`, {
        hint: 'Create it, or fix `volumes` in switchboard.yaml (host:container[:options]).',
      });
    }
  }

  /** `--user` as configured, else the image's USER; '' means root. */
  async function containerUser(): Promise<string> {
    if (config.user !== undefined) return config.user;
    const result = await cli(['image', 'inspect', '--format', '{{.Config.User}}', config.image], `inspect image ${config.image}`, true);
    return result.code === 0 ? result.stdout.trim() : '';
  }

  /** uid[:gid] for chown, or null for root. A name is looked up inside the image (with its volumes: its tools may live there). */
  async function ownerFor(user: string): Promise<string | null> {
    const [name = '', group] = user.split(':');
    if (name === '' || name === 'root' || name === '0') return null;
    if (/^\d+$/.test(name) && (group === undefined || /^\d+$/.test(group))) return user;
    const cached = resolvedUsers.get(`${config.image}|${user}`);
    if (cached) return cached === '0:0' ? null : cached;
    const volumes = config.volumes.flatMap((v) => ['-v', v]);
    const args = ['run', '--rm', '--user', user, ...volumes, '--entrypoint', 'bash', config.image, '-c', 'id -u; id -g'];
    const result = await cli(args, `look up the user ${user} in ${config.image}`);
    const [uid, gid] = result.stdout.trim().split('\n');
    if (!uid || !/^\d+$/.test(uid) || !gid || !/^\d+$/.test(gid)) throw new SwitchboardError('task_failed', `${where}: could not find the uid of ${user} in ${config.image}`);
    const owner = `${uid}:${gid}`;
    resolvedUsers.set(`${config.image}|${user}`, owner);
    return owner === '0:0' ? null : owner;
  }

  async function giveTaskDir(dir: string) {
    const owner = await ownerFor(await containerUser());
    if (!owner) return;
    const result = await transport.exec(CHOWN_SCRIPT, { args: [owner, dir] });
    if (result.code !== 0) {
      throw new SwitchboardError('task_failed', `${where}: the container runs as ${owner} and could not be given its task directory: ${result.stderr.trim()}`, {
        hint: 'Run Switchboard as root, or set `user:` in the executor: the uid Switchboard runs as (docker, rootful podman), or root for rootless podman (whose root is your own user).',
      });
    }
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
    if (config.user !== undefined) args.push('--user', config.user);
    if (config.network !== undefined) args.push('--network', config.network);
    for (const volume of config.volumes) args.push('-v', volume);
    args.push('-v', `${ref.dir}:${ref.dir}`);
    const wrapper = [`${ref.dir}/${FILE.wrapper}`, ref.dir];
    if (config.entrypoint !== undefined) args.push('--entrypoint', config.entrypoint, config.image, 'bash', ...wrapper);
    else args.push('--entrypoint', 'bash', config.image, ...wrapper);
    return args;
  }

  async function inspect(refs: readonly TaskRef[]): Promise<Map<string, ContainerInfo>> {
    const result = await cli(['inspect', '--format', '{{.Name}} {{json .State}}', ...refs.map((r) => r.session)], 'inspect containers', true);
    const states = new Map<string, ContainerInfo>();
    // A line we do not understand says nothing about liveness.
    for (const parsed of result.stdout.split('\n').map(parseInspectLine)) if (parsed) states.set(parsed.name, parsed.info);
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
      await checkVolumes();
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
      await makeSubdirectories(transport, dir, files, where);
      await Promise.all(files.map((file) => transport.writeFile(`${dir}/${file.name}`, file.data, file.mode)));
    },

    async launch(ref: TaskRef, attempt: number) {
      const reset = await transport.exec(RESET_SCRIPT, { args: [ref.dir, String(attempt)] });
      if (reset.code !== 0) throw new SwitchboardError('task_failed', `${where}: no task directory ${ref.dir}`);
      await checkVolumes();
      // Files the launcher wrote since (attempt, a follow-up's prompt) are root's too.
      await giveTaskDir(ref.dir);
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
      // Before rm: a 137 says the grace period ran out and the engine sent KILL.
      const stopped = (await inspect([ref]).catch(() => new Map<string, ContainerInfo>())).get(ref.session);
      await cli(['rm', '-f', ref.session], `remove ${ref.session}`, true);
      // The outcome files, and whether a container of that name somehow still runs.
      const [after] = await this.probe([ref]).catch(() => []);
      return {
        stopped: wasRunning ? 1 : 0,
        forced: wasRunning && stopped?.exitCode === 137 ? 1 : 0,
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
