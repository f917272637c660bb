import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
  ComponentType,
  InteractionContextType,
  InteractionType,
  Locale,
  type APIApplicationCommandAutocompleteGuildInteraction,
  type APIApplicationCommandInteractionDataOption,
  type APIChatInputApplicationCommandGuildInteraction,
  type APIInteractionDataResolved,
  type APIMessageComponentGuildInteraction,
  type APIMessageComponentInteractionData,
} from 'discord-api-types/v10';
import type { BuiltOptions } from '../slash-options.js';
import type { InteractionRecord, World } from '../world.js';
import { apiChannel, apiInteractionMember, apiMemberNoUser, apiRole, apiUser, memberPermissions } from './entities.js';
import { apiMessage, attachmentUrl, type MessageContext } from './messages.js';

/** Fields every guild interaction carries; discord.js reads most of them while constructing the interaction. */
function base(ctx: MessageContext, record: InteractionRecord) {
  const { world } = ctx;
  const member = world.member(record.guildId, record.userId);
  const botMember = world.member(record.guildId, world.botUser.id);
  const channel = world.channelOrThrow(record.channelId);
  if (!member || !botMember) throw new Error(`Discord twin: interaction ${record.id} from a non-member`);
  return {
    id: record.id,
    application_id: world.applicationId,
    token: record.token,
    version: 1 as const,
    guild_id: record.guildId,
    guild: { id: record.guildId, features: [], locale: Locale.EnglishUS },
    channel: apiChannel(world, channel),
    channel_id: record.channelId,
    member: apiInteractionMember(world, member),
    app_permissions: memberPermissions(world, botMember),
    locale: Locale.EnglishUS,
    guild_locale: Locale.EnglishUS,
    entitlements: [],
    authorizing_integration_owners: { [ApplicationIntegrationType.GuildInstall]: record.guildId },
    context: InteractionContextType.Guild,
    attachment_size_limit: 10 * 1024 * 1024,
  };
}

/** `data.resolved` for user/role/channel options, as discord.js's getUser()/getRole()/getChannel() read it. */
function resolved(world: World, guildId: string, refs: BuiltOptions<InteractionType>['referenced'], baseUrl: string): APIInteractionDataResolved | undefined {
  if (refs.users.length + refs.roles.length + refs.channels.length + refs.attachments.length === 0) return undefined;
  const out: APIInteractionDataResolved = {};
  for (const id of refs.attachments) {
    const file = world.files.find((f) => f.attachmentId === id);
    if (!file) continue;
    const url = attachmentUrl(baseUrl, file.channelId, id, file.filename);
    (out.attachments ??= {})[id] = {
      id,
      filename: file.filename,
      size: file.size,
      url,
      proxy_url: url,
      ephemeral: true,
      ...(file.contentType ? { content_type: file.contentType } : {}),
    };
  }
  for (const id of refs.users) {
    const user = world.users.get(id);
    if (!user) continue;
    (out.users ??= {})[id] = apiUser(user);
    const member = world.member(guildId, id);
    if (member) (out.members ??= {})[id] = { ...apiMemberNoUser(world, member), permissions: memberPermissions(world, member) };
  }
  for (const id of refs.roles) {
    const role = world.roles.get(id);
    if (role) (out.roles ??= {})[id] = apiRole(role);
    // Mentionable options put role ids with the users; resolve whichever exists.
  }
  for (const id of refs.channels) {
    const channel = world.channels.get(id);
    if (!channel) continue;
    const api = apiChannel(world, channel);
    const permissions = memberPermissions(world, world.member(guildId, world.botUser.id)!);
    (out.channels ??= {})[id] =
      api.type === ChannelType.GuildText
        ? { id, type: api.type, name: api.name, permissions }
        : { id, type: api.type, name: api.name, permissions, parent_id: api.parent_id, thread_metadata: api.thread_metadata };
  }
  return out;
}

export function chatInputInteraction(
  ctx: MessageContext,
  record: InteractionRecord,
  built: BuiltOptions<InteractionType.ApplicationCommand>,
): APIChatInputApplicationCommandGuildInteraction {
  const res = resolved(ctx.world, record.guildId, built.referenced, ctx.baseUrl);
  return {
    ...base(ctx, record),
    type: InteractionType.ApplicationCommand,
    data: {
      id: record.commandId!,
      type: ApplicationCommandType.ChatInput,
      name: record.commandName!,
      ...(built.options.length > 0 ? { options: built.options } : {}),
      ...(res ? { resolved: res } : {}),
      guild_id: record.guildId,
    },
  };
}

export function autocompleteInteraction(
  ctx: MessageContext,
  record: InteractionRecord,
  built: BuiltOptions<InteractionType.ApplicationCommandAutocomplete>,
): APIApplicationCommandAutocompleteGuildInteraction {
  return {
    ...base(ctx, record),
    type: InteractionType.ApplicationCommandAutocomplete,
    data: {
      id: record.commandId!,
      type: ApplicationCommandType.ChatInput,
      name: record.commandName!,
      options: built.options as APIApplicationCommandInteractionDataOption<InteractionType.ApplicationCommandAutocomplete>[],
      guild_id: record.guildId,
    },
  };
}

export function componentInteraction(
  ctx: MessageContext,
  record: InteractionRecord,
  data: { componentType: ComponentType.Button } | { componentType: ComponentType.StringSelect; values: string[] },
): APIMessageComponentGuildInteraction {
  const message = ctx.world.messages.get(record.sourceMessageId!);
  if (!message) throw new Error(`Discord twin: component interaction ${record.id} on unknown message`);
  const componentData: APIMessageComponentInteractionData =
    data.componentType === ComponentType.Button
      ? { custom_id: record.customId!, component_type: ComponentType.Button }
      : { custom_id: record.customId!, component_type: ComponentType.StringSelect, values: data.values };
  const b = base(ctx, record);
  return {
    ...b,
    type: InteractionType.MessageComponent,
    data: componentData,
    message: apiMessage(ctx, message),
  };
}
