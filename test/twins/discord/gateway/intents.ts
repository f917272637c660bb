import { GatewayDispatchEvents, GatewayIntentBits } from 'discord-api-types/v10';

/**
 * What a session receives depends on the intents it identified with, as on Discord. Forgetting GuildMessages
 * means no MESSAGE_CREATE at all; forgetting the privileged MessageContent means guild messages arrive with empty
 * content unless they mention the bot. Both mistakes then show up in CI rather than in production.
 */

const REQUIRED_INTENT: Partial<Record<string, number>> = {
  [GatewayDispatchEvents.GuildCreate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildUpdate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.ChannelCreate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.ChannelUpdate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.ThreadCreate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.ThreadUpdate]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.ThreadDelete]: GatewayIntentBits.Guilds,
  [GatewayDispatchEvents.GuildMemberAdd]: GatewayIntentBits.GuildMembers,
  [GatewayDispatchEvents.GuildMemberUpdate]: GatewayIntentBits.GuildMembers,
  [GatewayDispatchEvents.MessageCreate]: GatewayIntentBits.GuildMessages,
  [GatewayDispatchEvents.MessageUpdate]: GatewayIntentBits.GuildMessages,
  [GatewayDispatchEvents.MessageDelete]: GatewayIntentBits.GuildMessages,
  [GatewayDispatchEvents.MessageReactionAdd]: GatewayIntentBits.GuildMessageReactions,
  [GatewayDispatchEvents.MessageReactionRemove]: GatewayIntentBits.GuildMessageReactions,
  [GatewayDispatchEvents.TypingStart]: GatewayIntentBits.GuildMessageTyping,
};

interface MessageLike {
  author?: { id?: string };
  mentions?: Array<{ id?: string }>;
  content?: string;
}

/** The payload as this session may see it, or null when its intents exclude the event. */
export function filterForIntents(event: string, data: unknown, intents: number, botUserId: string): unknown | null {
  const required = REQUIRED_INTENT[event];
  if (required !== undefined && (intents & required) === 0) return null;
  if (event !== GatewayDispatchEvents.MessageCreate && event !== GatewayDispatchEvents.MessageUpdate) return data;
  if ((intents & GatewayIntentBits.MessageContent) !== 0) return data;
  const message = data as MessageLike;
  const ownMessage = message.author?.id === botUserId;
  const mentionsBot = (message.mentions ?? []).some((u) => u.id === botUserId);
  if (ownMessage || mentionsBot) return data;
  return { ...(data as object), content: '', embeds: [], attachments: [], components: [], poll: undefined };
}

/** `Guilds | GuildMessages | MessageContent` style names, for readable assertions and logs. */
export function intentNames(intents: number): string[] {
  return Object.entries(GatewayIntentBits)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && (intents & entry[1]) !== 0)
    .map(([name]) => name);
}
