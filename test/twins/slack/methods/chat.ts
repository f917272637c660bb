import { checkMessageLimits } from '../limits.js';
import { deleteArgs, postEphemeralArgs, postMessageArgs, updateArgs } from '../schemas.js';
import type { Block } from '../types.js';
import {
  fail,
  messageJson,
  ok,
  parseArgs,
  rateLimited,
  resolveThread,
  type MethodContext,
  type MethodHandler,
  type MethodOutcome,
} from './context.js';

/** chat.* — the methods an adapter uses to talk. Checks run in Slack's order: channel, content, thread, rate. */

export const postMessage: MethodHandler = (args, ctx) => {
  const parsed = parseArgs(postMessageArgs, args);
  if (!parsed.ok) return parsed.outcome;
  const a = parsed.value;
  const channel = ctx.workspace.resolveChannel(a.channel);
  if (!channel) return fail('channel_not_found');
  const violation = checkMessageLimits({
    text: a.text,
    blocks: a.blocks,
    hasOtherContent: (a.attachments?.length ?? 0) > 0,
  });
  if (violation) return fail(violation.error, violation.messages);
  const thread = resolveThread(ctx, channel.id, a.thread_ts);
  if (!thread.ok) return thread.outcome;
  const now = ctx.now();
  const limited = ctx.limiter.checkChannel(channel.id, now);
  if (limited) return rateLimited(limited.retryAfterSec);

  const record = ctx.state.addMessage({
    channel: channel.id,
    threadTs: thread.threadTs,
    user: ctx.workspace.bot.userId,
    botId: ctx.workspace.bot.botId,
    text: a.text ?? '',
    blocks: a.blocks as Block[] | undefined,
    replyBroadcast: a.reply_broadcast ?? false,
    source: 'chat.postMessage',
    args,
  });
  ctx.limiter.notePost(channel.id, now);
  return ok({ channel: channel.id, ts: record.ts, message: messageJson(record, ctx) });
};

export const update: MethodHandler = (args, ctx) => {
  const parsed = parseArgs(updateArgs, args);
  if (!parsed.ok) return parsed.outcome;
  const a = parsed.value;
  const found = findOwnMessage(ctx, a.channel, a.ts, 'cant_update_message');
  if (!found.ok) return found.outcome;
  const violation = checkMessageLimits({ text: a.text, blocks: a.blocks });
  if (violation) return fail(violation.error, violation.messages);
  const limited = ctx.limiter.takeUpdate(ctx.now());
  if (limited) return rateLimited(limited.retryAfterSec);
  ctx.state.editMessage(found.record, { text: a.text, blocks: a.blocks as Block[] | undefined });
  const record = found.record;
  return ok({ channel: record.channel, ts: record.ts, text: record.text, message: messageJson(record, ctx) });
};

export const deleteMessage: MethodHandler = (args, ctx) => {
  const parsed = parseArgs(deleteArgs, args);
  if (!parsed.ok) return parsed.outcome;
  const found = findOwnMessage(ctx, parsed.value.channel, parsed.value.ts, 'cant_delete_message');
  if (!found.ok) return found.outcome;
  ctx.state.deleteMessage(found.record);
  return ok({ channel: found.record.channel, ts: found.record.ts });
};

export const postEphemeral: MethodHandler = (args, ctx) => {
  const parsed = parseArgs(postEphemeralArgs, args);
  if (!parsed.ok) return parsed.outcome;
  const a = parsed.value;
  const channel = ctx.workspace.resolveChannel(a.channel);
  if (!channel) return fail('channel_not_found');
  if (!ctx.workspace.user(a.user)) return fail('user_not_found');
  const violation = checkMessageLimits({
    text: a.text,
    blocks: a.blocks,
    hasOtherContent: (a.attachments?.length ?? 0) > 0,
  });
  if (violation) return fail(violation.error, violation.messages);
  const thread = resolveThread(ctx, channel.id, a.thread_ts);
  if (!thread.ok) return thread.outcome;
  const record = ctx.state.addEphemeral({
    channel: channel.id,
    user: a.user,
    threadTs: thread.threadTs,
    text: a.text ?? '',
    blocks: a.blocks as Block[] | undefined,
    source: 'chat.postEphemeral',
  });
  return ok({ message_ts: record.ts });
};

function findOwnMessage(
  ctx: MethodContext,
  channelId: string | undefined,
  ts: string,
  notOwnError: string,
): { ok: true; record: NonNullable<ReturnType<MethodContext['state']['findMessage']>> } | { ok: false; outcome: MethodOutcome } {
  const channel = ctx.workspace.resolveChannel(channelId);
  if (!channel) return { ok: false, outcome: fail('channel_not_found') };
  const record = ctx.state.findMessage(channel.id, ts);
  if (!record || record.deleted) return { ok: false, outcome: fail('message_not_found') };
  if (record.user !== ctx.workspace.bot.userId) return { ok: false, outcome: fail(notOwnError) };
  return { ok: true, record };
}
