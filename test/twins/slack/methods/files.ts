import type { FileRecord } from '../state.js';
import { completeUploadArgs, getUploadUrlArgs } from '../schemas.js';
import type { Block } from '../types.js';
import { fail, ok, parseArgs, resolveThread, type MethodHandler } from './context.js';

/**
 * The three steps of `client.files.uploadV2` in @slack/web-api 8: files.getUploadURLExternal, a POST of the bytes
 * to the returned URL (web-api sends multipart with the bytes in a `body` field), then
 * files.completeUploadExternal, which shares the files into a channel/thread as one message.
 */

export const getUploadUrlExternal: MethodHandler = (args, ctx) => {
  const parsed = parseArgs(getUploadUrlArgs, args);
  if (!parsed.ok) return parsed.outcome;
  const a = parsed.value;
  const file = ctx.state.addFile({
    filename: a.filename,
    declaredLength: a.length,
    altText: a.alt_text,
    snippetType: a.snippet_type,
  });
  return ok({ upload_url: ctx.uploadUrlFor(file.id), file_id: file.id });
};

export const completeUploadExternal: MethodHandler = (args, ctx) => {
  const parsed = parseArgs(completeUploadArgs, args);
  if (!parsed.ok) return parsed.outcome;
  const a = parsed.value;
  const files: FileRecord[] = [];
  for (const entry of a.files) {
    const file = ctx.state.files.get(entry.id);
    if (!file || file.completed) return fail('file_not_found');
    files.push(file);
  }
  const channelArg = a.channel_id ?? a.channels;
  const channel = channelArg === undefined ? undefined : ctx.workspace.resolveChannel(channelArg);
  if (channelArg !== undefined && !channel) return fail('channel_not_found');
  const thread = channel ? resolveThread(ctx, channel.id, a.thread_ts) : ({ ok: true, threadTs: undefined } as const);
  if (!thread.ok) return thread.outcome;

  // A shared upload shows up in the channel as one message carrying the files and the initial comment.
  const message = channel
    ? ctx.state.addMessage({
        channel: channel.id,
        threadTs: thread.threadTs,
        user: ctx.workspace.bot.userId,
        botId: ctx.workspace.bot.botId,
        text: a.initial_comment ?? '',
        blocks: a.blocks as Block[] | undefined,
        replyBroadcast: false,
        source: 'file_upload',
        args,
        fileIds: files.map((f) => f.id),
      })
    : undefined;
  a.files.forEach((entry, i) => {
    const file = files[i];
    if (!file) return;
    file.title = entry.title ?? file.filename;
    file.channel = channel?.id;
    file.threadTs = thread.threadTs;
    file.initialComment = a.initial_comment;
    file.messageTs = message?.ts;
    file.completed = true;
  });
  ctx.state.changedFile();
  return ok({
    files: files.map((f) => ({
      id: f.id,
      name: f.filename,
      title: f.title,
      size: f.content.length,
      user: ctx.workspace.bot.userId,
      channels: f.channel ? [f.channel] : [],
    })),
  });
};

/** The bytes POSTed to an upload URL. Not a Web API method: Slack answers plain text `OK - <bytes>`. */
export function receiveUploadBytes(
  file: FileRecord | undefined,
  fields: Record<string, unknown>,
  raw: Buffer,
  contentType: string,
): { status: number; text: string } {
  if (!file) return { status: 404, text: 'file not found' };
  const field = fields['body'] ?? fields['file'] ?? fields['content'];
  if (Buffer.isBuffer(field)) file.content = field;
  else if (typeof field === 'string') file.content = Buffer.from(field, 'utf8');
  else if (!contentType.startsWith('multipart/') && !contentType.includes('urlencoded')) file.content = raw;
  else return { status: 400, text: 'no file data' };
  file.uploaded = true;
  return { status: 200, text: `OK - ${file.content.length}` };
}
