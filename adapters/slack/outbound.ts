import type { webApi } from '@slack/bolt';
import { DeliveryError, replyToShow, type DeliveryResult, type OutgoingMessage } from '../../src/core/adapter.js';
import type { Logger } from '../../src/core/logger.js';
import { platformErrorCode, toDeliveryError } from './errors.js';
import type { SlackBlock } from './render/blocks.js';
import { context } from './render/blocks.js';
import type { RenderLimits } from './render/limits.js';
import { planReply, type DeliveryPlan, type MessageDraft } from './render/plan.js';
import { createCardEdit } from '../shared/card-edit.js';
import { createResumable } from '../shared/resumable.js';
import { platformUser, privateRecipient } from '../shared/identity.js';

/**
 * Outgoing messages: a planned Reply posted to its channel (or thread), privately as an ephemeral, or, when
 * the bot is not in the channel, through the command's response_url. One call per outbox row; the outbox
 * handles order, spacing and retries.
 */
export interface OutboundDeps {
  client: webApi.WebClient;
  threads: boolean;
  logger: Logger;
  limits?: RenderLimits;
  /** For response_url fallbacks; the global fetch unless a test injects one. */
  fetch?: typeof fetch;
}

/** How far a multi-part delivery got (see createResumable): messages posted, files uploaded. */
interface Progress {
  messages: number;
  files: number;
  firstTs?: string;
}

export type Deliver = (message: OutgoingMessage) => Promise<DeliveryResult>;

/** The plan of one outgoing message; a public one says whose command it answers. */
export function planMessage(message: OutgoingMessage, allowFiles: boolean, limits?: RenderLimits): DeliveryPlan {
  const attributeTo = message.privateTo ? undefined : platformUser('slack', message.actor);
  return planReply(replyToShow(message), {
    allowFiles,
    ...(attributeTo ? { attributeTo } : {}),
    ...(message.threadKey ? { subject: message.threadKey } : {}),
    ...(limits ? { limits } : {}),
  });
}

/** A live card's new state: chat.update of the Block Kit message, wherever it was posted (ts is unique per channel). */
export function createSlackCardEdit(deps: Pick<OutboundDeps, 'client' | 'logger' | 'limits'>) {
  return createCardEdit({
    platform: 'slack',
    logger: deps.logger,
    render: (message) => planMessage(message, false, deps.limits).messages,
    async send(message, ts, draft) {
      await deps.client.chat.update({ channel: message.origin.channel, ts, text: draft.text, blocks: draft.blocks as never });
    },
    isGone: (error) => {
      const code = platformErrorCode(error);
      return code === 'message_not_found' || code === 'channel_not_found';
    },
    toDeliveryError,
  });
}

export function createOutbound(deps: OutboundDeps): Deliver {
  const progress = createResumable<Progress>(() => ({ messages: 0, files: 0 }));
  const post = fetchOf(deps);

  const plan = (message: OutgoingMessage, allowFiles: boolean) => planMessage(message, allowFiles, deps.limits);

  async function postMessage(channel: string, draft: MessageDraft, threadTs: string | undefined): Promise<string> {
    const args = {
      channel,
      text: draft.text,
      blocks: draft.blocks as never,
      // Agent output may contain URLs; a preview card would bring them to life.
      unfurl_links: false,
      unfurl_media: false,
    };
    try {
      const result = await deps.client.chat.postMessage(threadTs ? { ...args, thread_ts: threadTs } : args);
      return String(result.ts);
    } catch (error) {
      // A thread whose parent was deleted: the message still belongs in the channel rather than nowhere.
      if (threadTs && platformErrorCode(error) === 'thread_not_found') {
        deps.logger.warn('slack: thread is gone, posting to the channel instead', { channel, threadTs });
        const result = await deps.client.chat.postMessage(args);
        return String(result.ts);
      }
      throw error;
    }
  }

  async function toChannel(message: OutgoingMessage, planned: DeliveryPlan): Promise<DeliveryResult> {
    const state = progress.of(message.id);
    const { channel, thread } = message.origin;
    const opensThread = deps.threads && message.opensThread === true && message.threadKey !== undefined && thread === undefined;
    // Everything after an opening message follows it into its new thread.
    const where = () => thread ?? (opensThread ? state.firstTs : undefined);

    for (; state.messages < planned.messages.length; state.messages++) {
      const ts = await postMessage(channel, planned.messages[state.messages]!, where());
      state.firstTs ??= ts;
    }
    for (; state.files < planned.files.length; state.files++) {
      const file = planned.files[state.files]!;
      const threadTs = where();
      const upload = { channel_id: channel, filename: file.filename, title: file.title, content: file.content };
      await deps.client.files.uploadV2(threadTs ? { ...upload, thread_ts: threadTs } : upload);
    }
    progress.forget(message.id);
    return {
      ...(state.firstTs ? { messageId: state.firstTs } : {}),
      ...(opensThread && state.firstTs ? { threadId: state.firstTs } : {}),
    };
  }

  async function privately(message: OutgoingMessage, planned: DeliveryPlan, user: string): Promise<DeliveryResult> {
    const state = progress.of(message.id);
    const { channel, thread } = message.origin;
    for (; state.messages < planned.messages.length; state.messages++) {
      const draft = planned.messages[state.messages]!;
      const result = await deps.client.chat.postEphemeral({
        channel,
        user,
        text: draft.text,
        blocks: draft.blocks as never,
        ...(thread ? { thread_ts: thread } : {}),
      });
      state.firstTs ??= String(result.message_ts);
    }
    progress.forget(message.id);
    return state.firstTs ? { messageId: state.firstTs } : {};
  }

  /**
   * The bot cannot post where it was not invited, but the command's response_url still reaches the person
   * who typed it. Used only for replies to a command (the origin carries its response_url).
   */
  async function throughResponseUrl(message: OutgoingMessage, reason: string): Promise<DeliveryResult> {
    const url = message.origin.replyHandle!;
    const planned = plan(message, false);
    const note = context(`⚠️ I cannot post in this channel (${reason}). Invite me with \`/invite\`, or use a channel I am in.`);
    for (const [index, draft] of planned.messages.entries()) {
      const blocks: SlackBlock[] = index === 0 ? [...draft.blocks, note] : draft.blocks;
      const response = await post(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: draft.text, blocks }),
      });
      if (!response.ok) throw new DeliveryError(`response_url answered ${response.status}`, { permanent: true });
    }
    return {};
  }

  return async function deliver(message: OutgoingMessage): Promise<DeliveryResult> {
    const privateTo = privateRecipient('slack', 'Slack', message);
    try {
      return privateTo ? await privately(message, plan(message, false), privateTo) : await toChannel(message, plan(message, true));
    } catch (error) {
      const failure = toDeliveryError(error, `slack message ${message.id}`);
      if (!failure.permanent) throw failure;
      progress.forget(message.id);
      const code = platformErrorCode(error);
      if ((code === 'not_in_channel' || code === 'channel_not_found') && message.origin.replyHandle) {
        return throughResponseUrl(message, code);
      }
      throw failure;
    }
  };
}

function fetchOf(deps: OutboundDeps): typeof fetch {
  return deps.fetch ?? ((input, init) => fetch(input, init));
}
