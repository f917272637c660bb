import { replyToShow, type DeliveryResult, type OutgoingMessage } from '../../src/core/adapter.js';
import type { Logger } from '../../src/core/logger.js';
import { discordErrorCode, isStaleInteraction, toDeliveryError } from './errors.js';
import { inertMentions } from './render/markdown.js';
import type { RenderLimits } from './render/limits.js';
import { planReply, type MessageDraft } from './render/plan.js';
import { decodeReplyHandle, type ReplyHandle } from './reply-handle.js';
import type { DiscordRest } from './rest-calls.js';
import { createCardEdit } from '../shared/card-edit.js';
import { createResumable } from '../shared/resumable.js';
import { platformUser, privateRecipient } from '../shared/identity.js';

/**
 * Outgoing messages: a planned Reply posted where it belongs. The answer to a slash command replaces its
 * "thinking…" reply; a private answer (errors, refusals) is an ephemeral follow-up to the person's own
 * interaction; everything else is a channel message, a Discord reply to the `!sb` message it answers, or a post
 * in the name's thread. One call per outbox row; the outbox handles order, spacing and retries.
 */
export interface OutboundDeps {
  rest: DiscordRest;
  threads: boolean;
  logger: Logger;
  limits?: RenderLimits;
}

/** How far a multi-part delivery got (see createResumable), and what it settled on the way. */
interface Progress {
  sent: number;
  firstMessageId?: string;
  /** Opened by this delivery (the name's new thread). */
  threadId?: string;
  threadSettled?: boolean;
  /** The "thinking…" reply was replaced by a pointer or removed. */
  originalSettled?: boolean;
  /** The interaction token could not be used any more: the rest goes to the channel. */
  viaChannel?: boolean;
}

/** Discord codes after which a post in a thread belongs in the parent channel instead (thread gone, locked). */
const THREAD_UNUSABLE = new Set([10003, 160005]);
/** "Cannot reply without permission to read message history". */
const CANNOT_REPLY = 160002;
/** "A thread has already been created for this message": on Discord such a thread has the message's id. */
const THREAD_EXISTS = 160004;

export type Deliver = (message: OutgoingMessage) => Promise<DeliveryResult>;

/** The messages of one outgoing message; `attribute` adds whose command it answers (not on a Discord reply). */
export function planMessage(message: OutgoingMessage, attribute: boolean, limits?: RenderLimits): MessageDraft[] {
  const actor = attribute ? platformUser('discord', message.actor) : undefined;
  return planReply(replyToShow(message), {
    ...(actor ? { attributeTo: actor } : {}),
    ...(message.threadKey ? { subject: message.threadKey } : {}),
    ...(limits ? { limits } : {}),
  });
}

/** Unknown channel (the thread holding the card was deleted), unknown message (the card was). */
const CARD_GONE = new Set([10003, 10008]);

/** A live card's new state: an edit of the message where it was posted (the name's thread or the channel). */
export function createDiscordCardEdit(deps: Pick<OutboundDeps, 'rest' | 'logger' | 'limits'>) {
  return createCardEdit({
    platform: 'discord',
    logger: deps.logger,
    render: (message) => planMessage(message, true, deps.limits),
    async send(message, messageId, draft) {
      await deps.rest.editMessage(message.origin.thread ?? message.origin.channel, messageId, draft);
    },
    isGone: (error) => CARD_GONE.has(discordErrorCode(error) ?? 0),
    toDeliveryError,
  });
}

