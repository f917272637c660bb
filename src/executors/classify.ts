import type { AttemptSummary } from './claude-events.js';
import type { TaskProbe } from './protocol/probe.js';
import type { TaskKind } from './protocol/task-files.js';

/**
 * What a task's state means, from one probe. Pure: the task as Switchboard knows it, the probe, the parsed
 * events of the current attempt, the time, the policy → a verdict with a reason. The fleet acts on verdicts.
 *
 * The traps it is written against (executors.md): a `done` file also follows a SIGKILL (exit 137), so the exit
 * code decides, not `done`; `is_error:true` can come with `subtype:"success"` (API errors); a zombie is dead
 * although `kill -0` says alive (liveness comes from /proc state); a task that prints nothing for a while is
 * not hung when a tool call is open or when the API is retrying (those write events).
 */

export type PendingAction =
  /** The user asked to kill it. */
  | { action: 'kill'; since: number }
  /** It was hung; SIGTERM sent, a resume follows once it is gone. */
  | { action: 'hang'; since: number; reason: string }
  /** Past its deadline; being stopped. */
  | { action: 'abandon'; since: number; reason: string };

export interface ClassifyTask {
  kind: TaskKind;
  /** The attempt currently launched. */
  attempt: number;
  /** When Switchboard launched this attempt (its own clock). */
  attemptStartedAt: number;
  deadlineAt: number | null;
  pending: PendingAction | null;
}

export interface ClassifyPolicy {
  /** No new event for this long, no tool call open ⇒ hung. */
  staleMs: number;
  /** The same while a tool call is open. */
  toolStaleMs: number;
  /** An input prompt in the pane, with no output for this long ⇒ needs attention. */
  attentionMs: number;
  /** After a launch, how long processes may take to appear. */
  startGraceMs: number;
  /** After SIGTERM, how long before the fleet escalates to a tree kill. */
  killGraceMs: number;
}

export type Verdict =
  | { kind: 'starting' }
  | { kind: 'running'; silentMs: number }
  /** A kill, hang-stop or abandon is under way; `overdue` once the grace period is over. */
  | { kind: 'stopping'; overdue: boolean }
  | { kind: 'succeeded'; exitCode: number }
  | { kind: 'failed'; exitCode: number | null; reason: string; terminalReason: string | null }
  | { kind: 'killed'; exitCode: number | null }
  /** Died without finishing: resumable (claude) within the retry budget. */
  | { kind: 'crashed'; exitCode: number | null; reason: string; cause: 'crash' | 'hung' | 'api_error' }
  /** Alive but silent for too long. */
  | { kind: 'hung'; silentMs: number; reason: string }
  | { kind: 'needs_attention'; paneTail: string; reason: string }
  | { kind: 'abandoned'; reason: string };

/** Lines that mean a program is waiting for someone to type. Only the last few pane lines are looked at. */
export const INPUT_PROMPT_PATTERNS: readonly RegExp[] = [
  /\(y\/n\)/i,
  /\[y\/n\]/i,
  /\(yes\/no\)/i,
  /\bpress (enter|return|any key)\b/i,
  /\bdo you want to\b/i,
  /\btrust (the files|the authors|this folder)\b/i,
  /\bbypass permissions mode\b/i,
  /\b(password|passphrase)( for [^:]*)?:\s*$/i,
  /\bcontinue\?\s*$/i,
  /\boverwrite\b.*\?\s*$/i,
];

