import { checkMessageLimits } from './limits.js';
import { responseUrlBody } from './schemas.js';
import type { TwinState } from './state.js';
import type { Block } from './types.js';
import type { Workspace } from './workspace.js';

/**
 * The `response_url` endpoints. Bolt's `respond()` POSTs JSON there; the twin records each post against the
 * invocation that carried the URL and applies what Slack would show: an ephemeral reply to the invoker by default,
 * a channel message for `in_channel`, and an edit/delete of the clicked message for `replace_original` /
 * `delete_original` (block actions only). Slack allows five uses per URL; the sixth gets a 404 (the twin's choice
 * of status), which Bolt turns into a RespondError.
 */
export const RESPONSE_URL_MAX_USES = 5;

export interface ResponseUrlReply {
  readonly status: number;
  readonly body: string;
}

export function handleResponseUrlPost(
  state: TwinState,
  workspace: Workspace,
  invocationId: string,
  fields: Record<string, unknown>,
): ResponseUrlReply {
  const invocation = state.invocations.get(invocationId);
  if (!invocation) return { status: 404, body: 'unknown response_url' };

  const parsed = responseUrlBody.safeParse(fields);
  if (!parsed.success) {
    state.addResponse({ invocationId, body: fields, status: 400 });
    return { status: 400, body: `invalid payload: ${parsed.error.issues.map((i) => i.message).join('; ')}` };
  }
  invocation.responseUrlUses += 1;
  if (invocation.responseUrlUses > RESPONSE_URL_MAX_USES) {
    state.addResponse({ invocationId, body: fields, status: 404 });
    return { status: 404, body: 'used_url' };
  }
  const body = parsed.data;
  const blocks = body.blocks as Block[] | undefined;
  const hasContent = body.text !== undefined || blocks !== undefined;
  if (hasContent) {
    const violation = checkMessageLimits({ text: body.text, blocks });
    if (violation && violation.error !== 'no_text') {
      state.addResponse({ invocationId, body: fields, status: 400 });
      return { status: 400, body: violation.error };
    }
  }
  state.addResponse({ invocationId, body: fields, status: 200 });

  const original =
    invocation.messageTs !== undefined ? state.findMessage(invocation.channel, invocation.messageTs) : undefined;
  if (body.delete_original && original) {
    state.deleteMessage(original);
  } else if (body.replace_original && original) {
    state.editMessage(original, { text: body.text ?? '', blocks: blocks ?? [] });
  } else if (hasContent && body.response_type === 'in_channel') {
    state.addMessage({
      channel: invocation.channel,
      threadTs: body.thread_ts ?? invocation.threadTs,
      user: workspace.bot.userId,
      botId: workspace.bot.botId,
      text: body.text ?? '',
      blocks,
      replyBroadcast: false,
      source: 'response_url',
      args: fields,
    });
  } else if (hasContent) {
    state.addEphemeral({
      channel: invocation.channel,
      user: invocation.user,
      threadTs: body.thread_ts ?? invocation.threadTs,
      text: body.text ?? '',
      blocks,
      source: 'response_url',
    });
  }
  return { status: 200, body: 'ok' };
}
