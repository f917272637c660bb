import {
  GatewayDispatchEvents,
  MessageFlags,
  ReactionType,
  type APIAllowedMentions,
  type APIEmbed,
  type APIMessageTopLevelComponent,
  type GatewayMessageDeleteDispatchData,
  type GatewayMessageReactionAddDispatchData,
  type GatewayMessageReactionRemoveDispatchData,
  type RESTAPIAttachment,
} from 'discord-api-types/v10';
import { apiMember } from '../payloads/entities.js';
import { messageCreateData, messageUpdateData, parseEmoji, type MessageContext } from '../payloads/messages.js';
import { errors } from '../rest/errors.js';
import { validateMessage } from '../rest/limits.js';
import type { UploadedFile } from '../rest/request.js';
import type { AttachmentRecord, MessageRecord, MessageSource, World } from '../world.js';

/**
 * Creating, editing and deleting messages, for every way they arise: the bot's REST posts, interaction responses,
 * follow-ups and test users. Each change is checked against Discord's limits, stored, announced to waiters and
 * dispatched on the gateway (ephemeral messages only to waiters: Discord sends no event for them).
 */

export interface Dispatcher {
  dispatch(event: string, data: unknown): void;
}

/** The union of create and edit bodies; `null` on an edit clears the field, as on Discord. */
export interface MessageBody {
  content?: string | null;
  embeds?: APIEmbed[] | null;
  components?: APIMessageTopLevelComponent[] | null;
  allowed_mentions?: APIAllowedMentions | null;
  flags?: number | null;
  attachments?: RESTAPIAttachment[];
  message_reference?: { message_id?: string; channel_id?: string; fail_if_not_exists?: boolean; type?: number };
  tts?: boolean;
  nonce?: string | number;
  /** With a nonce: a second create by the same author with the same nonce within minutes returns the first. */
  enforce_nonce?: boolean;
  sticker_ids?: string[];
  poll?: unknown;
}

export interface CreateMeta {
  source: MessageSource;
  authorId?: string;
  interactionId?: string | null;
  /** A deferred reply's "thinking…" placeholder: exempt from the empty-message check. */
  loading?: boolean;
  /** Only interaction responses and follow-ups may be ephemeral. */
  allowEphemeral?: boolean;
}

/** How long Discord remembers a nonce for `enforce_nonce` ("the past few minutes"). */
const NONCE_KEPT_MS = 5 * 60_000;

// Flags a bot may set on a normal channel message; anything else is ignored, as Discord does.
const CHANNEL_MESSAGE_FLAGS = MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2;

export class MessageService {
  constructor(
    private readonly world: World,
    private readonly gateway: Dispatcher,
    private readonly ctx: MessageContext,
    private readonly maxUploadBytes: number,
  ) {}

