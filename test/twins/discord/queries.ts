import type { RestCall } from './rest/server.js';
import { matchesRequest, type RouteMatcher } from './rest/routing.js';
import type { TwinMessage, TwinThread } from './snapshots.js';
import { truncate } from './waiting.js';
import type { MessageSource } from './world.js';

/**
 * Filters shared by the list methods (`messages()`, `threads()`, `restCalls()`) and the waits, plus one-line
 * descriptions for timeout errors, so a failure says what was expected and what arrived instead.
 */

export interface MessageFilter {
  /** A channel or thread id. */
  channel?: string;
  /** `'bot'` for the bot, `'user'` for anyone else, or a user id. */
  author?: string;
  /** Substring of, or pattern tested against, the content. */
  text?: string | RegExp;
  source?: MessageSource;
  /** Only messages created after this one (by id), e.g. the user message a reply should follow. */
  afterId?: string;
  /** Deferred replies still "thinking…" are hidden unless asked for: they have no content yet. */
  includeLoading?: boolean;
  includeDeleted?: boolean;
  /** Ephemeral replies are included unless this is false. */
  includeEphemeral?: boolean;
  predicate?: (message: TwinMessage) => boolean;
}

export function matchesMessage(m: TwinMessage, f: MessageFilter, afterSeq: number | undefined): boolean {
  if (m.deleted && !f.includeDeleted) return false;
  if (m.loading && !f.includeLoading) return false;
  if (m.ephemeral && f.includeEphemeral === false) return false;
  if (f.channel !== undefined && m.channelId !== f.channel) return false;
  if (f.author !== undefined) {
    if (f.author === 'bot' ? !m.author.bot : f.author === 'user' ? m.author.bot : m.author.id !== f.author) return false;
  }
  if (f.source !== undefined && m.source !== f.source) return false;
  if (f.text !== undefined && !(typeof f.text === 'string' ? m.content.includes(f.text) : f.text.test(m.content))) return false;
  if (afterSeq !== undefined && m.seq <= afterSeq) return false;
  return f.predicate ? f.predicate(m) : true;
}

export interface ThreadFilter {
  parent?: string;
  name?: string | RegExp;
  starterMessageId?: string;
  predicate?: (thread: TwinThread) => boolean;
}

export function matchesThread(t: TwinThread, f: ThreadFilter): boolean {
  if (f.parent !== undefined && t.parentId !== f.parent) return false;
  if (f.name !== undefined && !(typeof f.name === 'string' ? t.name === f.name : f.name.test(t.name))) return false;
  if (f.starterMessageId !== undefined && t.starterMessageId !== f.starterMessageId) return false;
  return f.predicate ? f.predicate(t) : true;
}

export interface RestCallFilter {
  /** `'POST /channels/:id/messages'`, a RegExp on `'POST /channels/123/messages'`, or a predicate. */
  route?: RouteMatcher;
  status?: number;
  /** Only calls answered by `failNext`, or only real ones. */
  injected?: boolean;
  predicate?: (call: RestCall) => boolean;
}

export function matchesRestCall(c: RestCall, f: RestCallFilter): boolean {
  if (f.route !== undefined && !matchesRequest(f.route, c)) return false;
  if (f.status !== undefined && c.status !== f.status) return false;
  if (f.injected !== undefined && c.injected !== f.injected) return false;
  return f.predicate ? f.predicate(c) : true;
}

export function describeMessage(m: TwinMessage): string {
  const flags = [m.ephemeral ? 'ephemeral' : '', m.loading ? 'loading' : '', m.edited ? 'edited' : '', m.deleted ? 'deleted' : '']
    .filter(Boolean)
    .join(', ');
  const extras = [
    m.embeds.length ? `${m.embeds.length} embed(s)` : '',
    m.attachments.length ? `files: ${m.attachments.map((a) => a.filename).join(', ')}` : '',
  ].filter(Boolean);
  return `channel ${m.channelId} id=${m.id} ${m.author.bot ? 'bot' : m.author.username}${flags ? ` (${flags})` : ''}: ${JSON.stringify(truncate(m.content))}${extras.length ? ` [${extras.join('; ')}]` : ''}`;
}

export function describeRestCall(c: RestCall): string {
  return `${c.method} ${c.path} → ${c.status}${c.errorCode !== null ? ` (code ${c.errorCode})` : ''}${c.injected ? ' [injected]' : ''}`;
}

export function describeThread(t: TwinThread): string {
  return `thread ${t.id} ${JSON.stringify(t.name)} in ${t.parentId}${t.starterMessageId ? ` from message ${t.starterMessageId}` : ''}`;
}
