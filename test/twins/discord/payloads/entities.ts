import {
  ChannelType,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMemberFlags,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  RoleFlags,
  ThreadMemberFlags,
  type APIGuild,
  type APIGuildMember,
  type APIInteractionGuildMember,
  type APIRole,
  type APITextChannel,
  type APIThreadChannel,
  type APIUser,
  type GatewayGuildCreateDispatchData,
} from 'discord-api-types/v10';
import type { ChannelRecord, GuildRecord, MemberRecord, RoleRecord, UserRecord, World } from '../world.js';

/**
 * Records → discord-api-types shapes. Every builder is annotated with its API type so tsc reports a field that
 * discord.js would otherwise trip over at runtime (it reads many "optional in practice" fields unguarded).
 */

/** Discord's flag enums have no member for "none", but 0 is what it sends; the cast lives here only. */
export function noFlags<T extends number>(): T {
  return 0 as T;
}

/** Discord sends `+00:00`, not `Z`; some clients parse only that form. */
export function isoTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

export function apiUser(user: UserRecord): APIUser {
  return {
    id: user.id,
    username: user.username,
    discriminator: '0',
    global_name: user.globalName,
    avatar: null,
    ...(user.bot ? { bot: true } : {}),
    public_flags: noFlags(),
  };
}

export function apiRole(role: RoleRecord): APIRole {
  return {
    id: role.id,
    name: role.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: role.position,
    permissions: role.permissions,
    managed: role.managed,
    mentionable: false,
    flags: noFlags<RoleFlags>(),
    ...(role.managed ? { tags: { bot_id: role.id } } : {}),
  };
}

export function apiMember(world: World, member: MemberRecord): APIGuildMember {
  const user = world.users.get(member.userId);
  if (!user) throw new Error(`Discord twin: member ${member.userId} has no user record`);
  return {
    user: apiUser(user),
    nick: member.nick,
    avatar: null,
    banner: null,
    roles: [...member.roles],
    joined_at: isoTimestamp(member.joinedAt),
    premium_since: null,
    deaf: false,
    mute: false,
    flags: noFlags<GuildMemberFlags>(),
    pending: false,
    communication_disabled_until: null,
  };
}

/** The member without `user`, as MESSAGE_CREATE carries it next to `author`. */
export function apiMemberNoUser(world: World, member: MemberRecord): Omit<APIGuildMember, 'user'> {
  const { user: _user, ...rest } = apiMember(world, member);
  return rest;
}

/** Members in interactions carry their computed channel permissions; roles are OR-ed, owners get everything. */
export function apiInteractionMember(world: World, member: MemberRecord): APIInteractionGuildMember {
  const base = apiMember(world, member);
  return { ...base, user: base.user!, permissions: memberPermissions(world, member) };
}

export function memberPermissions(world: World, member: MemberRecord): string {
  const guild = world.guilds.get(member.guildId);
  if (guild?.ownerId === member.userId) return ALL_PERMISSIONS;
  let bits = BigInt(world.roles.get(member.guildId)?.permissions ?? '0');
  for (const roleId of member.roles) bits |= BigInt(world.roles.get(roleId)?.permissions ?? '0');
  return (bits & ADMINISTRATOR) !== 0n ? ALL_PERMISSIONS : bits.toString();
}

const ADMINISTRATOR = 1n << 3n;
const ALL_PERMISSIONS = ((1n << 53n) - 1n).toString();

export function apiTextChannel(channel: ChannelRecord, position: number): APITextChannel {
  return {
    id: channel.id,
    type: ChannelType.GuildText,
    guild_id: channel.guildId,
    name: channel.name,
    position,
    parent_id: null,
    topic: channel.topic,
    nsfw: false,
    permission_overwrites: [],
    rate_limit_per_user: 0,
    last_message_id: null,
    flags: noFlags(),
  };
}

export function apiThreadChannel(world: World, channel: ChannelRecord): APIThreadChannel {
  const messages = world.channelMessages(channel.id);
  return {
    id: channel.id,
    type: channel.kind === 'private-thread' ? ChannelType.PrivateThread : ChannelType.PublicThread,
    guild_id: channel.guildId,
    name: channel.name,
    parent_id: channel.parentId ?? undefined,
    owner_id: channel.ownerId ?? world.botUser.id,
    last_message_id: messages.at(-1)?.id ?? null,
    rate_limit_per_user: 0,
    message_count: messages.length,
    total_message_sent: messages.length,
    member_count: 1,
    flags: noFlags(),
    thread_metadata: {
      archived: channel.archived,
      auto_archive_duration: channel.autoArchiveMinutes,
      archive_timestamp: isoTimestamp(channel.createdAt),
      locked: channel.locked,
      create_timestamp: isoTimestamp(channel.createdAt),
      ...(channel.kind === 'private-thread' ? { invitable: true } : {}),
    },
    // The bot created or was added to every thread the twin knows; discord.js uses this to mark `joined`.
    member: { id: channel.id, user_id: world.botUser.id, join_timestamp: isoTimestamp(channel.createdAt), flags: noFlags<ThreadMemberFlags>() },
  };
}

export function apiChannel(world: World, channel: ChannelRecord): APITextChannel | APIThreadChannel {
  if (channel.kind === 'text') {
    const siblings = [...world.channels.values()].filter((c) => c.guildId === channel.guildId && c.kind === 'text');
    return apiTextChannel(channel, siblings.indexOf(channel));
  }
  return apiThreadChannel(world, channel);
}

export function apiGuild(world: World, guild: GuildRecord): APIGuild {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: guild.ownerId,
    region: 'deprecated',
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: GuildVerificationLevel.None,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.Disabled,
    roles: [...world.roles.values()].filter((r) => r.guildId === guild.id).map(apiRole),
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: GuildMFALevel.None,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: noFlags<GuildSystemChannelFlags>(),
    rules_channel_id: null,
    vanity_url_code: null,
    premium_tier: GuildPremiumTier.None,
    premium_subscription_count: 0,
    preferred_locale: Locale.EnglishUS,
    public_updates_channel_id: null,
    nsfw_level: GuildNSFWLevel.Default,
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
    max_members: 500_000,
    max_video_channel_users: 25,
  };
}

export function guildCreatePayload(world: World, guild: GuildRecord): GatewayGuildCreateDispatchData {
  const channels = [...world.channels.values()].filter((c) => c.guildId === guild.id);
  const members = [...world.members.values()].filter((m) => m.guildId === guild.id);
  const textChannels = channels.filter((c) => c.kind === 'text');
  return {
    ...apiGuild(world, guild),
    joined_at: isoTimestamp(world.member(guild.id, world.botUser.id)?.joinedAt ?? guild.createdAt),
    large: false,
    unavailable: false,
    member_count: members.length,
    voice_states: [],
    members: members.map((m) => apiMember(world, m)),
    channels: textChannels.map((c, index) => apiTextChannel(c, index)),
    // Only active threads arrive here, as on Discord.
    threads: channels.filter((c) => c.kind !== 'text' && !c.archived).map((c) => apiThreadChannel(world, c)),
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}
