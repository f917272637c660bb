import type { ContainerInfo } from '../protocol/probe.js';

/**
 * What docker and podman say about a container, read the same way for both, and their exit codes turned into
 * reasons a user can act on. Pure: the container runtime feeds it the CLI's output.
 *
 * Differences handled here: docker prints `.Name` with a leading slash, podman without; podman has states docker
 * lacks (configured, initialized, stopped) and docker has `dead`; both report OOMKilled and ExitCode.
 */

type Engine = 'docker' | 'podman';

interface InspectState {
  Status?: string;
  Running?: boolean;
  ExitCode?: number;
  OOMKilled?: boolean;
  Error?: string;
}

/** One line of `inspect --format '{{.Name}} {{json .State}}'`; null for a line that is not one. */
export function parseInspectLine(line: string): { name: string; info: ContainerInfo } | null {
  const space = line.indexOf(' ');
  if (space === -1) return null;
  let state: InspectState;
  try {
    state = JSON.parse(line.slice(space + 1)) as InspectState;
  } catch {
    return null;
  }
  if (typeof state !== 'object' || state === null) return null;
  const running = state.Running === true;
  const exitCode = typeof state.ExitCode === 'number' ? state.ExitCode : null;
  return {
    name: line.slice(0, space).replace(/^\//, ''),
    info: { running, status: running ? 'running' : exitedStatus(state, exitCode), exitCode },
  };
}

/** How a stopped container ended, worded to follow "its container …" in a task's failure reason. */
function exitedStatus(state: InspectState, exitCode: number | null): string {
  if (state.OOMKilled === true) return 'was killed for lack of memory (OOM)';
  const status = (state.Status ?? 'unknown').toLowerCase();
  // podman: created → configured → initialized before it runs; stopped is podman's exited.
  if (status === 'created' || status === 'configured' || status === 'initialized') return 'never started';
  if (exitCode !== null && exitCode !== 0) {
    const why = CONTAINER_EXITS[exitCode];
    if (why) return `exited: ${why}`;
  }
  if (status === 'stopped') return 'exited';
  return status;
}

/**
 * Exit codes that mean something about the container rather than the task: 125-127 come from the engine or
 * the OCI runtime, 137/143 from a signal to the container's init.
 */
const CONTAINER_EXITS: Record<number, string> = {
  125: 'the engine could not create or start it',
  126: 'its command could not be run (permission denied: can the image user read the task directory?)',
  127: 'its command was not found (no bash in the image, or the task directory is not mounted)',
  137: 'killed with SIGKILL (kill -9, a stop past its grace period, or out of memory)',
  143: 'stopped with SIGTERM',
};

/**
 * Why `<engine> run` failed, for the message that a task could not start. Podman and docker both exit 125 when
 * the engine refuses (unknown image, network or option; a missing volume on podman), 126/127 when the command
 * cannot be run (docker reports those at `run` when no --init stands in between).
 */
export function describeRunFailure(engine: Engine, code: number, stderr: string): string {
  const said = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/level=warning/.test(l))
    .slice(-2)
    .join(' / ');
  const why = code === 125 ? `${engine} refused to run it` : CONTAINER_EXITS[code] ?? `${engine} failed`;
  return said ? `${why} (exit ${code}): ${said}` : `${why} (exit ${code})`;
}
