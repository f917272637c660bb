/**
 * The bash scripts Switchboard runs on an executor host, one exec each. They are static text; values come in as
 * positional arguments ($1…), which the transport passes as separate argv words (locally) or POSIX-quoted
 * (over SSH). Output is line based, `key value`, with anything free-form in base64, so parsing never guesses.
 *
 * They need bash ≥ 4.4, coreutils and /proc (Linux). perl is optional (the log filter).
 */
import { HOST_PRELUDE } from './prelude.js';
import { bash } from './script.js';

/** Shared functions: liveness from /proc (a zombie is dead: `kill -0` would say alive), and tree kills. */
const FUNCTIONS = bash`
# Forks cost ~10 ms each on small VMs, so these scripts use builtins where they can: EPOCHREALTIME, not date.
set_now() { now=\${EPOCHREALTIME//[!0-9]/}; now=\${now:0:13}; }
# Alive means a /proc entry whose state is not Z (zombie) or X (dead).
alive() {
  local s
  { IFS= read -r s < "/proc/$1/stat"; } 2>/dev/null || return 1
  s=\${s##*) }
  case \${s:0:1} in Z|X) return 1 ;; esac
  return 0
}
# The task's processes: the given roots, all their descendants, and every process carrying the task's marker
# (SWITCHBOARD_TASK=<id>), which catches tool processes orphaned when claude was SIGKILLed.
task_pids() {
  local id=$1 f s pid c
  shift
  local -A children=() seen=()
  local -a fields=() queue=("$@") found=()
  for f in /proc/[0-9]*/stat; do
    { IFS= read -r s < "$f"; } 2>/dev/null || continue
    pid=\${f#/proc/}
    pid=\${pid%/stat}
    read -r -a fields <<< "\${s##*) }"
    children[\${fields[1]}]+=" $pid"
  done
  while [ \${#queue[@]} -gt 0 ]; do
    pid=\${queue[0]}
    queue=("\${queue[@]:1}")
    case $pid in '' | *[!0-9]*) continue ;; esac
    [ -n "\${seen[$pid]:-}" ] && continue
    seen[$pid]=1
    found+=("$pid")
    for c in \${children[$pid]:-}; do queue+=("$c"); done
  done
  if [ -n "$id" ]; then
    for f in $(grep -lzx -- "SWITCHBOARD_TASK=$id" /proc/[0-9]*/environ 2>/dev/null); do
      pid=\${f#/proc/}
      pid=\${pid%/environ}
      [ -n "\${seen[$pid]:-}" ] || { seen[$pid]=1; found+=("$pid"); }
    done
  fi
  for pid in "\${found[@]}"; do alive "$pid" && printf '%s\n' "$pid"; done
  return 0
}
# TERM, up to grace ms for them to go, then KILL whatever is left.
stop_pids() {
  local grace=$1 p
  shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null
  local now
  set_now
  local deadline=$((now + grace))
  local -a left=()
  while :; do
    left=()
    for p in "$@"; do alive "$p" && left+=("$p"); done
    [ \${#left[@]} -eq 0 ] && break
    set_now
    if [ "$now" -ge "$deadline" ]; then
      kill -KILL "\${left[@]}" 2>/dev/null
      forced=$((forced + \${#left[@]}))
      break
    fi
    sleep 0.05
  done
  stopped=$((stopped + $#))
}
# Collect and stop until nothing of the task is left (a dying process may still fork once).
stop_task() {
  local id=$1 grace=$2 round
  shift 2
  local -a pids=()
  for round in 1 2 3 4; do
    mapfile -t pids < <(task_pids "$id" "$@")
    [ \${#pids[@]} -eq 0 ] && return 0
    stop_pids "$grace" "\${pids[@]}"
  done
  # Anything still alive after four rounds is reported, not hidden.
  mapfile -t pids < <(task_pids "$id" "$@")
  survivors=\${#pids[@]}
}
`;

/**
 * check | prepare. Finds tmux and claude (PATH, then a login shell's PATH), checks the workspace, and for
 * prepare makes the task directory with mktemp -d, mode 0700.
 * Args: mode, tmux name/path ('' = not needed), claude name/path ('' = not needed), workspace ('' = $HOME),
 * the directory to make it in ('' = $TMPDIR or /tmp).
 * Output: home, path, tmux, claude, workspace (absolute, empty when missing), dir.
 */
