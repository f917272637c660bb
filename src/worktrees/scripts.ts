/**
 * The git scripts behind worktrees, run on the executor's host through the host layer (one exec each). Static
 * text; paths and branch names come in as positional arguments, never spliced into a line. Output is
 * `key value` lines; an error is `error <code> <base64 message>`, so parsing never guesses.
 */
import { bash, HOST_PRELUDE } from '../executors/index.js';

const COMMON = bash`
set -u
fail() { printf 'error %s %s\n' "$1" "$(printf '%s' "$2" | base64 -w0)"; exit 0; }
use_git() {
  find_tool git
  [ -n "$found" ] || fail no_git "git is not installed on this host (PATH=$PATH)"
  git=$found
}
`;

/**
 * Args: workspace ('' = $HOME; ~ expands), name, branch. Checks everything before it changes anything: a git
 * repository with a commit, nothing staged, the branch valid and not checked out in another worktree, the place
 * free. Then `git worktree add` at <git common dir>/sb-worktrees/<name> (a new branch from HEAD when it does not
 * exist), and points the worktree's .git file at its metadata by a relative path, so the worktree also works
 * where the repository is mounted at another path (a container).
 * Output: path, workdir (the same subdirectory of the worktree as the workspace is of its repository), repo,
 * created (1: the branch is new), head.
 */
export const WORKTREE_ADD_SCRIPT =
  HOST_PRELUDE +
  COMMON +
  bash`
name=$2 branch=$3
expand_home "$1" "$HOME"
ws=$expanded
[ -d "$ws" ] && cd -P -- "$ws" 2>/dev/null || fail workspace_missing "$ws"
use_git
top=$("$git" rev-parse --show-toplevel 2>/dev/null) || top=
[ -n "$top" ] || fail not_repo "$PWD"
prefix=$("$git" rev-parse --show-prefix)
common=$(cd -P -- "$("$git" rev-parse --git-common-dir)" && pwd) || fail not_repo "$PWD"
"$git" rev-parse -q --verify 'HEAD^{commit}' >/dev/null || fail no_commits "$top"
"$git" check-ref-format --branch "$branch" >/dev/null 2>&1 || fail bad_branch "$branch"
staged=$("$git" diff --cached --name-only 2>/dev/null | head -n 5)
if ! "$git" diff --cached --quiet 2>/dev/null; then fail dirty_index "$staged"; fi
created=1
if "$git" show-ref --verify -q "refs/heads/$branch"; then
  created=0
  wt= line=
  while IFS= read -r line; do
    case $line in
      'worktree '*) wt=\${line#worktree } ;;
      "branch refs/heads/$branch") fail checked_out "$wt" ;;
    esac
  done < <("$git" worktree list --porcelain)
fi
dest=$common/sb-worktrees/$name
[ ! -e "$dest" ] || fail exists "$dest"
mkdir -p -- "$common/sb-worktrees" || fail io "cannot create $common/sb-worktrees"
if [ "$created" = 1 ]; then
  out=$("$git" worktree add -q -b "$branch" -- "$dest" HEAD 2>&1) || fail add_failed "$out"
else
  out=$("$git" worktree add -q -- "$dest" "$branch" 2>&1) || fail add_failed "$out"
fi
meta=$("$git" -C "$dest" rev-parse --git-dir) || fail add_failed "no metadata for $dest"
printf 'gitdir: ../../worktrees/%s\n' "\${meta##*/}" > "$dest/.git.tmp" && mv -f -- "$dest/.git.tmp" "$dest/.git"
# Owned like the repository's .git (a container's user, when git ran here as root), best effort.
chown -R --reference="$common" -- "$dest" "$common/sb-worktrees" "$meta" 2>/dev/null || true
printf 'path %s\n' "$dest"
workdir=$dest
[ -z "$prefix" ] || workdir=$dest/\${prefix%/}
printf 'workdir %s\n' "$workdir"
printf 'repo %s\n' "$top"
printf 'created %s\n' "$created"
printf 'head %s\n' "$("$git" -C "$dest" rev-parse HEAD)"
`;

/**
 * Args: worktree paths. Output per path, in order: `wt <i> missing` or `wt <i> <changed files> <branch>` (the
 * branch `-` when detached).
 */
export const WORKTREE_STATE_SCRIPT =
  HOST_PRELUDE +
  COMMON +
  bash`
use_git
i=0
for p in "$@"; do
  if [ -e "$p/.git" ] && status=$("$git" -C "$p" status --porcelain 2>/dev/null); then
    n=0
    [ -z "$status" ] || n=$(printf '%s\n' "$status" | wc -l)
    b=$("$git" -C "$p" symbolic-ref -q --short HEAD 2>/dev/null) || b=-
    printf 'wt %s %s %s\n' "$i" "$((n))" "$b"
  else
    printf 'wt %s missing\n' "$i"
  fi
  i=$((i + 1))
done
`;

/**
 * Args: repo, path, force (1/0), branch, drop (1: also delete the branch; only for a worktree that never ran).
 * A worktree with uncommitted changes stays unless forced: `dirty <count> <base64 of the first lines of git
 * status>`. Output otherwise: `removed`, or `gone` when it was not there any more (its metadata is pruned).
 */
export const WORKTREE_REMOVE_SCRIPT =
  HOST_PRELUDE +
  COMMON +
  bash`
repo=$1 path=$2 force=$3 branch=$4 drop=$5
use_git
if [ ! -e "$path" ]; then
  "$git" -C "$repo" worktree prune 2>/dev/null
  echo gone
  exit 0
fi
if [ "$force" != 1 ]; then
  status=$("$git" -C "$path" status --porcelain 2>&1) || fail status_failed "$status"
  if [ -n "$status" ]; then
    printf 'dirty %s %s\n' "$(printf '%s\n' "$status" | wc -l)" "$(printf '%s\n' "$status" | head -n 5 | base64 -w0)"
    exit 0
  fi
fi
out=$("$git" -C "$repo" worktree remove --force -- "$path" 2>&1) || fail remove_failed "$out"
[ "$drop" != 1 ] || "$git" -C "$repo" branch -D -- "$branch" >/dev/null 2>&1
echo removed
`;
