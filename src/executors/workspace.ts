import { SwitchboardError } from '../errors.js';
import type { ExecutorConfig } from './config.js';

/** `/srv/app`, `~` and `~/app` say where they are; anything else is relative to something. */
export function isRootedPath(path: string): boolean {
  return path.startsWith('/') || path === '~' || path.startsWith('~/');
}

/**
 * Where a task works on an executor. A relative `--workspace` is under the executor's `workspace:` (its working
 * directory), or, when it has none, under the home directory of the user tasks run as there (`~/`, which only
 * that host can expand). Never under the bot's own working directory: `run local --workspace ../../etc` used to
 * climb out of wherever the bot happened to be started. An executor `workspace:` that is itself relative is
 * under that home too. Undefined when neither says anything (the host then uses its home).
 *
 * A container has no home to expand `~` against, so a relative path there needs the executor's `workspace:`.
 */
export function resolveWorkspace(executor: Pick<ExecutorConfig, 'name' | 'type' | 'workspace'>, given: string | undefined): string | undefined {
  const configured = executor.workspace;
  // (A container's relative `workspace:` is passed on as written: there is no `~` inside one.)
  const base = configured === undefined || isRootedPath(configured) || executor.type === 'container' ? configured : `~/${configured}`;
  if (given === undefined || given === '') return base;
  if (isRootedPath(given)) return given;
  if (base === undefined && executor.type === 'container') {
    throw new SwitchboardError('usage', `--workspace ${given.slice(0, 80)} is relative, and container executor '${executor.name}' has no workspace: to put it under`, {
      hint: 'Give an absolute path inside the container, or set workspace: for that executor in switchboard.yaml.',
    });
  }
  return `${(base ?? '~').replace(/\/+$/, '')}/${given}`;
}
