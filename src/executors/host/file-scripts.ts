import { bash } from '../protocol/script.js';

/**
 * Moving files through an exec channel, for servers without an SFTP subsystem (no `Subsystem sftp` line in
 * sshd_config, common on hardened hosts and minimal images). The bytes travel on stdin, never in a command line.
 */

/**
 * Args: path, mode (octal). Writes stdin to a private temp file beside the target (umask 077, so no other user
 * sees a partial file), sets the mode, and renames it into place, so a reader sees the old file or the new one.
 */
export const WRITE_FILE_SCRIPT = bash`
set -u
umask 077
path=$1 mode=$2
case $path in */*) dir=\${path%/*} ;; *) dir=. ;; esac
[ -n "$dir" ] || dir=/
tmp=$(mktemp "$dir/.switchboard-upload.XXXXXXXXXX") || exit 3
if cat > "$tmp" && chmod "$mode" -- "$tmp" && mv -f -- "$tmp" "$path"; then exit 0; fi
rm -f -- "$tmp"
exit 4
`;

/**
 * Args: path, from offset (''), tail bytes (''), max bytes. Exit 2 when the file does not exist. Output: one line
 * `<size> <offset>`, then exactly the bytes of the window (the same window readWindow computes).
 */
export const READ_FILE_SCRIPT = bash`
set -u
path=$1 from=$2 tail=$3 max=$4
[ -e "$path" ] || exit 2
size=$(wc -c < "$path") || exit 3
size=$((size))
offset=0
if [ -n "$tail" ]; then
  offset=$((size - tail)); [ "$offset" -ge 0 ] || offset=0
elif [ -n "$from" ]; then
  offset=$from; [ "$offset" -le "$size" ] || offset=$size
fi
length=$((size - offset)); [ "$length" -le "$max" ] || length=$max
printf '%s %s\n' "$size" "$offset"
[ "$length" -gt 0 ] || exit 0
tail -c +$((offset + 1)) -- "$path" | head -c "$length"
`;
