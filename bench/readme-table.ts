import { readFileSync, writeFileSync } from 'node:fs';

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

function cell(value: unknown): string {
  return String(value).replaceAll('|', '\\|');
}

/** One section's rows (objects with the same keys) as a Markdown table. */
function table(rows: readonly Record<string, unknown>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((column) => cell(row[column])).join(' | ')} |`),
  ].join('\n');
}

/** The results as Markdown: the machine, then a table per section. */
export function renderResults(results: Record<string, unknown>): string {
  const machine = results.machine as Record<string, unknown>;
  const lines = [`Measured ${String(results.at).slice(0, 10)} on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}.`];
  for (const [section, value] of Object.entries(results)) {
    if (section === 'machine') continue;
    // A section is a list of rows, or one row of figures (card latency).
    const rows = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? [value] : [];
    if (rows.length > 0) lines.push('', `**${section}**`, '', table(rows as Record<string, unknown>[]));
  }
  return lines.join('\n');
}

/** Replaces what lies between the bench markers of the README, so it always shows the latest run. */
export function updateReadme(file: string, results: Record<string, unknown>): void {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${START} … ${END} section for the bench table`);
  writeFileSync(file, `${text.slice(0, start + START.length)}\n${renderResults(results)}\n${text.slice(end)}`);
}
