import { compareTs } from './ids.js';
import type { ApiCall, ApiOutcome, EphemeralMessage, ResponsePost, SlackFile, SlackMessage } from './types.js';

/**
 * Filters shared by the list methods (`messages()`, `files()` …) and the wait methods, plus the one-line
 * descriptions a timed-out wait prints, so a failure says what was expected and what arrived instead.
 */
export interface WaitOptions {
  /** Defaults to the twin's `defaultTimeoutMs` (5 s). */
  readonly timeoutMs?: number;
}

export interface MessageFilter {
  readonly channel?: string;
  /** Replies in this thread; the parent itself is not included. */
  readonly threadTs?: string;
  /** Only messages that are not thread replies. */
  readonly topLevel?: boolean;
  /** Author user id; the string `bot` means the twin's bot user. */
  readonly user?: string;
  /** Substring of, or pattern tested against, `visibleText` or `text`. */
  readonly text?: string | RegExp;
  /** Only messages posted after this ts (e.g. the ts of the last message you looked at). */
  readonly afterTs?: string;
  readonly includeDeleted?: boolean;
  readonly predicate?: (message: SlackMessage) => boolean;
}

export function matchesMessage(m: SlackMessage, f: MessageFilter, botUserId: string): boolean {
  if (m.deleted && !f.includeDeleted) return false;
  if (f.channel !== undefined && m.channel !== f.channel) return false;
  if (f.threadTs !== undefined && (m.threadTs !== f.threadTs || m.ts === f.threadTs)) return false;
  if (f.topLevel && m.threadTs !== undefined && m.threadTs !== m.ts) return false;
  if (f.user !== undefined && m.user !== (f.user === 'bot' ? botUserId : f.user)) return false;
  if (f.text !== undefined && !matchesText(f.text, m.visibleText, m.text)) return false;
  if (f.afterTs !== undefined && compareTs(m.ts, f.afterTs) <= 0) return false;
  return f.predicate ? f.predicate(m) : true;
}

export interface EphemeralFilter {
  readonly channel?: string;
  readonly user?: string;
  readonly threadTs?: string;
  readonly text?: string | RegExp;
  readonly predicate?: (message: EphemeralMessage) => boolean;
}

export function matchesEphemeral(e: EphemeralMessage, f: EphemeralFilter): boolean {
  if (f.channel !== undefined && e.channel !== f.channel) return false;
  if (f.user !== undefined && e.user !== f.user) return false;
  if (f.threadTs !== undefined && e.threadTs !== f.threadTs) return false;
  if (f.text !== undefined && !matchesText(f.text, e.visibleText, e.text)) return false;
  return f.predicate ? f.predicate(e) : true;
}

export interface FileFilter {
  readonly channel?: string;
  readonly threadTs?: string;
  readonly filename?: string;
  /** Files whose upload never completed are hidden unless this is set. */
  readonly includeIncomplete?: boolean;
  readonly predicate?: (file: SlackFile) => boolean;
}

export function matchesFile(file: SlackFile, f: FileFilter): boolean {
  if (!file.completed && !f.includeIncomplete) return false;
  if (f.channel !== undefined && file.channel !== f.channel) return false;
  if (f.threadTs !== undefined && file.threadTs !== f.threadTs) return false;
  if (f.filename !== undefined && file.filename !== f.filename) return false;
  return f.predicate ? f.predicate(file) : true;
}

export interface ResponseFilter {
  /** The invocation id (from `command()` / `clickButton()` results). */
  readonly invocationId?: string;
  readonly channel?: string;
  readonly user?: string;
  readonly text?: string | RegExp;
  readonly predicate?: (response: ResponsePost) => boolean;
}

export function matchesResponse(r: ResponsePost, f: ResponseFilter): boolean {
  if (f.invocationId !== undefined && r.invocationId !== f.invocationId) return false;
  if (f.channel !== undefined && r.invocation.channel !== f.channel) return false;
  if (f.user !== undefined && r.invocation.user !== f.user) return false;
  if (f.text !== undefined && !matchesText(f.text, r.text ?? '')) return false;
  return f.predicate ? f.predicate(r) : true;
}

export interface ApiCallFilter {
  readonly method?: string;
  readonly outcome?: ApiOutcome;
  readonly error?: string;
  readonly predicate?: (call: ApiCall) => boolean;
}

export function matchesApiCall(c: ApiCall, f: ApiCallFilter): boolean {
  if (f.method !== undefined && c.method !== f.method) return false;
  if (f.outcome !== undefined && c.outcome !== f.outcome) return false;
  if (f.error !== undefined && c.error !== f.error) return false;
  return f.predicate ? f.predicate(c) : true;
}

function matchesText(expected: string | RegExp, ...candidates: string[]): boolean {
  return candidates.some((c) => (typeof expected === 'string' ? c.includes(expected) : expected.test(c)));
}

/** `{channel: 'C1', text: /done/, predicate: <fn>}` — for timeout messages. */
export function describeFilter(filter: object): string {
  const parts = Object.entries(filter)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === 'function' ? '<fn>' : v instanceof RegExp ? String(v) : JSON.stringify(v)}`);
  return `{${parts.join(', ')}}`;
}

export function describeMessage(m: SlackMessage): string {
  const where = m.threadTs !== undefined && m.threadTs !== m.ts ? `${m.channel} thread ${m.threadTs}` : m.channel;
  const flags = [m.edited ? 'edited' : '', m.deleted ? 'deleted' : ''].filter(Boolean).join(', ');
  return `${where} ts=${m.ts} user=${m.user}${flags ? ` (${flags})` : ''}: ${JSON.stringify(truncate(m.visibleText))}`;
}

export function describeList<T>(items: readonly T[], describe: (item: T) => string, noun: string): string {
  if (items.length === 0) return `No ${noun} arrived at all.`;
  const shown = items.slice(-20).map((item) => `  - ${describe(item)}`);
  const hidden = items.length > 20 ? [`  … and ${items.length - 20} earlier`] : [];
  return [`${items.length} ${noun} arrived:`, ...hidden, ...shown].join('\n');
}

export function truncate(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}