export const PREPARE_SCRIPT =
  HOST_PRELUDE +
  bash`
set -u
mode=$1 tmux=$2 claude=$3 workspace=$4 base=\${5:-}
printf 'home %s\n' "$HOME"
printf 'path %s\n' "$PATH"
ok=1
if [ -n "$tmux" ]; then
  find_tool "$tmux"
  printf 'tmux %s\n' "$found"
  [ -n "$found" ] || ok=0
fi
if [ -n "$claude" ]; then
  find_tool "$claude"
  printf 'claude %s\n' "$found"
  [ -n "$found" ] || ok=0
fi
expand_home "$workspace" "$HOME"
workspace=$expanded
if [ -d "$workspace" ] && cd -P -- "$workspace" 2>/dev/null; then
  printf 'workspace %s\n' "$PWD"
else
  printf 'workspace \n'
  ok=0
fi
# Only a task that can start gets a directory, so a refused start leaves nothing behind. mktemp -d makes it 0700.
if [ "$mode" = prepare ] && [ "$ok" = 1 ]; then
  private_dir "$base" switchboard || exit 3
  printf 'dir %s\n' "$dir"
fi
`;

/**
 * Starts one attempt in tmux: sweeps processes left by an earlier attempt, clears the outcome files, then either
 * respawns the task's pane (keeping pipe-pane attached) or creates the session: new-session running the wrapper
 * as the pane's command, remain-on-exit, pipe-pane into the log filter, then wait-for -S to let the wrapper go.
 * Args: tmux, socket, session, dir, channel, attempt, task id, grace ms.
 */
export const LAUNCH_SCRIPT =
  FUNCTIONS +
  bash`
set -u
tmux=$1 sock=$2 session=$3 dir=$4 channel=$5 attempt=$6 id=$7 grace=$8
stopped=0 forced=0 survivors=0
cd -- "$dir" || { echo "no task directory $dir" >&2; exit 3; }
if [ "$attempt" -gt 1 ]; then
  # Tool processes orphaned by a crashed attempt (claude SIGKILLed) would run on next to the resumed one.
  stop_task "$id" "$grace"
  printf 'swept %s\n' "$stopped"
fi
rm -f done exit_code pid wrapper_pid
printf '%s\n' "$attempt" > attempt.tmp && mv -f attempt.tmp attempt
if [ "$attempt" -gt 1 ] && "$tmux" -L "$sock" has-session -t "=$session" 2>/dev/null; then
  "$tmux" -L "$sock" respawn-pane -k -t "=$session:" || exit 4
  echo 'launched respawn'
  exit 0
fi
printf '%s' "$tmux" > tmux_path
printf '%s' "$channel" > wait_channel
# The pane's command is given as argv (two words), so tmux runs it without a shell; pipe-pane's command does go
# through sh, so the directory is single-quoted there. -e puts the marker in the wrapper's own environment.
# One tmux client does it all; wait-for -S comes last, after pipe-pane is attached.
quoted=\${dir//\'/\'\\\'\'}
"$tmux" -L "$sock" new-session -d -s "$session" -x 200 -y 50 -e "SWITCHBOARD_TASK=$id" "$dir/wrapper.sh" "$dir" \; \
  set-option -w -t "=$session:" remain-on-exit on \; \
  pipe-pane -O -t "=$session:" "exec '$quoted/logfilter.sh'" \; \
  wait-for -S "$channel" || exit 4
echo 'launched new'
`;

/**
 * One exec for every task on a host, with as few processes as possible (bash builtins read the small files
 * and /proc; one stat, two tmux clients and one base64 cover all tasks).
 * Args: tmux ('' when not tmux), socket, procs (1: report /proc liveness of pid and wrapper_pid; 0 in containers,
 * whose pids are in another namespace), nonce (separates the panes' captured text, which a task could forge
 * otherwise), then pairs of dir and session.
 * Output: `now <ms>`; per task `task <i>` then `gone` | `file <name> <value>`, `proc <which> <pid> <state|->`;
 * then `stat <path> <size> <mtime>` lines; `pane <session> <dead> <pid> <status|-> <signal|->` lines; `captures <base64>`.
 */
