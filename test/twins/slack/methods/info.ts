import { conversationsInfoArgs, usersInfoArgs } from '../schemas.js';
import { fail, ok, parseArgs, type MethodHandler } from './context.js';

/** Identity and lookup methods; minimal, but shaped like Slack's so Bolt and adapters can read them. */

export const authTest: MethodHandler = (_args, ctx) => {
  const { bot, team } = ctx.workspace;
  return ok({
    url: `https://${team.domain}.slack.com/`,
    team: team.domain,
    user: bot.name,
    team_id: team.id,
    user_id: bot.userId,
    bot_id: bot.botId,
    is_enterprise_install: false,
  });
};

export const conversationsInfo: MethodHandler = (args, ctx) => {
  const parsed = parseArgs(conversationsInfoArgs, args);
  if (!parsed.ok) return parsed.outcome;
  const channel = ctx.workspace.resolveChannel(parsed.value.channel);
  if (!channel) return fail('channel_not_found');
  return ok({
    channel: {
      id: channel.id,
      name: channel.name,
      is_channel: !channel.isIm && !channel.isPrivate,
      is_group: !channel.isIm && channel.isPrivate,
      is_im: channel.isIm,
      is_private: channel.isPrivate,
      is_member: true,
      is_archived: false,
      ...(channel.imUser !== undefined ? { user: channel.imUser } : {}),
    },
  });
};

export const usersInfo: MethodHandler = (args, ctx) => {
  const parsed = parseArgs(usersInfoArgs, args);
  if (!parsed.ok) return parsed.outcome;
  const user = ctx.workspace.user(parsed.value.user);
  if (!user) return fail('user_not_found');
  return ok({
    user: {
      id: user.id,
      team_id: ctx.workspace.team.id,
      name: user.name,
      real_name: user.realName,
      is_bot: user.isBot,
      deleted: false,
      profile: { display_name: user.name, real_name: user.realName },
    },
  });
};

export const appsConnectionsOpen: MethodHandler = (_args, ctx) => ok({ url: ctx.openSocketUrl() });
