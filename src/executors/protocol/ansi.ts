/**
 * Terminal control sequences out of a log (the pipe-pane filter does this on the host when perl is there; this
 * is the same on our side, so `logs` is clean either way). `\r` progress redraws become separate lines.
 */
const PATTERNS: readonly RegExp[] = [
  /\x1b\[[0-?]*[ -/]*[@-~]/g, // CSI, including private ones like ESC[?2004h
  /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, // OSC … BEL / ST
  /\x1b[()][0-9A-Za-z]/g, // charset selection
  /\x1b[=>78DEHMNOZc]/g, // single-character escapes
];

export function stripAnsi(text: string): string {
  let out = text;
  for (const pattern of PATTERNS) out = out.replace(pattern, '');
  return out.replace(/\r(?!\n)/g, '\n').replace(/\r/g, '');
}

/** The last `count` lines of a text (a trailing newline does not make an empty last line). */
export function lastLines(text: string, count: number): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return count <= 0 ? [] : lines.slice(-count);
}
