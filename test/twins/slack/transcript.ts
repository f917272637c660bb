import type { EphemeralMessage, Invocation, SlackMessage } from './types.js';

/**
 * A channel as a person would read it, for `toMatchInlineSnapshot`. One line per item in the order it happened;
 * thread replies are indented under their parent with `↳`; continuation lines of multi-line messages are indented
 * two more spaces. Ephemerals say who could see them. Commands and button clicks are shown, although Slack does
 * not post them, because a transcript without the user's side is hard to read.
 *
 *   alice: /sb send kumo hi
 *   bot (only alice): Starting…
 *   bot: Working on *kumo* (edited)
 *     ↳ bot: step 1 of 2
 *     ↳ bot: [file: report.txt] Full log
 */
export interface TranscriptOptions {
  /** Applied to the finished transcript, e.g. `normalizeDurations`. */
  readonly normalize?: (text: string) => string;
  /** Show commands and clicks (default true). */
  readonly includeUserActions?: boolean;
  /** Show ephemeral messages and acks (default true). */
  readonly includeEphemeral?: boolean;
}

export interface TranscriptSource {
  readonly messages: readonly SlackMessage[];
  readonly ephemerals: readonly EphemeralMessage[];
  readonly invocations: readonly Invocation[];
  displayName(userId: string): string;
}

interface Line {
  readonly seq: number;
  /** The thread parent's ts, or undefined at top level. */
  readonly threadTs: string | undefined;
  /** For top-level messages: their own ts, so replies can find them. */
  readonly ownTs: string | undefined;
  readonly who: string;
  readonly body: string;
}

export function renderTranscript(channel: string, source: TranscriptSource, options: TranscriptOptions = {}): string {
  const lines = collectLines(channel, source, options);
  const topLevel = lines.filter((l) => l.threadTs === undefined).sort(bySeq);
  const replies = lines.filter((l) => l.threadTs !== undefined).sort(bySeq);
  const out: string[] = [];
  const placed = new Set<Line>();
  for (const line of topLevel) {
    out.push(format(line, ''));
    if (line.ownTs === undefined) continue;
    for (const reply of replies.filter((r) => r.threadTs === line.ownTs)) {
      out.push(format(reply, '  ↳ '));
      placed.add(reply);
    }
  }
  // Replies whose parent is not in this channel's visible history (deleted, or posted elsewhere) still show.
  for (const orphan of replies.filter((r) => !placed.has(r))) out.push(format(orphan, `  ↳ (thread ${orphan.threadTs}) `));
  const text = out.join('\n');
  return options.normalize ? options.normalize(text) : text;
}

function collectLines(channel: string, source: TranscriptSource, options: TranscriptOptions): Line[] {
  const lines: Line[] = [];
  const name = (id: string): string => source.displayName(id);
  for (const m of source.messages) {
    if (m.channel !== channel || m.deleted) continue;
    const files = m.files.map((f) => `[file: ${f.filename}]`).join(' ');
    const body = [files, m.visibleText].filter((p) => p !== '').join(' ') + (m.edited ? ' (edited)' : '');
    lines.push({ seq: m.seq, threadTs: m.threadTs, ownTs: m.threadTs === undefined ? m.ts : undefined, who: name(m.user), body });
  }
  if (options.includeEphemeral !== false) {
    for (const e of source.ephemerals) {
      if (e.channel !== channel) continue;
      lines.push({ seq: e.seq, threadTs: e.threadTs, ownTs: undefined, who: `bot (only ${name(e.user)})`, body: e.visibleText });
    }
  }
  if (options.includeUserActions !== false) {
    for (const i of source.invocations) {
      if (i.channel !== channel || i.kind === 'event') continue;
      const body = i.kind === 'command' ? `${i.command ?? ''} ${i.text ?? ''}`.trimEnd() : `clicked [${i.text ?? i.actionId ?? ''}]`;
      lines.push({ seq: i.seq, threadTs: i.threadTs, ownTs: undefined, who: name(i.user), body });
    }
  }
  return lines;
}

function format(line: Line, indent: string): string {
  const [first = '', ...rest] = line.body.split('\n');
  const continuation = ' '.repeat(indent.length + 2);
  return [`${indent}${line.who}: ${first}`, ...rest.map((r) => `${continuation}${r}`)].join('\n').trimEnd();
}

function bySeq(a: Line, b: Line): number {
  return a.seq - b.seq;
}

/** Replaces durations such as `12s`, `340ms`, `1.5s`, `2m` with `Ns` so timing noise stays out of snapshots. */
export function normalizeDurations(text: string): string {
  return text.replace(/\b\d+(?:\.\d+)?\s?(?:ms|s|m|h)\b/g, 'Ns');
}
