import { SwitchboardError, toSwitchboardError } from '../errors.js';
import { resolveWorkspace, type ExecutorConfig, type Host } from '../executors/index.js';
import { checkBranch, generatedBranch } from './branch.js';
import { WORKTREE_ADD_SCRIPT, WORKTREE_REMOVE_SCRIPT, WORKTREE_STATE_SCRIPT } from './scripts.js';
import type { WorktreeRow, WorktreeStore } from './store.js';

/** An executor's machine as the host layer opened it (for a container executor: this machine, where git runs). */
export type HostOf = (executor: string) => { config: ExecutorConfig; host: Host };

export interface WorktreesDeps {
  store: WorktreeStore;
  hostOf: HostOf;
}

export interface WorktreeSpec {
  name: string;
  executor: string;
  kind: WorktreeRow['kind'];
  /** As typed (`--workspace` / `--dir`): relative is under the executor's workspace, `~` is its user's home. */
  workspace?: string;
  /** Undefined: `sb/<name>`. */
  branch?: string;
}

export type WorktreeState = 'clean' | 'dirty' | 'missing' | 'unknown';

export interface WorktreeListing extends WorktreeRow {
  state: WorktreeState;
  /** Files git status lists (dirty). */
  changes?: number;
  /** Why the state is unknown (the host could not be reached). */
  problem?: string;
}

const EXEC_TIMEOUT_MS = 60_000;

/**
 * Git worktrees Switchboard makes for tasks and managed OpenCode sessions, one per name: made on the executor's
 * host through the host layer, at `<git common dir>/sb-worktrees/<name>` (inside the repository's own .git, so
 * it is wherever the repository is: under a container's mounted workspace too, and never in the way of the
 * workspace's own files), recorded in SQLite, removed only when asked and only when clean (or forced).
 */
