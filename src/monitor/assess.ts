import type { Message, MessageError, PermissionRequest, QuestionRequest, Todo } from '../opencode/schemas.js';
import { describeError, finalOutput, latestTurn, type Turn } from '../opencode/turns.js';
import { failureOf } from './reports.js';
import type { Watch } from './watch-store.js';
import { promptDigest } from '../sessions/registry.js';

/** What one look at a session showed. */
export interface Observation {
  state: 'busy' | 'idle' | 'retry';
  retryMessage?: string;
  todos: Todo[];
  messages: Message[];
  permissions: PermissionRequest[];
  questions: QuestionRequest[];
}

export type CheckReason = 'tick' | 'event' | 'todo' | 'reconcile';

export interface AssessInput {
  name: string;
  watch: Watch;
  observation: Observation;
  /** The prompt this watch waits on, when `send` started it. */
  prompt?: { digest: string; sentAt: number };
  now: number;
  stallAfterMs: number;
  /** Consecutive idle observations, this one included. */
  idleStreak: number;
  /** A `session.error` seen on the event stream since the prompt was sent. */
  sessionError?: MessageError;
  /** The newest event seen for this session (stream), if any. */
  lastEventAt?: number;
}

export interface Finished {
  userMessageId: string;
  ok: boolean;
  output?: string;
  error?: MessageError;
  finish?: string;
  problem?: string;
  elapsedMs?: number;
}

export interface Assessment {
  finished?: Finished;
  /** The turn of the watched run, once it has begun: what its card shows. */
  turn?: Turn;
  asks: Array<{ kind: 'permission'; request: PermissionRequest } | { kind: 'question'; request: QuestionRequest }>;
  stall: boolean;
  activityHash: string;
  activityAt: number;
}

/**
 * How long after a prompt an idle session with no reply counts as ended rather than not yet started. A
 * refused prompt usually says so at once (`session.error`); this is for when nothing says anything, and a
 * busy server can take many seconds to start a turn.
 */
export const START_GRACE_MS = 60_000;

/** An idle session whose reply began but never completed has stopped (a server restart kills the run). */
export const STOPPED_GRACE_MS = 10_000;

function userText(message: Message): string[] {
  return message.parts.filter((p) => p.type === 'text' && typeof p.text === 'string').map((p) => p.text!);
}

/**
 * How far the server's clock may run behind ours when our prompt can only be recognised by time. Small on
 * purpose: a wider window mistakes the previous prompt's finished turn for ours.
 */
const CLOCK_SKEW_MS = 5_000;

/** The index of the user message our prompt created, by the digest of its exact text, else by time. */
function ourUserIndex(messages: readonly Message[], prompt: AssessInput['prompt']): number {
  if (!prompt) return -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.info.role === 'user' && userText(message).some((text) => promptDigest(text) === prompt.digest)) return i;
  }
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.info.role === 'user' && message.info.time.created >= prompt.sentAt - CLOCK_SKEW_MS) return i;
  }
  return -1;
}

/** The turn that answers our prompt (or a later one queued after it), if it has begun. */
export function turnForPrompt(messages: readonly Message[], prompt: AssessInput['prompt']): Turn | undefined {
  const turn = latestTurn(messages);
  if (!turn || !prompt) return turn;
  const ours = ourUserIndex(messages, prompt);
  const lastUser = messages.findIndex((m) => m.info.id === turn.userMessageId);
  if (ours >= 0) return lastUser >= ours ? turn : undefined;
  // Our message is older than the window we read, so every turn shown came after it.
  const oldest = messages[0]?.info.time.created;
  return oldest !== undefined && oldest >= prompt.sentAt ? turn : undefined;
}