export function looksLikeInputPrompt(paneTail: string): boolean {
  const last = paneTail.split('\n').filter((l) => l.trim() !== '').slice(-3);
  return last.some((line) => INPUT_PROMPT_PATTERNS.some((p) => p.test(line)));
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

export function describeExit(code: number): string {
  if (code >= 128) {
    const signal = SIGNALS[code - 128] ?? `signal ${code - 128}`;
    return `exit ${code} (${signal})`;
  }
  return `exit ${code}`;
}

/** Exit codes the wrapper itself uses (protocol/wrapper.ts). */
const WRAPPER_EXITS: Record<number, string> = {
  94: 'the claude argv file was empty',
  95: 'unknown task kind',
  96: 'the workspace does not exist or is not a directory',
  127: 'command not found',
};

export function classify(input: {
  task: ClassifyTask;
  probe: TaskProbe;
  /** The current attempt's events (claude tasks); null for shell tasks. */
  events: AttemptSummary | null;
  now: number;
  policy: ClassifyPolicy;
}): Verdict {
  const { task, probe, events, now, policy } = input;
  const pending = task.pending;

  if (probe.gone) {
    if (pending?.action === 'kill') return { kind: 'killed', exitCode: null };
    return { kind: 'abandoned', reason: 'its task directory is gone from the host' };
  }

  const finished = probe.done === task.attempt && probe.exitCode !== null;
  const alive =
    probe.child?.alive === true ||
    probe.wrapper?.alive === true ||
    (probe.pane !== null && !probe.pane.dead) ||
    probe.container?.running === true;

  if (finished || !alive) {
    if (pending?.action === 'kill') return { kind: 'killed', exitCode: probe.exitCode };
    if (pending?.action === 'abandon') return { kind: 'abandoned', reason: pending.reason };
  }

  if (finished) {
    const code = probe.exitCode as number;
    if (pending?.action === 'hang') return { kind: 'crashed', exitCode: code, reason: pending.reason, cause: 'hung' };
    return task.kind === 'shell' ? shellOutcome(code) : claudeOutcome(code, events, probe);
  }

  if (!alive) {
    const attemptAge = now - task.attemptStartedAt;
    const nothingYet = probe.wrapper === null && probe.pane === null && probe.container === null;
    if (nothingYet && attemptAge < policy.startGraceMs) return { kind: 'starting' };
    if (pending?.action === 'hang') return { kind: 'crashed', exitCode: null, reason: pending.reason, cause: 'hung' };
    const why = lostReason(probe);
    if (task.kind === 'shell') return { kind: 'failed', exitCode: null, reason: why, terminalReason: 'crashed' };
    return { kind: 'crashed', exitCode: null, reason: why, cause: 'crash' };
  }

  // Alive from here on.
  if (pending) return { kind: 'stopping', overdue: now - pending.since > policy.killGraceMs };
  if (task.deadlineAt !== null && now >= task.deadlineAt) {
    return { kind: 'abandoned', reason: 'it ran past its deadline' };
  }

  const attemptAge = Math.max(0, now - task.attemptStartedAt);
  const age = (stat: { mtimeMs: number } | null) => (stat ? Math.max(0, probe.hostNow - stat.mtimeMs) : Infinity);
  // Whichever is more recent: the last write, or the launch of this attempt (the file may predate it).
  const silentMs = Math.min(task.kind === 'claude' ? age(probe.events) : age(probe.output), attemptAge);
  const quietMs = Math.min(age(probe.output), task.kind === 'claude' ? age(probe.events) : Infinity, attemptAge);

  if (quietMs >= policy.attentionMs && looksLikeInputPrompt(probe.paneTail)) {
    return { kind: 'needs_attention', paneTail: probe.paneTail, reason: 'the pane shows a prompt waiting for input' };
  }
  if (task.kind === 'claude') {
    const openTools = events?.openToolCalls.length ?? 0;
    const limit = openTools > 0 ? policy.toolStaleMs : policy.staleMs;
    if (silentMs >= limit) {
      const seconds = Math.round(silentMs / 1000);
      const what = openTools > 0 ? `with ${openTools} tool call(s) open` : 'with no tool call open';
      return { kind: 'hung', silentMs, reason: `no new event for ${seconds} s ${what}` };
    }
  }
  return { kind: 'running', silentMs };
}

function shellOutcome(code: number): Verdict {
  if (code === 0) return { kind: 'succeeded', exitCode: 0 };
  // A shell command is never re-run on its own (it may not be safe to repeat), so a signal is a failure.
  const known = WRAPPER_EXITS[code];
  return { kind: 'failed', exitCode: code, reason: known ? `${describeExit(code)}: ${known}` : describeExit(code), terminalReason: null };
}

function claudeOutcome(code: number, events: AttemptSummary | null, probe: TaskProbe): Verdict {
  const result = events?.result ?? null;
  if (code >= 128) {
    // Whether or not a `done` file was written: a signal is a crash (the wrapper outlived claude).
    return { kind: 'crashed', exitCode: code, reason: `claude ended with ${describeExit(code)}`, cause: 'crash' };
  }
  if (result) {
    if (!result.isError && code === 0) return { kind: 'succeeded', exitCode: 0 };
    if (result.terminalReason === 'api_error' || (result.isError && result.apiErrorStatus !== null)) {
      const status = result.apiErrorStatus !== null ? ` ${result.apiErrorStatus}` : '';
      return { kind: 'crashed', exitCode: code, reason: `API error${status}: ${firstLine(result.result)}`, cause: 'api_error' };
    }
    const terminal = result.terminalReason ?? result.subtype;
    const reason = terminal === 'max_turns' ? 'it reached the turn limit (max_turns)' : `${terminal}: ${firstLine(result.result)}`;
    return { kind: 'failed', exitCode: code, reason, terminalReason: terminal };
  }
  if (code === 0) {
    return { kind: 'crashed', exitCode: 0, reason: 'claude exited 0 without a result event', cause: 'crash' };
  }
  const known = WRAPPER_EXITS[code];
  const detail = known ?? (lastLine(probe.paneTail) || 'no result event');
  return { kind: 'failed', exitCode: code, reason: `claude ${describeExit(code)}: ${detail}`, terminalReason: null };
}

function lostReason(probe: TaskProbe): string {
  if (probe.container) return `its container ${probe.container.status} (exit ${probe.container.exitCode ?? '?'}) before the task wrote its outcome`;
  if (probe.pane?.dead && probe.pane.deadSignal !== null) {
    return `its wrapper was killed (${describeExit(128 + probe.pane.deadSignal)}) before writing its outcome`;
  }
  if (probe.pane?.dead && probe.pane.deadStatus !== null) return `its wrapper died (${describeExit(probe.pane.deadStatus)}) before writing its outcome`;
  if (probe.pane === null && probe.container === null && probe.wrapper === null) return 'its tmux session is gone';
  return 'its processes died before writing an outcome';
}

function firstLine(text: string | null): string {
  return (text ?? '').trim().split('\n')[0]?.slice(0, 200) ?? '';
}

function lastLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines[lines.length - 1]?.trim().slice(0, 200) ?? '';
}
