import {
  type APIGatewayBotInfo,
  type APIGatewayInfo,
  type RESTPatchAPIChannelJSONBody,
  type RESTPostAPIChannelMessagesThreadsJSONBody,
  type RESTPostAPIChannelThreadsJSONBody,
} from 'discord-api-types/v10';
import type { CommandRegistry, CommandScope } from '../domain/commands.js';
import type { InteractionService } from '../domain/interactions.js';
import type { MessageBody, MessageService } from '../domain/messages.js';
import type { ThreadService } from '../domain/threads.js';
import { application } from '../payloads/application.js';
import { apiChannel, apiGuild, apiMember, apiRole, apiUser } from '../payloads/entities.js';
import { apiMessage, type MessageContext } from '../payloads/messages.js';
import type { World } from '../world.js';
import type { EditLimit } from './edit-limit.js';
import { errors } from './errors.js';
import { json, noContent, type RouteContext, type RouteDef } from './routing.js';

/** The REST surface discord.js 14 uses for a text bot: gateway discovery, messages, threads, commands, interactions. */

export interface RouteDeps {
  world: World;
  ctx: MessageContext;
  messages: MessageService;
  threads: ThreadService;
  commands: CommandRegistry;
  interactions: InteractionService;
  gatewayUrl: string;
  maxConcurrency: number;
  /** Discord's per-channel edit limit (429 past it). */
  editLimit: EditLimit;
}

