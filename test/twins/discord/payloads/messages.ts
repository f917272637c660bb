import {
  ApplicationIntegrationType,
  ChannelType,
  InteractionType,
  MessageFlags,
  MessageReferenceType,
  MessageType,
  type APIAttachment,
  type APIMessage,
  type APIMessageInteractionMetadata,
  type APIReaction,
  type GatewayMessageCreateDispatchData,
  type GatewayMessageEventExtraFields,
  type GatewayMessageUpdateDispatchData,
} from 'discord-api-types/v10';
import type { MessageRecord, World } from '../world.js';
import { apiChannel, apiMemberNoUser, apiUser, isoTimestamp } from './entities.js';

export interface MessageContext {
  world: World;
  /** `http://127.0.0.1:PORT`: attachment URLs point back at the twin, which serves the bytes. */
  baseUrl: string;
}

export function attachmentUrl(baseUrl: string, channelId: string, attachmentId: string, filename: string): string {
  return `${baseUrl}/attachments/${channelId}/${attachmentId}/${encodeURIComponent(filename)}`;
}

export function apiMessage(ctx: MessageContext, message: MessageRecord, depth = 0): APIMessage {
  const { world } = ctx;
  const author = world.users.get(message.authorId);
  if (!author) throw new Error(`Discord twin: message ${message.id} has unknown author ${message.authorId}`);
  const interaction = message.interactionId ? world.interactions.get(message.interactionId) : undefined;
  const replied = message.replyTo ? world.messages.get(message.replyTo.messageId) : undefined;
  const thread = message.threadId ? world.channels.get(message.threadId) : undefined;
  const flags =
    message.flags | (message.loading ? MessageFlags.Loading : 0) | (thread ? MessageFlags.HasThread : 0);
  const byApp = message.source === 'interaction-response' || message.source === 'follow-up';
  return {
    id: message.id,
    channel_id: message.channelId,
    author: apiUser(author),
    content: message.content,
    timestamp: isoTimestamp(message.createdAt),
    edited_timestamp: message.editedAt === null ? null : isoTimestamp(message.editedAt),
    tts: message.tts,
    mention_everyone: message.mentionEveryone,
    mentions: message.mentionedUserIds.flatMap((id) => {
      const user = world.users.get(id);
      return user ? [apiUser(user)] : [];
    }),
    mention_roles: [...message.mentionedRoleIds],
    attachments: message.attachments.map(
      (a): APIAttachment => ({
        id: a.id,
        filename: a.filename,
        size: a.bytes.length,
        url: attachmentUrl(ctx.baseUrl, message.channelId, a.id, a.filename),
        proxy_url: attachmentUrl(ctx.baseUrl, message.channelId, a.id, a.filename),
        ...(a.contentType ? { content_type: a.contentType } : {}),
        ...(a.description ? { description: a.description } : {}),
      }),
    ),
    embeds: structuredClone(message.embeds),
    components: structuredClone(message.components),
    reactions: apiReactions(world, message),
    pinned: false,
    type: messageType(message, interaction?.kind),
    flags: flags as MessageFlags,
    ...(message.nonce !== undefined ? { nonce: message.nonce } : {}),
    ...(byApp ? { webhook_id: world.applicationId, application_id: world.applicationId } : {}),
    ...(message.replyTo
      ? {
          message_reference: {
            type: MessageReferenceType.Default,
            message_id: message.replyTo.messageId,
            channel_id: message.replyTo.channelId,
            guild_id: message.guildId,
          },
          // One level deep, as Discord does; the referenced message carries no reference of its own.
          referenced_message: replied && !replied.deleted && depth === 0 ? apiMessage(ctx, replied, depth + 1) : null,
        }
      : {}),
    ...(interaction && byApp ? interactionFields(world, interaction) : {}),
    ...(thread ? { thread: apiChannel(world, thread) } : {}),
  };
}