  create(channelId: string, body: MessageBody, files: UploadedFile[], meta: CreateMeta): MessageRecord {
    const channel = this.world.channels.get(channelId);
    if (!channel) throw errors.unknownChannel();
    if (typeof body.nonce === 'string' && body.nonce.length > 25) throw errors.invalidField(['nonce'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    const twin = this.sameNonce(channelId, body, meta.authorId ?? this.world.botUser.id);
    if (twin) return twin;
    const allowedFlags = meta.allowEphemeral ? CHANNEL_MESSAGE_FLAGS | MessageFlags.Ephemeral : CHANNEL_MESSAGE_FLAGS;
    const flags = (body.flags ?? 0) & allowedFlags;
    const attachments = this.attachmentsFor([], body.attachments, files);
    const draft = {
      content: body.content ?? '',
      embeds: body.embeds ?? [],
      components: body.components ?? [],
      attachmentCount: attachments.length,
      flags,
      allowedMentions: body.allowed_mentions ?? undefined,
      hasOtherContent: (body.sticker_ids?.length ?? 0) > 0 || body.poll !== undefined,
    };
    if (!meta.loading) {
      const invalid = validateMessage(draft);
      if (invalid) throw invalid;
    }
    const replyTo = this.resolveReference(channelId, body.message_reference);
    const authorId = meta.authorId ?? this.world.botUser.id;
    const mentions = this.resolveMentions(channel.guildId, draft.content, meta.source === 'user' ? undefined : (body.allowed_mentions ?? undefined), replyTo);
    const record: MessageRecord = {
      id: this.world.newId(),
      channelId,
      guildId: channel.guildId,
      authorId,
      source: meta.source,
      content: draft.content,
      embeds: structuredClone(draft.embeds),
      components: structuredClone(draft.components),
      attachments,
      allowedMentions: body.allowed_mentions ? structuredClone(body.allowed_mentions) : undefined,
      mentionedUserIds: mentions.users,
      mentionedRoleIds: mentions.roles,
      mentionEveryone: mentions.everyone,
      replyTo,
      flags,
      loading: meta.loading ?? false,
      interactionId: meta.interactionId ?? null,
      threadId: null,
      reactions: [],
      tts: body.tts ?? false,
      nonce: body.nonce,
      createdAt: this.world.now(),
      editedAt: null,
      editCount: 0,
      deleted: false,
      seq: this.world.nextSeq(),
    };
    this.world.messages.set(record.id, record);
    this.recordFiles(record, record.attachments, meta.source === 'user' ? 'user' : 'bot');
    if (!this.isEphemeral(record)) this.gateway.dispatch(GatewayDispatchEvents.MessageCreate, messageCreateData(this.ctx, record));
    this.world.emit({ kind: 'message-created', message: record });
    return record;
  }

  /**
   * Discord keeps a nonce a few minutes: with `enforce_nonce`, a create that repeats one by the same author
   * returns the message already made and makes none (how a sender that crashed mid-call posts exactly once).
   */
  private sameNonce(channelId: string, body: MessageBody, authorId: string): MessageRecord | undefined {
    if (!body.enforce_nonce || body.nonce === undefined) return undefined;
    const since = this.world.now() - NONCE_KEPT_MS;
    for (const message of this.world.messages.values()) {
      if (message.channelId === channelId && message.authorId === authorId && message.nonce === body.nonce && message.createdAt >= since && !message.deleted) return message;
    }
    return undefined;
  }

  edit(message: MessageRecord, body: MessageBody, files: UploadedFile[]): MessageRecord {
    if (message.deleted) throw errors.unknownMessage();
    const keepEphemeral = message.flags & MessageFlags.Ephemeral;
    const next = {
      content: body.content === undefined ? message.content : (body.content ?? ''),
      embeds: body.embeds === undefined ? message.embeds : (body.embeds ?? []),
      components: body.components === undefined ? message.components : (body.components ?? []),
      flags: body.flags === undefined || body.flags === null ? message.flags : (body.flags & CHANNEL_MESSAGE_FLAGS) | keepEphemeral,
      allowedMentions: body.allowed_mentions === undefined ? message.allowedMentions : (body.allowed_mentions ?? undefined),
    };
    const attachments =
      body.attachments === undefined && files.length === 0 ? message.attachments : this.attachmentsFor(message.attachments, body.attachments, files);
    const invalid = validateMessage({ ...next, attachmentCount: attachments.length });
    if (invalid) throw invalid;
    const added = attachments.filter((a) => !message.attachments.includes(a));
    const replyTo = message.replyTo;
    const mentions = this.resolveMentions(message.guildId, next.content, message.source === 'user' ? undefined : next.allowedMentions, replyTo);
    Object.assign(message, {
      content: next.content,
      embeds: structuredClone(next.embeds),
      components: structuredClone(next.components),
      flags: next.flags,
      allowedMentions: next.allowedMentions ? structuredClone(next.allowedMentions) : undefined,
      attachments,
      mentionedUserIds: mentions.users,
      mentionedRoleIds: mentions.roles,
      mentionEveryone: mentions.everyone,
      // Editing a deferred reply's placeholder is how the user finally sees the answer; it is not an "edit" to them.
      editedAt: message.loading ? null : this.world.now(),
      editCount: message.loading ? message.editCount : message.editCount + 1,
      loading: false,
    });
    this.recordFiles(message, added, 'bot');
    if (!this.isEphemeral(message)) this.gateway.dispatch(GatewayDispatchEvents.MessageUpdate, messageUpdateData(this.ctx, message));
    this.world.emit({ kind: 'message-updated', message });
    return message;
  }

  delete(message: MessageRecord): void {
    if (message.deleted) throw errors.unknownMessage();
    message.deleted = true;
    if (!this.isEphemeral(message)) {
      this.gateway.dispatch(GatewayDispatchEvents.MessageDelete, {
        id: message.id,
        channel_id: message.channelId,
        guild_id: message.guildId,
      } satisfies GatewayMessageDeleteDispatchData);
    }
    this.world.emit({ kind: 'message-deleted', message });
  }

  react(message: MessageRecord, emoji: string, userId: string, add: boolean): void {
    const existing = message.reactions.findIndex((r) => r.emoji === emoji && r.userId === userId);
    if (add && existing !== -1) return;
    if (!add && existing === -1) return;
    if (add) message.reactions.push({ emoji, userId });
    else message.reactions.splice(existing, 1);
    const member = this.world.member(message.guildId, userId);
    const base: GatewayMessageReactionRemoveDispatchData = {
      user_id: userId,
      channel_id: message.channelId,
      message_id: message.id,
      guild_id: message.guildId,
      emoji: parseEmoji(emoji),
      burst: false,
      type: ReactionType.Normal,
    };
    if (add) {
      this.gateway.dispatch(GatewayDispatchEvents.MessageReactionAdd, {
        ...base,
        message_author_id: message.authorId,
        burst_colors: [],
        ...(member ? { member: apiMember(this.world, member) } : {}),
      } satisfies GatewayMessageReactionAddDispatchData);
    } else {
      this.gateway.dispatch(GatewayDispatchEvents.MessageReactionRemove, base);
    }
    this.world.emit({ kind: 'message-updated', message });
  }

  /** Re-announces a message whose derived fields changed (a thread started from it). */
  announceUpdate(message: MessageRecord): void {
    if (!this.isEphemeral(message)) this.gateway.dispatch(GatewayDispatchEvents.MessageUpdate, messageUpdateData(this.ctx, message));
    this.world.emit({ kind: 'message-updated', message });
  }

  private isEphemeral(message: MessageRecord): boolean {
    return (message.flags & MessageFlags.Ephemeral) !== 0;
  }

  /**
   * Existing attachments named in `attachments` are kept; new uploads are matched to their entry by index
   * (`{id: 0, filename}` ↔ `files[0]`). Without an `attachments` list everything uploaded is added.
   */
  private attachmentsFor(current: AttachmentRecord[], listed: RESTAPIAttachment[] | undefined, files: UploadedFile[]): AttachmentRecord[] {
    for (const file of files) if (file.bytes.length > this.maxUploadBytes) throw errors.requestTooLarge();
    const kept = listed === undefined ? current : current.filter((a) => listed.some((l) => String(l.id) === a.id));
    const added = files.map((file, position): AttachmentRecord => {
      const index = file.index ?? position;
      const entry = listed?.find((l) => String(l.id) === String(index));
      return {
        id: this.world.newId(),
        filename: entry?.filename ?? file.filename,
        contentType: file.contentType,
        description: entry?.description,
        bytes: file.bytes,
      };
    });
    return [...kept, ...added];
  }

  private recordFiles(message: MessageRecord, attachments: AttachmentRecord[], uploadedBy: 'bot' | 'user'): void {
    for (const a of attachments) {
      this.world.files.push({
        messageId: message.id,
        channelId: message.channelId,
        attachmentId: a.id,
        filename: a.filename,
        contentType: a.contentType,
        description: a.description,
        bytes: a.bytes,
        size: a.bytes.length,
        uploadedBy,
      });
    }
  }

  private resolveReference(channelId: string, reference: MessageBody['message_reference']): MessageRecord['replyTo'] {
    if (!reference?.message_id) return null;
    const target = this.world.messages.get(reference.message_id);
    if (!target || target.deleted || target.channelId !== (reference.channel_id ?? channelId)) {
      if (reference.fail_if_not_exists === false) return null;
      throw errors.invalidField(['message_reference'], 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
    }
    return { messageId: target.id, channelId: target.channelId };
  }

  /**
   * Who gets pinged. Users always ping what they type; a bot's pings go through allowed_mentions, which is what
   * `allowedMentions: { parse: [] }` is for: an echoed prompt containing `@everyone` must not ping anyone.
   */
  private resolveMentions(
    guildId: string,
    content: string,
    allowed: APIAllowedMentions | undefined,
    replyTo: MessageRecord['replyTo'],
  ): { users: string[]; roles: string[]; everyone: boolean } {
    const users = [...content.matchAll(/<@!?(\d{17,20})>/g)].map((m) => m[1]!).filter((id) => this.world.users.has(id));
    const roles = [...content.matchAll(/<@&(\d{17,20})>/g)].map((m) => m[1]!).filter((id) => this.world.roles.get(id)?.guildId === guildId);
    const everyone = /@(everyone|here)\b/.test(content);
    const repliedAuthor = replyTo ? this.world.messages.get(replyTo.messageId)?.authorId : undefined;
    if (!allowed) {
      return { users: unique([...users, ...(repliedAuthor ? [repliedAuthor] : [])]), roles: unique(roles), everyone };
    }
    const parse: readonly string[] = allowed.parse ?? [];
    const allowedUsers = parse.includes('users') ? users : users.filter((id) => allowed.users?.includes(id));
    const allowedRoles = parse.includes('roles') ? roles : roles.filter((id) => allowed.roles?.includes(id));
    return {
      users: unique([...allowedUsers, ...(repliedAuthor && allowed.replied_user ? [repliedAuthor] : [])]),
      roles: unique(allowedRoles),
      everyone: everyone && parse.includes('everyone'),
    };
  }
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