function activityHashOf(observation: Observation): string {
  const last = observation.messages[observation.messages.length - 1];
  const lastPart = last?.parts[last.parts.length - 1];
  const partState = lastPart ? `${lastPart.id}:${lastPart.state?.status ?? ''}:${(lastPart.text ?? '').length}` : '';
  // A digest, not the text: it is stored with the watch, and todo items may hold secrets the scrubber hides elsewhere.
  return promptDigest(
    [
      observation.todos.map((t) => `${t.status}:${t.content}`).join('|'),
      last ? `${last.info.id}:${last.parts.length}:${last.info.time.completed ?? ''}` : '',
      partState,
    ].join('#'),
  );
}

/**
 * Decides what is worth posting about one watched session, from one observation and the watch's memory.
 * Pure: the monitor performs what it returns.
 */
export function assess(input: AssessInput): Assessment {
  const { observation, watch, now } = input;
  const activityHash = activityHashOf(observation);
  const changed = activityHash !== watch.activityHash;
  const activityAt = Math.max(changed ? now : watch.lastActivityAt, input.lastEventAt ?? 0);
  const assessment: Assessment = { asks: [], stall: false, activityHash, activityAt };
  const turn = turnForPrompt(observation.messages, input.prompt);
  if (turn) assessment.turn = turn;
  const since = input.prompt?.sentAt ?? watch.since ?? watch.createdAt;

  if (observation.state === 'idle') {
    if (!turn) {
      // Idle and our prompt is not even recorded: it was refused after the 204 (bad model, say).
      if (input.prompt && (input.sessionError || (input.idleStreak >= 2 && now - since >= START_GRACE_MS))) {
        assessment.finished = {
          userMessageId: `missing:${since}`,
          ok: false,
          problem: input.sessionError ? describeError(input.sessionError) : 'the prompt never started',
          elapsedMs: now - since,
        };
      }
      return assessment;
    }
    const elapsedEnd = turn.assistant.reduce((t, m) => Math.max(t, m.info.time.completed ?? m.info.time.created), 0);
    const elapsedMs = input.prompt ? Math.max(0, (elapsedEnd || now) - input.prompt.sentAt) : undefined;
    if (turn.completed) {
      const error = turn.error ?? (turn.assistant.length === 0 ? input.sessionError : undefined);
      const problem = failureOf(error, turn.finish);
      const output = finalOutput(turn);
      assessment.finished = {
        userMessageId: turn.userMessageId,
        ok: problem === undefined,
        ...(output ? { output } : {}),
        ...(error ? { error } : {}),
        ...(turn.finish ? { finish: turn.finish } : {}),
        ...(elapsedMs !== undefined ? { elapsedMs } : {}),
      };
      return assessment;
    }
    const newestReply = turn.assistant.reduce((t, m) => Math.max(t, m.info.time.created), 0);
    const stopped = turn.assistant.length > 0 ? now - Math.max(newestReply, since) >= STOPPED_GRACE_MS : now - since >= START_GRACE_MS;
    if (input.sessionError || (input.idleStreak >= 2 && stopped)) {
      const output = finalOutput(turn);
      assessment.finished = {
        userMessageId: turn.userMessageId,
        ok: false,
        ...(output ? { output } : {}),
        problem: input.sessionError
          ? describeError(input.sessionError)
          : turn.assistant.length
            ? 'the run stopped before it completed (was the server restarted?)'
            : 'the agent went idle without replying',
        ...(elapsedMs !== undefined ? { elapsedMs } : {}),
      };
    }
    return assessment;
  }

  // Busy or retrying: questions first, then the watchdog. Progress is the card's, drawn from the turn.
  for (const request of observation.permissions) {
    if (!watch.asked.includes(request.id)) assessment.asks.push({ kind: 'permission', request });
  }
  for (const request of observation.questions) {
    if (!watch.asked.includes(request.id)) assessment.asks.push({ kind: 'question', request });
  }
  const waitingOnHuman = observation.permissions.length > 0 || observation.questions.length > 0;
  if (!waitingOnHuman && !watch.stallNoticed && now - activityAt >= input.stallAfterMs) assessment.stall = true;
  return assessment;
}