export function buildRoutes(deps: RouteDeps): RouteDef[] {
  const { world, ctx, messages, threads, commands, interactions } = deps;

  const channel = (id: string | undefined) => {
    const found = world.channels.get(id ?? '');
    if (!found) throw errors.unknownChannel();
    return found;
  };
  const message = (channelId: string | undefined, messageId: string | undefined) => {
    channel(channelId);
    const found = world.messages.get(messageId ?? '');
    if (!found || found.deleted || found.channelId !== channelId) throw errors.unknownMessage();
    return found;
  };
  const guild = (id: string | undefined) => {
    const found = world.guilds.get(id ?? '');
    if (!found) throw errors.unknownGuild();
    return found;
  };
  const ownApplication = (id: string | undefined) => {
    if (id !== world.applicationId) throw errors.missingAccess();
  };
  const scopeOf = (c: RouteContext): CommandScope => {
    ownApplication(c.params.applicationId);
    if (c.params.guildId === undefined) return 'global';
    guild(c.params.guildId);
    return { guildId: c.params.guildId };
  };
  const bot = (method: RouteDef['method'], pattern: string, handle: RouteDef['handle']): RouteDef => ({ method, pattern, auth: 'bot', handle });
  const open = (method: RouteDef['method'], pattern: string, handle: RouteDef['handle']): RouteDef => ({ method, pattern, auth: 'none', handle });

  return [
    // Gateway discovery: the url discord.js connects to, and the identify budget it throttles by.
    bot('GET', '/gateway/bot', () =>
      json({
        url: deps.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: deps.maxConcurrency },
      } satisfies APIGatewayBotInfo),
    ),
    open('GET', '/gateway', () => json({ url: deps.gatewayUrl } satisfies APIGatewayInfo)),

    bot('GET', '/users/@me', () => json(apiUser(world.botUser))),
    bot('GET', '/users/:userId', (c) => {
      const user = world.users.get(c.params.userId!);
      if (!user) throw errors.unknownUser();
      return json(apiUser(user));
    }),
    bot('GET', '/applications/@me', () => json(application(world))),
    bot('GET', '/oauth2/applications/@me', () => json(application(world))),

    bot('GET', '/guilds/:guildId', (c) => json(apiGuild(world, guild(c.params.guildId)))),
    bot('GET', '/guilds/:guildId/channels', (c) => {
      guild(c.params.guildId);
      return json([...world.channels.values()].filter((ch) => ch.guildId === c.params.guildId && ch.kind === 'text').map((ch) => apiChannel(world, ch)));
    }),
    bot('GET', '/guilds/:guildId/roles', (c) => {
      guild(c.params.guildId);
      return json([...world.roles.values()].filter((r) => r.guildId === c.params.guildId).map(apiRole));
    }),
    bot('GET', '/guilds/:guildId/members/:userId', (c) => {
      guild(c.params.guildId);
      const member = world.member(c.params.guildId!, c.params.userId!);
      if (!member) throw errors.unknownMember();
      return json(apiMember(world, member));
    }),

    bot('GET', '/channels/:channelId', (c) => json(apiChannel(world, channel(c.params.channelId)))),
    bot('PATCH', '/channels/:channelId', (c) => {
      const body = (c.body ?? {}) as RESTPatchAPIChannelJSONBody;
      const patch = {
        ...(typeof body.name === 'string' ? { name: body.name } : {}),
        ...('archived' in body && typeof body.archived === 'boolean' ? { archived: body.archived } : {}),
        ...('locked' in body && typeof body.locked === 'boolean' ? { locked: body.locked } : {}),
        ...('topic' in body && body.topic !== undefined ? { topic: body.topic } : {}),
      };
      return json(apiChannel(world, threads.update(channel(c.params.channelId), patch)));
    }),
    bot('POST', '/channels/:channelId/typing', (c) => {
      channel(c.params.channelId);
      return noContent();
    }),

    bot('GET', '/channels/:channelId/messages', (c) => {
      channel(c.params.channelId);
      const limit = Math.min(Number(c.query.get('limit') ?? 50), 100);
      const before = c.query.get('before');
      const after = c.query.get('after');
      // Newest first, as Discord lists them; snowflakes of one twin sort by creation.
      const list = world
        .channelMessages(c.params.channelId!)
        .filter((m) => (!before || BigInt(m.id) < BigInt(before)) && (!after || BigInt(m.id) > BigInt(after)))
        .reverse()
        .slice(0, limit);
      return json(list.map((m) => apiMessage(ctx, m)));
    }),
    bot('POST', '/channels/:channelId/messages', (c) => {
      channel(c.params.channelId);
      const created = messages.create(c.params.channelId!, (c.body ?? {}) as MessageBody, c.files, { source: 'bot' });
      return json(apiMessage(ctx, created));
    }),
    bot('GET', '/channels/:channelId/messages/:messageId', (c) => json(apiMessage(ctx, message(c.params.channelId, c.params.messageId)))),
    bot('PATCH', '/channels/:channelId/messages/:messageId', (c) => {
      const found = message(c.params.channelId, c.params.messageId);
      if (found.authorId !== world.botUser.id) throw errors.cannotEditOthersMessage();
      const limited = deps.editLimit.take(c.params.channelId!);
      if (limited.rejected) return limited.rejected;
      return { ...json(apiMessage(ctx, messages.edit(found, (c.body ?? {}) as MessageBody, c.files))), headers: limited.headers };
    }),
    bot('DELETE', '/channels/:channelId/messages/:messageId', (c) => {
      messages.delete(message(c.params.channelId, c.params.messageId));
      return noContent();
    }),
    bot('PUT', '/channels/:channelId/messages/:messageId/reactions/:emoji/@me', (c) => {
      messages.react(message(c.params.channelId, c.params.messageId), c.params.emoji!, world.botUser.id, true);
      return noContent();
    }),
    bot('DELETE', '/channels/:channelId/messages/:messageId/reactions/:emoji/@me', (c) => {
      messages.react(message(c.params.channelId, c.params.messageId), c.params.emoji!, world.botUser.id, false);
      return noContent();
    }),

    bot('POST', '/channels/:channelId/threads', (c) => {
      const body = (c.body ?? {}) as RESTPostAPIChannelThreadsJSONBody;
      const thread = threads.create(c.params.channelId!, {
        name: body.name,
        ...(body.type !== undefined ? { type: body.type } : {}),
        ...(body.auto_archive_duration !== undefined ? { autoArchiveMinutes: body.auto_archive_duration } : {}),
        creatorId: world.botUser.id,
      });
      return json(apiChannel(world, thread), 201);
    }),
    bot('POST', '/channels/:channelId/messages/:messageId/threads', (c) => {
      message(c.params.channelId, c.params.messageId);
      const body = (c.body ?? {}) as RESTPostAPIChannelMessagesThreadsJSONBody;
      const thread = threads.create(c.params.channelId!, {
        name: body.name,
        fromMessageId: c.params.messageId!,
        ...(body.auto_archive_duration !== undefined ? { autoArchiveMinutes: body.auto_archive_duration } : {}),
        creatorId: world.botUser.id,
      });
      return json(apiChannel(world, thread), 201);
    }),
    bot('PUT', '/channels/:channelId/thread-members/:userId', (c) => {
      channel(c.params.channelId);
      return noContent();
    }),

    ...(['/applications/:applicationId/commands', '/applications/:applicationId/guilds/:guildId/commands'] as const).flatMap((base) => [
      bot('GET', base, (c) => json(commands.list(scopeOf(c)))),
      bot('PUT', base, (c) => json(commands.overwrite(scopeOf(c), c.body))),
      bot('POST', base, (c) => {
        const { command, created } = commands.upsert(scopeOf(c), c.body);
        return json(command, created ? 201 : 200);
      }),
      bot('GET', `${base}/:commandId`, (c) => {
        const found = commands.list(scopeOf(c)).find((cmd) => cmd.id === c.params.commandId);
        if (!found) throw errors.unknownApplicationCommand();
        return json(found);
      }),
      bot('DELETE', `${base}/:commandId`, (c) => {
        commands.remove(scopeOf(c), c.params.commandId!);
        return noContent();
      }),
    ]),

    open('POST', '/interactions/:interactionId/:token/callback', (c) =>
      interactions.callback(c.params.interactionId!, c.params.token!, c.body, c.files, c.query.get('with_response') === 'true'),
    ),
    open('POST', '/webhooks/:applicationId/:token', (c) =>
      interactions.followUp(c.params.applicationId!, c.params.token!, c.body, c.files, c.query.get('wait') === 'true'),
    ),
    open('GET', '/webhooks/:applicationId/:token/messages/:messageId', (c) =>
      interactions.getMessage(c.params.applicationId!, c.params.token!, c.params.messageId!),
    ),
    open('PATCH', '/webhooks/:applicationId/:token/messages/:messageId', (c) =>
      interactions.editMessage(c.params.applicationId!, c.params.token!, c.params.messageId!, c.body, c.files),
    ),
    open('DELETE', '/webhooks/:applicationId/:token/messages/:messageId', (c) =>
      interactions.deleteMessage(c.params.applicationId!, c.params.token!, c.params.messageId!),
    ),
  ];
}
