import { GuildMember, type APIInteractionGuildMember, type Channel, type User } from 'discord.js';
import type { Actor, Origin } from '../../src/core/origin.js';

export const ADAPTER = 'discord';

/**
 * Who is speaking: `discord:<userId>`, with the member's roles as `discord-role:<roleId>` groups so the core's
 * access rules (DISCORD_ALLOWED_ROLES) can match them. The name is for display only.
 */
export function actorOf(user: User, member: GuildMember | APIInteractionGuildMember | null | undefined): Actor {
  const roles =
    member instanceof GuildMember
      ? // The cache adds @everyone (whose id is the guild's); Discord's own member.roles leaves it out, so do we.
        [...member.roles.cache.keys()].filter((id) => id !== member.guild.id)
      : (member?.roles ?? []);
  const name = member instanceof GuildMember ? member.displayName : (member?.nick ?? user.globalName ?? user.username);
  return { id: `${ADAPTER}:${user.id}`, name, groups: roles.map((id) => `discord-role:${id}`) };
}

/**
 * Where a command was typed. In a thread, the channel is the thread's parent (channel allow-lists name
 * channels, not threads) and the thread comes along, so answers land where the person is.
 */
export function placeOf(channel: Channel | null, channelId: string): Pick<Origin, 'channel' | 'thread'> {
  if (channel?.isThread() && channel.parentId) return { channel: channel.parentId, thread: channel.id };
  return { channel: channel?.id ?? channelId };
}
