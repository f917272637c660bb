import { bash, HOST_PRELUDE } from '../executors/index.js';

/**
 * What runs on an executor host for an OpenCode server Switchboard owns. Static scripts, values in $1…
 * (quoted by the transport); output is `key value` lines, free text in base64.
 *
 * On the host: one directory made by mktemp -d (0700) holding
 *   wrapper.sh  0700  runs the server (below)
 *   env         0600  `export K='v'` lines: the executor's env and OPENCODE_SERVER_PASSWORD; removed once read
 *   pid               "<pid> <start time>" of `opencode serve`
 *   server.log        its output; the first line says `opencode server listening on http://127.0.0.1:<port>`
 *   exit_code         when it ended
 * and one tmux session `sb-opencode` on the executor's dedicated tmux server, whose pane runs wrapper.sh.
 */

/** The pane's program. Args: state dir, opencode (absolute path). */
export const SERVER_WRAPPER = bash`#!/usr/bin/env bash
set -u
dir=$1 opencode=$2
cd -- "$dir" || exit 3
# The password is in this file: read it, then remove it, so it stays only in the server's environment.
. ./env
rm -f -- ./env
rm -f -- exit_code
[ -f server.log ] && mv -f -- server.log server.log.1
cd -- "\${HOME:-/}" 2>/dev/null || cd /
"$opencode" serve --hostname 127.0.0.1 --port 0 > "$dir/server.log" 2>&1 < /dev/null &
child=$!
s=
{ IFS= read -r s < "/proc/$child/stat"; } 2>/dev/null
read -r -a fields <<< "\${s##*) }"
printf '%s %s\n' "$child" "\${fields[19]:-}" > "$dir/pid.tmp" && mv -f -- "$dir/pid.tmp" "$dir/pid"
trap 'kill -TERM "$child" 2>/dev/null' TERM HUP INT
while :; do
  wait "$child"
  code=$?
  # A trapped signal interrupts wait with 128+n while the server is still shutting down: wait again.
  kill -0 "$child" 2>/dev/null || break
done
printf '%s\n' "$code" > "$dir/exit_code.tmp" && mv -f -- "$dir/exit_code.tmp" "$dir/exit_code"
`;

/**
 * Finds tmux and opencode, and makes (or reuses) the state directory.
 * Args: tmux, opencode, base ('' = $TMPDIR or /tmp), existing dir ('' = make one).
 * Output: home, path, tmux, opencode, dir (empty when a tool is missing).
 */
export const PREPARE_SCRIPT =
  HOST_PRELUDE +
  bash`
set -u
tmux=$1 opencode=$2 base=$3 existing=$4
printf 'home %s\n' "$HOME"
printf 'path %s\n' "$PATH"
find_tool "$tmux"; t=$found
printf 'tmux %s\n' "$t"
find_tool "$opencode"; o=$found
# opencode's installer puts it in ~/.opencode/bin, which a login shell's PATH may still lack.
if [ -z "$o" ] && [ "\${opencode#*/}" = "$opencode" ] && [ -x "$HOME/.opencode/bin/$opencode" ]; then o=$HOME/.opencode/bin/$opencode; fi
printf 'opencode %s\n' "$o"
[ -n "$t" ] && [ -n "$o" ] || exit 0
if [ -n "$existing" ] && [ -d "$existing" ]; then
  printf 'dir %s\n' "$existing"
  exit 0
fi
private_dir "$base" switchboard-opencode || exit 3
printf 'dir %s\n' "$dir"
`;

/**
 * Starts the wrapper in a new detached tmux session (after ending a stale one of the same name).
 * Args: tmux, socket, session, dir, opencode, marker.
 */
export const LAUNCH_SCRIPT = bash`
set -u
tmux=$1 sock=$2 session=$3 dir=$4 opencode=$5 marker=$6
"$tmux" -L "$sock" kill-session -t "=$session" 2>/dev/null
rm -f -- "$dir/pid" "$dir/exit_code"
"$tmux" -L "$sock" new-session -d -s "$session" -x 200 -y 50 -e "SWITCHBOARD_TASK=$marker" "$dir/wrapper.sh" "$dir" "$opencode" || exit 4
echo 'launched'
`;

/** Shared by WAIT and PROBE: the server's state from its files and /proc. */
const STATE = bash`
server_state() {
  local dir=$1 line start s
  local -a fields=()
  alive=0 pid=
  if [ -f "$dir/pid" ]; then
    IFS= read -r line < "$dir/pid" || true
    pid=\${line%% *}
    start=\${line#* }
    if { IFS= read -r s < "/proc/$pid/stat"; } 2>/dev/null; then
      read -r -a fields <<< "\${s##*) }"
      case \${fields[0]} in Z|X) ;; *) [ "\${fields[19]}" = "$start" ] && alive=1 ;; esac
    fi
  fi
  port=
  if [ -f "$dir/server.log" ]; then
    line=$(grep -m1 -o 'listening on http://127\.0\.0\.1:[0-9]*' "$dir/server.log" 2>/dev/null)
    port=\${line##*:}
  fi
  code=
  [ -f "$dir/exit_code" ] && { IFS= read -r code < "$dir/exit_code" || true; }
}
report() {
  printf 'pid %s\nalive %s\nport %s\nexit_code %s\n' "$pid" "$alive" "$port" "$code"
  if [ -f "$1/server.log" ]; then printf 'log '; tail -c 2000 -- "$1/server.log" | base64 -w0; echo; fi
}
`;

/**
 * Waits (on the host, one exec) until the server prints its port, or dies, or the deadline passes.
 * Args: dir, timeout ms. Output: `ready` | `died` | `timeout`, then the state (see report()).
 */
export const WAIT_SCRIPT =
  STATE +
  bash`
set -u
dir=$1 timeout=$2
now() { local t=\${EPOCHREALTIME//[!0-9]/}; echo "\${t:0:13}"; }
deadline=$(( $(now) + timeout ))
while :; do
  server_state "$dir"
  if [ -n "$port" ]; then echo ready; break; fi
  if [ -n "$code" ] || { [ -n "$pid" ] && [ "$alive" = 0 ]; }; then echo died; break; fi
  if [ "$(now)" -ge "$deadline" ]; then echo timeout; break; fi
  sleep 0.2
done
report "$dir"
`;

/** Args: dir, tmux, socket, session. Output: session 0|1, then the state (see report()). */
export const PROBE_SCRIPT =
  STATE +
  bash`
set -u
dir=$1 tmux=$2 sock=$3 session=$4
if [ ! -d "$dir" ]; then echo 'gone'; exit 0; fi
if "$tmux" -L "$sock" has-session -t "=$session" 2>/dev/null; then echo 'session 1'; else echo 'session 0'; fi
server_state "$dir"
report "$dir"
`;

/** Removes a state directory, and nothing that is not one. Args: dir. */
export const REMOVE_SCRIPT = bash`
set -u
dir=$1
case \${dir##*/} in
  switchboard-opencode.??????????) ;;
  *) echo "refusing to remove $dir: not a Switchboard OpenCode directory" >&2; exit 2 ;;
esac
rm -rf -- "$dir"
`;
