/**
 * What one probe exec says about each task, parsed from PROBE_SCRIPT's `key value` lines. Pure.
 */

export interface ProcInfo {
  pid: number;
  /** /proc state letter (R, S, D, T…); null when there is no such process, or it is a different one now. */
  state: string | null;
  /** Present and neither zombie nor dead. */
  alive: boolean;
}

export interface FileStat {
  size: number;
  mtimeMs: number;
}

/** The tmux pane of the task's session (null: no such session). */
export interface PaneInfo {
  dead: boolean;
  pid: number | null;
  /** Advisory (tmux leaves these blank in some cases); the wrapper's exit_code file is the record. */
  deadStatus: number | null;
  deadSignal: number | null;
}

/** The runtime's view of a task's container (null: no such container). */
export interface ContainerInfo {
  running: boolean;
  status: string;
  exitCode: number | null;
}

export interface TaskProbe {
  /** The task directory is missing. */
  gone: boolean;
  attempt: number | null;
  /** The attempt number written in `done` (the wrapper writes it last). */
  done: number | null;
  exitCode: number | null;
  child: ProcInfo | null;
  wrapper: ProcInfo | null;
  events: FileStat | null;
  output: FileStat | null;
  pane: PaneInfo | null;
  container: ContainerInfo | null;
  /** The last non-empty lines of the pane, for the input-prompt detector. */
  paneTail: string;
  /** The host's clock when probed, so ages are measured on one clock. */
  hostNow: number;
}

export interface ProbeOutput {
  hostNow: number;
  /** Per pair of (dir, session) passed in, in order. */
  tasks: TaskProbe[];
}

export function emptyProbe(hostNow: number): TaskProbe {
  return {
    gone: false,
    attempt: null,
    done: null,
    exitCode: null,
    child: null,
    wrapper: null,
    events: null,
    output: null,
    pane: null,
    container: null,
    paneTail: '',
    hostNow,
  };
}

const PANE_TAIL_LINES = 12;

/**
 * Parses PROBE_SCRIPT output. `refs` are the (dir, session) pairs passed in, in order; `nonce` is the one given
 * to the script, which marks where each pane's capture starts.
 */
export function parseProbeOutput(stdout: string, refs: ReadonlyArray<{ dir: string; session: string }>, nonce: string): ProbeOutput {
  let hostNow = 0;
  const panes = new Map<string, PaneInfo>();
  const captures = new Map<string, string>();
  const stats = new Map<string, FileStat>();
  const tasks: TaskProbe[] = [];
  let current: TaskProbe | undefined;
  let sawPanes = false;

  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    const key = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? '' : line.slice(space + 1);
    switch (key) {
      case 'now':
        hostNow = Number(value);
        break;
      case 'task':
        current = emptyProbe(hostNow);
        tasks.push(current);
        break;
      case 'gone':
        if (current) current.gone = true;
        break;
      case 'file': {
        if (!current) break;
        const [name, raw] = splitOnce(value);
        const n = toInt(raw);
        if (name === 'attempt') current.attempt = n;
        else if (name === 'done') current.done = n;
        else if (name === 'exit_code') current.exitCode = n;
        break;
      }
      case 'proc': {
        if (!current) break;
        const [which, pid, state] = value.split(' ');
        const known = !!state && state !== '-';
        const info: ProcInfo = { pid: toInt(pid) ?? 0, state: known ? state : null, alive: known && state !== 'Z' && state !== 'X' };
        if (which === 'child') current.child = info;
        else if (which === 'wrapper') current.wrapper = info;
        break;
      }
      case 'stat': {
        // The path may hold spaces: size and mtime are the last two words.
        const words = value.split(' ');
        const mtime = Number(words.pop());
        const size = toInt(words.pop());
        stats.set(words.join(' '), { size: size ?? 0, mtimeMs: Math.round(mtime * 1000) });
        break;
      }
      case 'pane': {
        sawPanes = true;
        const [name, dead, pid, status, signal] = value.split(' ');
        if (name) panes.set(name, { dead: dead === '1', pid: toInt(pid), deadStatus: toInt(status), deadSignal: toInt(signal) });
        break;
      }
      case 'captures': {
        let session: string | undefined;
        for (const captured of decode(value).split('\n')) {
          if (captured.startsWith(`${nonce} `)) {
            session = captured.slice(nonce.length + 1);
            captures.set(session, '');
          } else if (session !== undefined) {
            captures.set(session, `${captures.get(session)}${captured}\n`);
          }
        }
        break;
      }
      default:
        break;
    }
  }
  tasks.forEach((task, index) => {
    task.hostNow = hostNow;
    const ref = refs[index];
    if (!ref) return;
    task.events = stats.get(`${ref.dir}/events.jsonl`) ?? null;
    task.output = stats.get(`${ref.dir}/output.log`) ?? null;
    if (sawPanes || panes.size > 0) task.pane = panes.get(ref.session) ?? null;
    task.paneTail = tailLines(captures.get(ref.session) ?? '', PANE_TAIL_LINES);
  });
  return { hostNow, tasks };
}

/** The last `count` non-empty lines, trailing whitespace trimmed (a pane is padded with blank lines). */
export function tailLines(text: string, count: number): string {
  const lines = text.split('\n').map((l) => l.replace(/\s+$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-count).join('\n');
}

function decode(b64: string): string {
  return Buffer.from(b64.trim(), 'base64').toString('utf8');
}

function splitOnce(value: string): [string, string] {
  const i = value.indexOf(' ');
  return i === -1 ? [value, ''] : [value.slice(0, i), value.slice(i + 1)];
}

function toInt(raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === '') return null;
  const n = Number(raw.trim());
  return Number.isInteger(n) ? n : null;
}