function messageType(message: MessageRecord, interactionKind: string | undefined): MessageType {
  if (message.source === 'interaction-response' || message.source === 'follow-up') {
    return interactionKind === 'command' ? MessageType.ChatInputCommand : MessageType.Default;
  }
  return message.replyTo ? MessageType.Reply : MessageType.Default;
}

function interactionFields(
  world: World,
  interaction: NonNullable<ReturnType<World['interactions']['get']>>,
): Pick<APIMessage, 'interaction_metadata' | 'interaction'> {
  const user = apiUser(world.users.get(interaction.userId)!);
  // discord.js reads authorizing_integration_owners unguarded; leaving it out crashes MESSAGE_CREATE handling.
  const owners = { [ApplicationIntegrationType.GuildInstall]: interaction.guildId };
  const metadata: APIMessageInteractionMetadata =
    interaction.kind === 'component'
      ? {
          id: interaction.id,
          type: InteractionType.MessageComponent,
          user,
          authorizing_integration_owners: owners,
          interacted_message_id: interaction.sourceMessageId ?? interaction.id,
        }
      : {
          id: interaction.id,
          type: InteractionType.ApplicationCommand,
          user,
          authorizing_integration_owners: owners,
        };
  return {
    interaction_metadata: metadata,
    interaction: {
      id: interaction.id,
      type: interaction.kind === 'component' ? InteractionType.MessageComponent : InteractionType.ApplicationCommand,
      name: interaction.commandName ?? interaction.customId ?? '',
      user,
    },
  };
}

function apiReactions(world: World, message: MessageRecord): APIReaction[] {
  const byEmoji = new Map<string, string[]>();
  for (const r of message.reactions) byEmoji.set(r.emoji, [...(byEmoji.get(r.emoji) ?? []), r.userId]);
  return [...byEmoji].map(([emoji, users]) => ({
    count: users.length,
    count_details: { burst: 0, normal: users.length },
    me: users.includes(world.botUser.id),
    me_burst: false,
    emoji: parseEmoji(emoji),
    burst_colors: [],
  }));
}

/** `name:id` for custom emoji (as the REST path carries them), a bare unicode string otherwise. */
export function parseEmoji(emoji: string): { id: string | null; name: string } {
  const custom = /^<?a?:?([\w~]+):(\d+)>?$/.exec(emoji);
  return custom ? { name: custom[1]!, id: custom[2]! } : { id: null, name: emoji };
}

/** MESSAGE_CREATE adds guild_id, the author's member and members of mentioned users. */
export function messageCreateData(ctx: MessageContext, message: MessageRecord): GatewayMessageCreateDispatchData {
  return { ...apiMessage(ctx, message), ...gatewayExtras(ctx, message) };
}

export function messageUpdateData(ctx: MessageContext, message: MessageRecord): GatewayMessageUpdateDispatchData {
  return { ...apiMessage(ctx, message), ...gatewayExtras(ctx, message) };
}

function gatewayExtras(ctx: MessageContext, message: MessageRecord): GatewayMessageEventExtraFields {
  const { world } = ctx;
  const member = world.member(message.guildId, message.authorId);
  const channel = world.channels.get(message.channelId);
  return {
    guild_id: message.guildId,
    ...(member && message.source !== 'follow-up' && message.source !== 'interaction-response'
      ? { member: apiMemberNoUser(world, member) }
      : {}),
    channel_type:
      channel?.kind === 'private-thread'
        ? ChannelType.PrivateThread
        : channel?.kind === 'public-thread'
          ? ChannelType.PublicThread
          : ChannelType.GuildText,
    mentions: message.mentionedUserIds.flatMap((id) => {
      const user = world.users.get(id);
      if (!user) return [];
      const mentioned = world.member(message.guildId, id);
      return [{ ...apiUser(user), ...(mentioned ? { member: apiMemberNoUser(world, mentioned) } : {}) }];
    }),
  };
}
