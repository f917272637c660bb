import { renderTranscript } from './claude-events.js';
import { refOf } from './fleet-context.js';
import { lastLines, stripAnsi } from './protocol/ansi.js';
import { FILE } from './protocol/task-files.js';
import type { TaskRuntime } from './runtime/runtime.js';
import type { TaskRow } from './task-store.js';

const EVENTS_TAIL_BYTES = 512 * 1024;
const OUTPUT_TAIL_BYTES = 256 * 1024;

/**
 * The human log of a task, ANSI-stripped: a shell task's pane output; for claude, the transcript rendered from
 * events.jsonl, then whatever it printed on stderr. Reads only the tails of the files.
 */
export async function readHumanLog(runtime: TaskRuntime, task: TaskRow): Promise<string[]> {
  const ref = refOf(task);
  const output = await runtime.readFile(ref, FILE.output, { tailBytes: OUTPUT_TAIL_BYTES });
  const outputLines = output ? dropPartialFirstLine(stripAnsi(output.data.toString('utf8')), output.offset > 0) : [];
  if (task.kind === 'shell') return outputLines;
  const events = await runtime.readFile(ref, FILE.events, { tailBytes: EVENTS_TAIL_BYTES });
  const transcript = events ? renderTranscript(dropPartialFirstLine(events.data.toString('utf8'), events.offset > 0).join('\n')) : [];
  return outputLines.some((l) => l.trim() !== '') ? [...transcript, '── stderr ──', ...outputLines] : transcript;
}

/** The last `count` lines of the human log. */
export async function tailHumanLog(runtime: TaskRuntime, task: TaskRow, count: number): Promise<string> {
  return lastLines((await readHumanLog(runtime, task)).join('\n'), count).join('\n');
}

function dropPartialFirstLine(text: string, partial: boolean): string[] {
  const lines = text.split('\n');
  if (partial) lines.shift();
  return lines;
}
