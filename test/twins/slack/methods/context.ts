import type { z } from 'zod';
import { slackErrorForIssues } from '../schemas.js';
import type { RateLimiter } from '../rate-limiter.js';
import type { MessageRecord, TwinState } from '../state.js';
import type { Workspace } from '../workspace.js';

/** What a Web API method handler may touch. Handlers are plain functions of (args, context). */
export interface MethodContext {
  readonly state: TwinState;
  readonly workspace: Workspace;
  readonly limiter: RateLimiter;
  now(): number;
  uploadUrlFor(fileId: string): string;
  /** Issues a one-time Socket Mode URL, as apps.connections.open does. */
  openSocketUrl(): string;
}

export type MethodOutcome =
  | { readonly kind: 'ok'; readonly body: Record<string, unknown> }
  | { readonly kind: 'error'; readonly error: string; readonly messages: readonly string[] }
  | { readonly kind: 'rate_limited'; readonly retryAfterSec: number };

export type MethodHandler = (args: Record<string, unknown>, ctx: MethodContext) => MethodOutcome;

export const ok = (body: Record<string, unknown> = {}): MethodOutcome => ({ kind: 'ok', body });

export const fail = (error: string, messages: readonly string[] = []): MethodOutcome => ({
  kind: 'error',
  error,
  messages,
});

export const rateLimited = (retryAfterSec: number): MethodOutcome => ({ kind: 'rate_limited', retryAfterSec });

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly outcome: MethodOutcome };

export function parseArgs<S extends z.ZodType>(schema: S, args: Record<string, unknown>): Parsed<z.output<S>> {
  const result = schema.safeParse(args);
  if (result.success) return { ok: true, value: result.data };
  const { error, messages } = slackErrorForIssues(result.error.issues);
  return { ok: false, outcome: fail(error, messages) };
}

/** The `message` object Slack returns from chat.postMessage / chat.update. */
export function messageJson(record: MessageRecord, ctx: MethodContext): Record<string, unknown> {
  const { bot, team } = ctx.workspace;
  const fromBot = record.user === bot.userId;
  return {
    type: 'message',
    user: record.user,
    ...(fromBot ? { bot_id: bot.botId, app_id: bot.appId } : {}),
    text: record.text,
    ts: record.ts,
    team: team.id,
    ...(record.threadTs !== undefined ? { thread_ts: record.threadTs } : {}),
    ...(record.blocks !== undefined ? { blocks: record.blocks } : {}),
    ...(record.fileIds.length > 0 ? { files: record.fileIds.map((id) => ({ id })) } : {}),
    ...(record.edits.length > 0 ? { edited: { user: record.user, ts: record.ts } } : {}),
  };
}

/** Replies to a reply land in the parent's thread, as on Slack; an unknown parent is an adapter bug. */
export function resolveThread(
  ctx: MethodContext,
  channel: string,
  threadTs: string | undefined,
): { ok: true; threadTs: string | undefined } | { ok: false; outcome: MethodOutcome } {
  if (threadTs === undefined) return { ok: true, threadTs: undefined };
  const parent = ctx.state.findMessage(channel, threadTs);
  if (!parent) {
    return {
      ok: false,
      outcome: fail('thread_not_found', [`[ERROR] no message with ts ${threadTs} in ${channel} [json-pointer:/thread_ts]`]),
    };
  }
  return { ok: true, threadTs: parent.threadTs ?? parent.ts };
}
