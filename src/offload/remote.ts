import { SwitchboardError } from '../errors.js';
import { bash, HOST_PRELUDE, parseFields, type Transport } from '../executors/index.js';

/**
 * The few things offload asks an executor host, one exec each, as static scripts with values in $1…
 * (the transport quotes them). Output is `key value` lines.
 */

/**
 * Args: rsync name/path, target ('~', '~/x' or absolute), CLAUDE_CONFIG_DIR from the executor's env (''), HOME from
 * the executor's env (''). Output: home, rsync (absolute or empty), target (absolute), state
 * (missing | empty | nonempty | notdir), physical (when it is a directory), claude_config, free_kb (of the nearest
 * existing ancestor).
 */
export const INSPECT_SCRIPT =
  HOST_PRELUDE +
  bash`
set -u
rsync=$1 target=$2 config=$3 taskhome=\${4:-$HOME}
printf 'home %s\n' "$HOME"
find_tool "$rsync"
printf 'rsync %s\n' "$found"
expand_home "$target"
target=$expanded
printf 'target %s\n' "$target"
if [ -d "$target" ]; then
  if [ -z "$(ls -A -- "$target" 2>/dev/null | head -c 1)" ]; then echo 'state empty'; else echo 'state nonempty'; fi
  printf 'physical %s\n' "$(cd -P -- "$target" && pwd)"
elif [ -e "$target" ] || [ -L "$target" ]; then
  echo 'state notdir'
else
  echo 'state missing'
fi
[ -n "$config" ] || config=$taskhome/.claude
printf 'claude_config %s\n' "$config"
probe=$target
while [ ! -e "$probe" ] && [ "$probe" != / ] && [ -n "$probe" ]; do probe=\${probe%/*}; [ -n "$probe" ] || probe=/; done
free=$(df -Pk -- "$probe" 2>/dev/null | awk 'NR==2 {print $4}')
printf 'free_kb %s\n' "\${free:-}"
exit 0
`;

/**
 * Args: directory, mode (700 or ''). Creates it (and its parents); prints its physical path, and the topmost
 * directory it had to create (`created`), so a failed offload can remove exactly that and nothing that was there.
 * A mkdir that fails half way removes what it made before saying so.
 */
export const MKDIR_SCRIPT = bash`
set -u
dir=$1 mode=$2
top= probe=$dir
while [ -n "$probe" ] && [ ! -e "$probe" ] && [ ! -L "$probe" ]; do
  top=$probe
  parent=\${probe%/*}
  [ "$parent" = "$probe" ] && break
  probe=$parent
done
mkdir -p -- "$dir" || { [ -n "$top" ] && rm -rf -- "$top"; exit 3; }
[ -n "$mode" ] && chmod "$mode" -- "$dir"
printf 'physical %s\n' "$(cd -P -- "$dir" && pwd)"
[ -z "$top" ] || printf 'created %s\n' "$(cd -P -- "$top" && pwd)"
`;

/**
 * Args: directory, how (remove | empty). Undoes what a failed offload made: removes a directory it created, or
 * empties one that was empty before it started. A path that is no longer a directory (or became a symlink) is
 * left alone.
 */
export const UNDO_SCRIPT = bash`
set -u
dir=$1 how=$2
[ -d "$dir" ] && [ ! -L "$dir" ] || exit 0
if [ "$how" = empty ]; then
  cd -- "$dir" && find . -mindepth 1 -delete
else
  rm -rf -- "$dir"
fi
`;

export interface RemoteInspection {
  home: string;
  rsync: string | null;
  target: string;
  state: 'missing' | 'empty' | 'nonempty' | 'notdir';
  physical: string | null;
  claudeConfig: string;
  freeKb: number | null;
}

export async function inspectRemote(
  transport: Transport,
  where: string,
  input: { rsync: string; target: string; claudeConfigDir?: string | undefined; taskHome?: string | undefined },
): Promise<RemoteInspection> {
  const result = await transport.exec(INSPECT_SCRIPT, { args: [input.rsync, input.target, input.claudeConfigDir ?? '', input.taskHome ?? ''] });
  if (result.code !== 0) throw new SwitchboardError('sync_failed', `${where}: could not inspect the host: ${result.stderr.trim() || `exit ${result.code}`}`);
  const f = parseFields(result.stdout);
  const free = f.get('free_kb');
  return {
    home: f.get('home') ?? '',
    rsync: f.get('rsync') || null,
    target: f.get('target') ?? input.target,
    state: (f.get('state') as RemoteInspection['state'] | undefined) ?? 'missing',
    physical: f.get('physical') || null,
    claudeConfig: f.get('claude_config') ?? '',
    freeKb: free ? Number(free) : null,
  };
}

export interface MadeDir {
  physical: string;
  /** The topmost directory that did not exist before (the directory itself or an ancestor), or null. */
  created: string | null;
}

export async function makeRemoteDir(transport: Transport, where: string, dir: string, privateMode = false): Promise<MadeDir> {
  const result = await transport.exec(MKDIR_SCRIPT, { args: [dir, privateMode ? '700' : ''] });
  if (result.code !== 0) {
    const message = result.stderr.trim() || `exit ${result.code}`;
    if (/No space left on device/i.test(message)) throw new SwitchboardError('disk_full', `${where} has no disk space left to create ${dir}`);
    throw new SwitchboardError('sync_failed', `${where}: cannot create ${dir}: ${message}`, { hint: 'Check the permissions there, or choose another directory with --to.' });
  }
  const fields = parseFields(result.stdout);
  return { physical: fields.get('physical') ?? dir, created: fields.get('created') || null };
}

/** One step of putting an executor back as it was: a directory to remove, or one to empty again. */
export interface UndoStep {
  dir: string;
  how: 'remove' | 'empty';
}

/** Runs the steps, latest first; returns what could not be undone (for the log: the offload already failed). */
export async function undoRemote(transport: Transport, steps: readonly UndoStep[]): Promise<string[]> {
  const problems: string[] = [];
  for (const step of [...steps].reverse()) {
    const result = await transport.exec(UNDO_SCRIPT, { args: [step.dir, step.how] }).catch((error: unknown) => ({ code: -1, stdout: '', stderr: String(error) }));
    if (result.code !== 0) problems.push(`${step.how} ${step.dir}: ${result.stderr.trim() || `exit ${result.code}`}`);
  }
  return problems;
}