export const PROBE_SCRIPT = bash`
set -u
tmux=$1 sock=$2 procs=$3 nonce=$4
shift 4
# A pid file holds "<pid> <start time>"; a process with that pid but another start time is someone else.
proc_line() {
  local line pid start s
  local -a fields=()
  [ -f "$1" ] || return 0
  IFS= read -r line < "$1" || true
  pid=\${line%% *}
  start=\${line#* }
  case $pid in '' | *[!0-9]*) return 0 ;; esac
  if { IFS= read -r s < "/proc/$pid/stat"; } 2>/dev/null; then
    read -r -a fields <<< "\${s##*) }"
    if [ "$start" = "$line" ] || [ "\${fields[19]}" = "$start" ]; then
      printf 'proc %s %s %s\n' "$2" "$pid" "\${fields[0]}"
      return 0
    fi
  fi
  printf 'proc %s %s -\n' "$2" "$pid"
}
now=\${EPOCHREALTIME//[!0-9]/}
printf 'now %s\n' "\${now:0:13}"
stats=()
sessions=()
i=0
while [ $# -ge 2 ]; do
  dir=$1 session=$2
  shift 2
  printf 'task %s\n' "$i"
  i=$((i + 1))
  if [ ! -d "$dir" ]; then
    echo 'gone'
    continue
  fi
  # Processes first, then files: a wrapper seen dead has written all it ever will, so the files read next show
  # its outcome (the other order would mistake a task that ended in between for a crash).
  if [ "$procs" = 1 ]; then
    proc_line "$dir/pid" child
    proc_line "$dir/wrapper_pid" wrapper
  fi
  for f in attempt done exit_code; do
    if [ -f "$dir/$f" ]; then
      v=
      IFS= read -r v < "$dir/$f" || true
      printf 'file %s %s\n' "$f" "$v"
    fi
  done
  stats+=("$dir/events.jsonl" "$dir/output.log")
  [ -n "$session" ] && sessions+=("$session")
done
[ \${#stats[@]} -gt 0 ] && stat -c 'stat %n %s %.3Y' -- "\${stats[@]}" 2>/dev/null
if [ -n "$tmux" ]; then
  # '|' separated: a pane killed by a signal has an empty exit status, which spaces would swallow.
  panes=$("$tmux" -L "$sock" list-panes -a -F '#{session_name}|#{pane_dead}|#{pane_pid}|#{pane_dead_status}|#{pane_dead_signal}' 2>/dev/null)
  declare -A live=()
  while IFS='|' read -r name dead pid status signal; do
    [ -n "$name" ] || continue
    printf 'pane %s %s %s %s %s\n' "$name" "$dead" "$pid" "\${status:--}" "\${signal:--}"
    [ "$dead" = 0 ] && live[$name]=1
  done <<< "$panes"
  # One tmux client captures every live pane (a missing target would stop the chain, so only live ones).
  chain=()
  for s in "\${sessions[@]}"; do
    [ -n "\${live[$s]:-}" ] && chain+=(display-message -p "$nonce $s" \; capture-pane -p -J -t "=$s:" \;)
  done
  if [ \${#chain[@]} -gt 0 ]; then
    printf 'captures '
    "$tmux" -L "$sock" "\${chain[@]}" 2>/dev/null | base64 -w0
    echo
  fi
fi
exit 0
`;

/**
 * A signal to the process named by a pid file ("<pid> <start time>"), only if it is still that process: pids get
 * reused. Args: pid file, signal name.
 */
export const SIGNAL_SCRIPT = bash`
set -u
file=$1 signal=$2
line=
IFS= read -r line < "$file" 2>/dev/null || { echo gone; exit 0; }
pid=\${line%% *}
start=\${line#* }
s=
{ IFS= read -r s < "/proc/$pid/stat"; } 2>/dev/null || { echo gone; exit 0; }
read -r -a fields <<< "\${s##*) }"
if [ "$start" != "$line" ] && [ "\${fields[19]}" != "$start" ]; then echo gone; exit 0; fi
kill "-$signal" "$pid" 2>/dev/null && echo sent || echo gone
`;

/**
 * Stops a task completely: its tmux pane's process tree plus everything with its marker, TERM then KILL after
 * the grace period, then the tmux session. Args: tmux ('' = no tmux), socket, session, dir, task id, grace ms.
 */
export const KILL_SCRIPT =
  FUNCTIONS +
  bash`
set -u
tmux=$1 sock=$2 session=$3 dir=$4 id=$5 grace=$6
stopped=0 forced=0 survivors=0
roots=()
if [ -n "$tmux" ]; then
  pane=$("$tmux" -L "$sock" list-panes -t "=$session" -F '#{pane_pid}' 2>/dev/null | head -n 1)
  [ -n "$pane" ] && roots+=("$pane")
fi
# Pid files are not used as roots: a pid from an old attempt may belong to someone else by now. The pane pid
# is current, and every process of the task carries the marker.
stop_task "$id" "$grace" "\${roots[@]}"
if [ -n "$tmux" ]; then "$tmux" -L "$sock" kill-session -t "=$session" 2>/dev/null; fi
printf 'stopped %s\nforced %s\nsurvivors %s\n' "$stopped" "$forced" "$survivors"
# What the wrapper managed to record (it records nothing when it was killed itself).
for f in done exit_code; do
  if [ -f "$dir/$f" ]; then v=; IFS= read -r v < "$dir/$f" || true; printf '%s %s\n' "$f" "$v"; fi
done
exit 0
`;

/** Ends the tmux session of a finished task (its pane is dead; remain-on-exit kept it). Args: tmux, socket, session. */
export const END_SESSION_SCRIPT = bash`
"$1" -L "$2" kill-session -t "=$3" 2>/dev/null
exit 0
`;

/**
 * Removes a task directory. Refuses anything that is not a Switchboard mktemp directory, so a corrupted row can
 * never turn into rm -rf of something else. Args: dir.
 */
export const REMOVE_DIR_SCRIPT = bash`
set -u
dir=$1
case \${dir##*/} in
  switchboard.??????????) ;;
  *) echo "refusing to remove $dir: not a Switchboard task directory" >&2; exit 2 ;;
esac
rm -rf -- "$dir"
`;