export function createOutbound(deps: OutboundDeps): Deliver {
  const { rest, logger } = deps;
  const progress = createResumable<Progress>(() => ({ sent: 0 }));

  const plan = (message: OutgoingMessage, attribute: boolean) => planMessage(message, attribute, deps.limits);

  /**
   * Posts one message. A thread that is gone or locked gives way to its parent channel, and a reply the bot may
   * not make (no Read Message History) to a plain message, rather than the answer being lost.
   */
  async function post(message: OutgoingMessage, part: number, channelId: string, draft: MessageDraft, replyTo?: string): Promise<string> {
    // A crash between Discord's answer and the outbox's note of it sends this part again: the nonce makes
    // Discord hand back the first one instead of posting twice (it keeps nonces for a few minutes).
    const nonce = message.deliveryKey ? `${message.deliveryKey}.${part}` : undefined;
    try {
      return await rest.postMessage(channelId, draft, replyTo, nonce);
    } catch (error) {
      const code = discordErrorCode(error);
      if (replyTo !== undefined && code === CANNOT_REPLY) {
        logger.warn('discord: cannot reply to the message (Read Message History missing?); posting without the reply link', { channel: channelId });
        return post(message, part, channelId, draft);
      }
      const parent = message.origin.channel;
      if (channelId !== parent && code !== undefined && THREAD_UNUSABLE.has(code)) {
        logger.warn('discord: cannot post in the thread, posting in its channel instead', { thread: channelId, channel: parent, code });
        return rest.postMessage(parent, draft, undefined, nonce);
      }
      throw error;
    }
  }

  function opensThread(message: OutgoingMessage): boolean {
    return deps.threads && message.opensThread === true && message.threadKey !== undefined && message.origin.thread === undefined;
  }

  /** Starts the name's thread from the message just posted; a refusal leaves the conversation in the channel. */
  async function settleThread(message: OutgoingMessage, state: Progress, channelId: string): Promise<void> {
    if (!opensThread(message) || state.threadSettled || state.firstMessageId === undefined) return;
    try {
      state.threadId = await rest.startThread(channelId, state.firstMessageId, message.threadKey!.slice(0, 100));
    } catch (error) {
      if (discordErrorCode(error) === THREAD_EXISTS) state.threadId = state.firstMessageId;
      else if (toDeliveryError(error, 'thread').permanent) {
        logger.warn('discord: could not start a thread; the name stays in the channel', { channel: channelId, name: message.threadKey, error: String(error) });
      } else throw error;
    }
    state.threadSettled = true;
  }

  async function toChannel(message: OutgoingMessage, handle: ReplyHandle | undefined, state: Progress): Promise<DeliveryResult> {
    const target = message.origin.thread ?? message.origin.channel;
    const replyTo = handle?.kind === 'message' && handle.channelId === target ? handle.messageId : undefined;
    // A Discord reply shows whose message it answers; anything else that answers someone says so in a line.
    const drafts = plan(message, replyTo === undefined);
    while (state.sent < drafts.length) {
      await settleThread(message, state, target);
      const index = state.sent;
      const id = await post(message, index, state.threadId ?? target, drafts[index]!, index === 0 ? replyTo : undefined);
      state.firstMessageId ??= id;
      state.sent = index + 1;
    }
    await settleThread(message, state, target);
    return result(state);
  }

  async function answerInteraction(message: OutgoingMessage, handle: Extract<ReplyHandle, { kind: 'interaction' }>, state: Progress): Promise<DeliveryResult> {
    const target = message.origin.thread ?? message.origin.channel;
    if (target !== handle.channelId) return answerElsewhere(message, handle, state, target);
    const drafts = plan(message, false);
    if (state.sent === 0) {
      state.firstMessageId = await rest.editOriginal(handle.applicationId, handle.token, drafts[0]!);
      state.sent = 1;
    }
    while (state.sent < drafts.length) {
      await settleThread(message, state, target);
      const index = state.sent;
      await post(message, index, state.threadId ?? target, drafts[index]!);
      state.sent = index + 1;
    }
    await settleThread(message, state, target);
    return result(state);
  }

  /**
   * The outbox routed the answer into the name's thread, but the person typed in the channel: the answer goes to
   * the thread and the "thinking…" reply in the channel becomes a pointer to it.
   */
  async function answerElsewhere(
    message: OutgoingMessage,
    handle: Extract<ReplyHandle, { kind: 'interaction' }>,
    state: Progress,
    target: string,
  ): Promise<DeliveryResult> {
    const drafts = plan(message, true);
    while (state.sent < drafts.length) {
      const index = state.sent;
      const id = await post(message, index, target, drafts[index]!);
      state.firstMessageId ??= id;
      state.sent = index + 1;
    }
    if (!state.originalSettled) {
      try {
        await rest.editOriginal(handle.applicationId, handle.token, pointer(message, target));
      } catch (error) {
        // The answer itself is out; a stale "thinking…" is all that is left, and Discord expires it anyway.
        if (!isStaleInteraction(error) && !toDeliveryError(error, 'pointer').permanent) throw error;
        logger.warn('discord: could not point the slash command reply at the thread', { error: String(error) });
      }
      state.originalSettled = true;
    }
    return result(state);
  }

  async function privately(message: OutgoingMessage, handle: Extract<ReplyHandle, { kind: 'interaction' }>, state: Progress): Promise<DeliveryResult> {
    const drafts = plan(message, false);
    if (handle.deferred === 'reply' && !state.originalSettled) {
      // A public "thinking…" cannot turn ephemeral; it goes, and the answer comes as an ephemeral follow-up.
      try {
        await rest.deleteOriginal(handle.applicationId, handle.token);
      } catch (error) {
        if (discordErrorCode(error) !== 10008) throw error;
      }
      state.originalSettled = true;
    }
    while (state.sent < drafts.length) {
      const index = state.sent;
      const id = await rest.followUp(handle.applicationId, handle.token, drafts[index]!, true);
      state.firstMessageId ??= id;
      state.sent = index + 1;
    }
    return result(state);
  }

  return async function deliver(message: OutgoingMessage): Promise<DeliveryResult> {
    privateRecipient('discord', 'Discord', message);
    const handle = decodeReplyHandle(message.origin.replyHandle);
    const state = progress.of(message.id);
    try {
      const delivered = await route(message, handle, state);
      progress.forget(message.id);
      return delivered;
    } catch (error) {
      const failure = toDeliveryError(error, `discord message ${message.id}`);
      if (failure.permanent) progress.forget(message.id);
      throw failure;
    }
  };

  async function route(message: OutgoingMessage, handle: ReplyHandle | undefined, state: Progress): Promise<DeliveryResult> {
    const interaction = handle?.kind === 'interaction' && !state.viaChannel ? handle : undefined;
    try {
      if (interaction && message.privateTo !== undefined) return await privately(message, interaction, state);
      if (interaction?.deferred === 'reply') return await answerInteraction(message, interaction, state);
    } catch (error) {
      if (!isStaleInteraction(error)) throw error;
      // Past the token's 15 minutes (a long outage, a restart): the answer still belongs in the channel.
      logger.warn('discord: interaction token no longer valid; answering in the channel', { id: message.id });
      state.viaChannel = true;
    }
    // An answer for its asker's eyes only (a fleet page link) never reaches the channel: a `!sb` message (or an
    // interaction past its 15 minutes) has no private way back, so the channel gets a pointer to `/sb` instead.
    if (message.reply.privately && message.privateTo !== undefined) {
      const notice = { blocks: [{ type: 'text' as const, text: '🔒 That answer is private, and Discord can show it only to a slash command: type `/sb` with the same command.' }], tone: 'warning' as const };
      return toChannel({ ...message, reply: notice }, handle?.kind === 'message' ? handle : undefined, state);
    }
    return toChannel(message, handle?.kind === 'message' ? handle : undefined, state);
  }
}

function result(state: Progress): DeliveryResult {
  return {
    ...(state.firstMessageId ? { messageId: state.firstMessageId } : {}),
    ...(state.threadId ? { threadId: state.threadId } : {}),
  };
}

/** What the "thinking…" reply says when the answer went to the name's thread. */
function pointer(message: OutgoingMessage, threadId: string): MessageDraft {
  const first = message.reply.blocks.find((b) => b.type === 'text');
  const line = first?.type === 'text' ? inertMentions(first.text.split('\n')[0]!.slice(0, 200)) : '';
  return { content: `${line}${line ? '\n' : ''}-# ↪ in <#${threadId}>`, components: [], files: [] };
}
