/**
 * The two small programs Switchboard puts in every task directory. Both are static text: everything that varies
 * (which command, which attempt, the prompt) is read from files next to them, so nothing is ever interpolated.
 */

/**
 * Runs one attempt of a task and leaves its outcome in files. It is the tmux pane's own command (or the
 * container's), never typed into a shell.
 *
 * Files it reads from the task directory ($1): kind (claude|shell), attempt, task_id, workspace, env (sourced:
 * `export K='v'` lines we wrote), prompt (the run's prompt, or the shell command text), and for claude
 * session_id, attempt_mode (run|resume), argv and argv_fresh (NUL-separated), input (a resume's preamble);
 * on first launch also wait_channel + tmux_path.
 * Files it writes, in this order: wrapper_pid, pid, exit_code, manifest.json, and `done` (holding the attempt
 * number) last, so whoever sees `done` for this attempt can trust the others.
 */
export const WRAPPER_SCRIPT = `#!/usr/bin/env bash
# Switchboard task wrapper: one attempt of one task. Parameters come from files in the task directory ($1);
# the task's text never appears on a command line.
set -u
dir=$1

# First launch: wait until the launcher has attached pipe-pane, so the log misses nothing. tmux remembers a
# signal sent before the wait starts.
if [ -f "$dir/wait_channel" ]; then
  channel=$(<"$dir/wait_channel")
  rm -f "$dir/wait_channel"
  "$(<"$dir/tmux_path")" wait-for "$channel"
fi

# Not in tmux (a container): keep a copy of the output in output.log ourselves. The container's init passes
# TERM (docker/podman stop, kill) to this script alone, so the agent gets its own process group (job control)
# and the trap below forwards TERM to all of it; without that, claude and its tools would be SIGKILLed with
# the container once this script died, and no done file would be written.
contained=
if [ -z "\${TMUX:-}" ]; then
  contained=1
  exec > >(tee -a "$dir/output.log") 2>&1
  set -m
fi

attempt=$(<"$dir/attempt")
kind=$(<"$dir/kind")
workspace=$(<"$dir/workspace")
now_ms() { date +%s%3N; }
put() { printf '%s\\n' "$2" > "$dir/$1.tmp" && mv -f "$dir/$1.tmp" "$dir/$1"; }
manifest() {
  printf '{"attempt":%s,"kind":"%s","status":"%s","wrapper_pid":%s,"pid":%s,"started_at":%s,"finished_at":%s,"exit_code":%s}\\n' \\
    "$attempt" "$kind" "$1" "$$" "\${child:-null}" "$started" "\${finished:-null}" "\${code:-null}" > "$dir/manifest.json.tmp"
  mv -f "$dir/manifest.json.tmp" "$dir/manifest.json"
}
finish() {
  code=$1
  finished=$(now_ms)
  put exit_code "$code"
  manifest exited
  put done "$attempt"
  exit "$code"
}

# "<pid> <start time>": the start time (field 22 of /proc/<pid>/stat) tells a reused pid from ours.
pid_line() {
  local s=
  local -a f=()
  { IFS= read -r s < "/proc/$1/stat"; } 2>/dev/null
  read -r -a f <<< "\${s##*) }"
  printf '%s %s' "$1" "\${f[19]:-}"
}

started=$(now_ms)
put wrapper_pid "$(pid_line "$$")"
# TERM before the agent starts: nothing to forward, end here with the signal's code.
if [ -n "$contained" ]; then trap 'finish 143' TERM; fi
# Every process of the task carries this marker, so kill finds orphans that left the process tree.
export SWITCHBOARD_TASK=$(<"$dir/task_id")
if [ -f "$dir/env" ]; then . "$dir/env"; fi
printf '{"type":"switchboard","subtype":"attempt","attempt":%s,"kind":"%s","at":%s}\\n' "$attempt" "$kind" "$started" >> "$dir/events.jsonl"

if [ -n "$workspace" ] && ! cd -- "$workspace"; then
  echo "switchboard: workspace $workspace does not exist or is not a directory" >&2
  finish 96
fi

case $kind in
  claude)
    # A resume continues the session with --resume when claude saved it. If claude died before saving it
    # (killed during its first request), there is nothing to resume: start it afresh, same session id, same
    # prompt. A resume's stdin is a short preamble followed by the run's prompt, so a follow-up that was never
    # saved is not lost either.
    argv_file=$dir/argv
    stdin=("$dir/prompt")
    if [ "$(<"$dir/attempt_mode")" = resume ]; then
      sid=$(<"$dir/session_id")
      if compgen -G "\${CLAUDE_CONFIG_DIR:-$HOME/.claude}/projects/*/$sid.jsonl" > /dev/null; then
        stdin=("$dir/input" "$dir/prompt")
      else
        argv_file=$dir/argv_fresh
      fi
    fi
    mapfile -d '' -t argv < "$argv_file"
    if [ "\${#argv[@]}" -eq 0 ]; then
      echo "switchboard: the argv file is empty" >&2
      finish 94
    fi
    cat -- "\${stdin[@]}" | "\${argv[@]}" >> "$dir/events.jsonl" &
    ;;
  shell)
    IFS= read -r -d '' command < "$dir/prompt"
    bash -c "$command" < /dev/null &
    ;;
  *)
    echo "switchboard: unknown task kind $kind" >&2
    finish 95
    ;;
esac
child=$!
put pid "$(pid_line "$child")"
manifest running
if [ -n "$contained" ]; then
  # The job's process group: for \`cat | claude\` it is led by cat, not by $child (claude).
  group=$(jobs -p)
  trap 'kill -TERM -- "-\${group:-$child}" 2>/dev/null || kill -TERM "$child" 2>/dev/null' TERM
fi
# A trapped TERM interrupts wait; wait again until the agent has really ended, so its exit code is recorded.
while :; do
  wait "$child"
  code=$?
  if [ "$code" -gt 128 ] && kill -0 "$child" 2>/dev/null; then continue; fi
  break
done
finish "$code"
`;

/**
 * pipe-pane's command: the pane's output, unbuffered ($|=1, or perl holds ~4 KB back and the log looks stale),
 * minus terminal control sequences, appended to output.log. Without perl the bytes go in raw; readers strip
 * them again anyway.
 */
export const LOG_FILTER_SCRIPT = `#!/bin/sh
out="$(dirname "$0")/output.log"
if command -v perl >/dev/null 2>&1; then
  exec perl -pe 'BEGIN{$|=1} s/\\e\\[[0-?]*[ -\\/]*[@-~]//g; s/\\e\\][^\\a\\e]*(?:\\a|\\e\\\\)//g; s/\\e[()][0-9A-Za-z]//g; s/\\e[=>78DEHMNOZc]//g; s/\\r(?!\\n)/\\n/g; s/\\r//g' >> "$out"
fi
exec cat >> "$out"
`;