export function createWorktrees(deps: WorktreesDeps) {
  const { store } = deps;

  async function create(spec: WorktreeSpec): Promise<WorktreeRow> {
    const branch = spec.branch === undefined ? generatedBranch(spec.name) : checkBranch(spec.branch);
    const existing = store.live(spec.name);
    if (existing) {
      throw new SwitchboardError('name_taken', `${spec.name} already has a worktree (${existing.path} on ${existing.executor}, branch ${existing.branch})`, {
        hint: `kill ${spec.name} --cleanup removes it, or pick another name.`,
      });
    }
    const { config, host } = deps.hostOf(spec.executor);
    const site = siteOf(config, spec.workspace);
    const result = await host.exec(WORKTREE_ADD_SCRIPT, { args: [site.hostWorkspace, spec.name, branch], timeoutMs: EXEC_TIMEOUT_MS });
    const fields = parseFields(result.stdout);
    const error = fields.get('error');
    if (error !== undefined) throw refusal(error, { branch, executor: spec.executor, workspace: site.shown });
    const path = fields.get('path');
    const workdir = fields.get('workdir');
    const repo = fields.get('repo');
    if (result.code !== 0 || !path || !workdir || !repo) {
      throw new SwitchboardError('task_failed', `could not make a worktree on ${host.where}: ${result.stderr.trim().slice(0, 300) || `exit ${result.code}`}`);
    }
    return store.insert({
      name: spec.name,
      executor: spec.executor,
      kind: spec.kind,
      repo,
      path,
      workdir: site.toExecutor(workdir),
      branch,
      createdBranch: fields.get('created') === '1',
    });
  }

  /**
   * Removes the worktree of `name`; the branch stays. Refuses, saying what is uncommitted, when it has changes,
   * unless forced. Null when the name has none.
   */
  async function remove(name: string, options: { force?: boolean } = {}): Promise<{ row: WorktreeRow; outcome: 'removed' | 'gone' } | null> {
    const row = store.live(name);
    if (!row) return null;
    const outcome = await removeRow(row, options.force === true, false);
    store.removed(row.id);
    return { row, outcome };
  }

  /** Undoes create() for work that never started: the worktree goes, and the branch too when create() made it. */
  async function discard(name: string): Promise<void> {
    const row = store.live(name);
    if (!row) return;
    await removeRow(row, true, row.createdBranch);
    store.removed(row.id);
  }

  async function removeRow(row: WorktreeRow, force: boolean, dropBranch: boolean): Promise<'removed' | 'gone'> {
    const { host } = deps.hostOf(row.executor);
    const result = await host.exec(WORKTREE_REMOVE_SCRIPT, {
      args: [row.repo, row.path, force ? '1' : '0', row.branch, dropBranch ? '1' : '0'],
      timeoutMs: EXEC_TIMEOUT_MS,
    });
    const out = result.stdout.trim().split('\n').pop() ?? '';
    const [word, count, encoded] = out.split(' ');
    if (word === 'removed' || word === 'gone') return word;
    if (word === 'dirty') {
      const lines = fromBase64(encoded ?? '').trim().split('\n').filter(Boolean);
      throw new SwitchboardError(
        'worktree_refused',
        `the worktree of ${row.name} (${row.path} on ${row.executor}, branch ${row.branch}) has ${count} uncommitted change${count === '1' ? '' : 's'}: ${lines.map((l) => `\`${l}\``).join(', ')}${Number(count) > lines.length ? ', …' : ''}; it stays`,
        { hint: `Commit them on ${row.branch} first, or kill ${row.name} --cleanup --force to throw them away (the branch stays either way).` },
      );
    }
    const fields = parseFields(result.stdout);
    const error = fields.get('error');
    if (error !== undefined) throw refusal(error, { branch: row.branch, executor: row.executor, workspace: row.path });
    throw new SwitchboardError('task_failed', `could not remove the worktree ${row.path} on ${row.executor}: ${result.stderr.trim().slice(0, 300) || `exit ${result.code}`}`);
  }

  /** Every worktree Switchboard made and has not removed, with its state: one exec per executor. */
  async function list(): Promise<WorktreeListing[]> {
    const rows = store.list();
    const byExecutor = new Map<string, WorktreeRow[]>();
    for (const row of rows) byExecutor.set(row.executor, [...(byExecutor.get(row.executor) ?? []), row]);
    const states = new Map<number, Pick<WorktreeListing, 'state' | 'changes' | 'problem'>>();
    await Promise.all(
      [...byExecutor].map(async ([executor, group]) => {
        try {
          const { host } = deps.hostOf(executor);
          const result = await host.exec(WORKTREE_STATE_SCRIPT, { args: group.map((r) => r.path), timeoutMs: EXEC_TIMEOUT_MS });
          const error = parseFields(result.stdout).get('error');
          if (error !== undefined) throw refusal(error, { branch: '', executor, workspace: '' });
          for (const line of result.stdout.split('\n')) {
            const [tag, index, count] = line.split(' ');
            const row = tag === 'wt' ? group[Number(index)] : undefined;
            if (!row) continue;
            if (count === 'missing') states.set(row.id, { state: 'missing' });
            else states.set(row.id, Number(count) > 0 ? { state: 'dirty', changes: Number(count) } : { state: 'clean' });
          }
        } catch (error) {
          for (const row of group) states.set(row.id, { state: 'unknown', problem: toSwitchboardError(error).message });
        }
      }),
    );
    return rows.map((row) => ({ ...row, ...(states.get(row.id) ?? { state: 'unknown' as const }) }));
  }

  return {
    create,
    remove,
    discard,
    list,
    /** The live worktree of a name, if it has one. */
    of(name: string): WorktreeRow | null {
      return store.live(name);
    },
  };
}

export type Worktrees = ReturnType<typeof createWorktrees>;

/**
 * Where git runs for a workspace, and how a path there reads on the executor. On an ssh or local executor both
 * are the same place. A container's workspace is reached through the volume that mounts it: git runs on this
 * machine in the volume's source, and the task sees the worktree at the same place under the volume's target.
 */
export function siteOf(config: ExecutorConfig, given: string | undefined): { hostWorkspace: string; shown: string; toExecutor: (path: string) => string } {
  const workspace = resolveWorkspace(config, given);
  if (config.type !== 'container') return { hostWorkspace: workspace ?? '', shown: workspace ?? '~', toExecutor: (path) => path };
  if (workspace === undefined || !workspace.startsWith('/')) {
    throw new SwitchboardError('usage', `a worktree on container executor '${config.name}' needs an absolute workspace on one of its volumes`, {
      hint: 'Give --workspace /path/in/the/container, or set workspace: for that executor in switchboard.yaml.',
    });
  }
  for (const volume of config.volumes) {
    const [source, target] = volume.split(':');
    if (!source || !target || !source.startsWith('/')) continue;
    const inside = target.replace(/\/+$/, '') || '/';
    const under = workspace === inside || workspace.startsWith(`${inside === '/' ? '' : inside}/`);
    if (!under) continue;
    const hostSide = source.replace(/\/+$/, '') || '/';
    const toHost = (path: string) => join(hostSide, path.slice(inside.length));
    return {
      hostWorkspace: toHost(workspace),
      shown: workspace,
      toExecutor: (path) => (path === hostSide || path.startsWith(`${hostSide}/`) ? join(inside, path.slice(hostSide.length)) : path),
    };
  }
  throw new SwitchboardError('usage', `workspace ${workspace} of container executor '${config.name}' is not on any of its volumes, so a worktree made there would not outlive the container`, {
    hint: 'Mount the repository with volumes: (host:container) in switchboard.yaml.',
  });
}

function join(base: string, rest: string): string {
  if (rest === '' || rest === '/') return base;
  return `${base === '/' ? '' : base}/${rest.replace(/^\/+/, '')}`;
}

function parseFields(stdout: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) fields.set(line.slice(0, space), line.slice(space + 1));
  }
  return fields;
}

function fromBase64(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

/** A script's `error <code> <base64>` line as the error the user reads. */
function refusal(line: string, about: { branch: string; executor: string; workspace: string }): SwitchboardError {
  const space = line.indexOf(' ');
  const code = space < 0 ? line : line.slice(0, space);
  const detail = space < 0 ? '' : fromBase64(line.slice(space + 1)).trim();
  const on = `on ${about.executor}`;
  switch (code) {
    case 'workspace_missing':
      return new SwitchboardError('workspace_missing', `workspace ${detail || about.workspace} does not exist ${on}`);
    case 'no_git':
      return new SwitchboardError('missing_tool', `${detail} (${about.executor})`, { hint: 'Install git there, or start without --worktree.' });
    case 'not_repo':
      return new SwitchboardError('worktree_refused', `${detail || about.workspace} ${on} is not a git repository, so it cannot have a worktree`, {
        hint: 'Point --workspace at a git checkout, or start without --worktree.',
      });
    case 'no_commits':
      return new SwitchboardError('worktree_refused', `the repository ${detail} ${on} has no commit yet, so there is nothing to branch from`, { hint: 'Commit something first.' });
    case 'bad_branch':
      return new SwitchboardError('usage', `\`${about.branch.slice(0, 80)}\` is not a branch name git accepts ${on}`);
    case 'dirty_index':
      return new SwitchboardError('worktree_refused', `the repository ${on} has staged changes that are not committed (${detail.split('\n').filter(Boolean).map((f) => `\`${f}\``).join(', ')}); nothing was started`, {
        hint: 'Commit or unstage them (git restore --staged …) first: the worktree starts from HEAD and they would not be in it.',
      });
    case 'checked_out':
      return new SwitchboardError('worktree_refused', `branch ${about.branch} is already checked out ${on} in ${detail}; nothing was started`, {
        hint: 'Pick another branch, or let Switchboard make one (--worktree alone gives sb/<name>).',
      });
    case 'exists':
      return new SwitchboardError('worktree_refused', `${detail} already exists ${on}; nothing was started`, { hint: 'Pick another name.' });
    default:
      return new SwitchboardError('task_failed', `git worktree ${on}: ${detail || code}`);
  }
}
