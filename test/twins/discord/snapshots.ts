import {
  MessageFlags,
  type APIAllowedMentions,
  type APIApplicationCommandOptionChoice,
  type APIEmbed,
  type APIMessage,
  type APIMessageTopLevelComponent,
} from 'discord-api-types/v10';
import { apiMessage, attachmentUrl, type MessageContext } from './payloads/messages.js';
import type { CallbackRecord, ChannelRecord, InteractionKind, InteractionRecord, MessageRecord, MessageSource } from './world.js';

/**
 * What tests get back: plain, frozen-in-time copies of the twin's records. Tests can keep them, compare them and
 * pass them back (`clickButton(message, …)`) without seeing later changes or changing the twin by accident.
 */

export interface TwinAttachment {
  id: string;
  filename: string;
  contentType: string | undefined;
  description: string | undefined;
  size: number;
  bytes: Buffer;
  url: string;
}

export interface TwinMessage {
  id: string;
  /** The channel or thread it was posted in. */
  channelId: string;
  guildId: string;
  author: { id: string; username: string; bot: boolean };
  source: MessageSource;
  content: string;
  embeds: APIEmbed[];
  components: APIMessageTopLevelComponent[];
  attachments: TwinAttachment[];
  /** As the bot sent it, e.g. `{ parse: [] }`; undefined when the request had none. */
  allowedMentions: APIAllowedMentions | undefined;
  /** Who was actually pinged, after allowed_mentions. */
  mentions: { users: string[]; roles: string[]; everyone: boolean };
  replyTo: { messageId: string; channelId: string } | null;
  flags: number;
  ephemeral: boolean;
  /** A deferred interaction reply still showing "thinking…". */
  loading: boolean;
  interactionId: string | null;
  /** The thread started from this message, if any. */
  threadId: string | null;
  reactions: Array<{ emoji: string; userId: string }>;
  edited: boolean;
  editCount: number;
  deleted: boolean;
  createdAt: number;
  editedAt: number | null;
  /** Creation order across the whole twin. */
  seq: number;
  /** Exactly what discord.js receives for this message over REST. */
  api: APIMessage;
}

export interface TwinThread {
  id: string;
  guildId: string;
  parentId: string;
  name: string;
  private: boolean;
  starterMessageId: string | null;
  ownerId: string | null;
  archived: boolean;
  locked: boolean;
  seq: number;
}

export interface TwinInteractionState {
  id: string;
  token: string;
  kind: InteractionKind;
  channelId: string;
  userId: string;
  /** `sb send name:kumo`, or the custom id of a clicked component. */
  summary: string;
  customId: string | null;
  callbacks: CallbackRecord[];
  acknowledged: boolean;
  answered: boolean;
  /** Past the deadline with no acknowledgement: the user saw "The application did not respond". */
  expired: boolean;
  originalMessageId: string | null;
  followUpIds: string[];
  choices: APIApplicationCommandOptionChoice[] | null;
  modal: unknown;
}

export function messageSnapshot(ctx: MessageContext, m: MessageRecord): TwinMessage {
  const author = ctx.world.users.get(m.authorId);
  return {
    id: m.id,
    channelId: m.channelId,
    guildId: m.guildId,
    author: { id: m.authorId, username: author?.username ?? m.authorId, bot: author?.bot ?? false },
    source: m.source,
    content: m.content,
    embeds: structuredClone(m.embeds),
    components: structuredClone(m.components),
    attachments: m.attachments.map((a) => ({
      id: a.id,
      filename: a.filename,
      contentType: a.contentType,
      description: a.description,
      size: a.bytes.length,
      // Shared, not copied: the twin never mutates stored bytes, and copies would make every probe O(bytes).
      bytes: a.bytes,
      url: attachmentUrl(ctx.baseUrl, m.channelId, a.id, a.filename),
    })),
    allowedMentions: m.allowedMentions ? structuredClone(m.allowedMentions) : undefined,
    mentions: { users: [...m.mentionedUserIds], roles: [...m.mentionedRoleIds], everyone: m.mentionEveryone },
    replyTo: m.replyTo ? { ...m.replyTo } : null,
    flags: m.flags,
    ephemeral: (m.flags & MessageFlags.Ephemeral) !== 0,
    loading: m.loading,
    interactionId: m.interactionId,
    threadId: m.threadId,
    reactions: m.reactions.map((r) => ({ ...r })),
    edited: m.editCount > 0,
    editCount: m.editCount,
    deleted: m.deleted,
    createdAt: m.createdAt,
    editedAt: m.editedAt,
    seq: m.seq,
    api: apiMessage(ctx, m),
  };
}

export function threadSnapshot(c: ChannelRecord): TwinThread {
  return {
    id: c.id,
    guildId: c.guildId,
    parentId: c.parentId ?? '',
    name: c.name,
    private: c.kind === 'private-thread',
    starterMessageId: c.starterMessageId,
    ownerId: c.ownerId,
    archived: c.archived,
    locked: c.locked,
    seq: c.seq,
  };
}

export function interactionSnapshot(r: InteractionRecord, expired: boolean): TwinInteractionState {
  return {
    id: r.id,
    token: r.token,
    kind: r.kind,
    channelId: r.channelId,
    userId: r.userId,
    summary: r.summary,
    customId: r.customId,
    callbacks: structuredClone(r.callbacks),
    acknowledged: r.acknowledged,
    answered: r.answered,
    expired,
    originalMessageId: r.originalMessageId,
    followUpIds: [...r.followUpIds],
    choices: r.choices ? structuredClone(r.choices) : null,
    modal: structuredClone(r.modal),
  };
}
