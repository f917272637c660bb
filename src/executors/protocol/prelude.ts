import { bash } from './script.js';

/**
 * The shell functions every host script shares (the executors', offload's, the managed OpenCode servers'):
 * finding a tool, expanding `~`, making a private directory. Prepended to a script's own text; defines only.
 */
export const HOST_PRELUDE = bash`
# Sets found to the tool's absolute path, or empty. ~/ is the host's home. hash is a builtin: no fork unless the
# login-shell fallback runs.
find_tool() {
  found=
  case $1 in '~/'*) set -- "$HOME/\${1:2}" ;; esac
  case $1 in
    */*) [ -x "$1" ] && [ ! -d "$1" ] && found=$1 ;;
    *) hash -- "$1" 2>/dev/null && found=\${BASH_CMDS[$1]} ;;
  esac
  if [ -z "$found" ] && [ "\${1#*/}" = "$1" ]; then
    # A bare name: a non-login exec gets a short PATH; a login shell may know more (nvm, ~/.local/bin).
    found=$(bash -lc 'command -v -- "$1"' find_tool "$1" 2>/dev/null < /dev/null | tail -n 1)
    case $found in /*) ;; *) found= ;; esac
  fi
  return 0
}
# Sets expanded to $1 with a leading ~ made the host's home; an empty $1 becomes $2.
expand_home() {
  expanded=\${1:-\${2:-}}
  case $expanded in
    '~') expanded=$HOME ;;
    '~/'*) expanded=$HOME/\${expanded:2} ;;
  esac
}
# Makes a new private (0700, by mktemp -d) directory named $2.XXXXXXXXXX under $1 ('' = $TMPDIR or /tmp, made 0700
# if missing); sets dir.
private_dir() {
  expand_home "$1" "\${TMPDIR:-/tmp}"
  mkdir -p -m 700 -- "$expanded" || return 3
  dir=$(mktemp -d "$expanded/$2.XXXXXXXXXX") || return 3
}
`;
