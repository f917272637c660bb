/** Short renderings every layer shows (the monitor, the verbs, the opencode turns): kept here so none imports another for them. */

/** `42s`, `3m 07s`, `2h 05m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** The first line of a text, trimmed, with an ellipsis past `max` characters. */
export function firstLine(value: string, max = 120): string {
  const line = value.trim().split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
