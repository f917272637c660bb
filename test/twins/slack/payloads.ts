import type { ChannelInfo, UserInfo, Workspace } from './workspace.js';
import type { Block } from './types.js';

/**
 * The bodies Slack sends to an app, field for field. Slash commands are a flat string map (form fields over HTTP,
 * the same object as a Socket Mode payload); block_actions and events are JSON objects.
 */

/** Slack still sends the deprecated verification token; Bolt ignores it. */
const VERIFICATION_TOKEN = 'twin-verification-token';

export interface SlashCommandInput {
  readonly command: string;
  readonly text: string;
  readonly user: UserInfo;
  readonly channel: ChannelInfo;
  readonly responseUrl: string;
  readonly triggerId: string;
}

export function slashCommandPayload(workspace: Workspace, input: SlashCommandInput): Record<string, string> {
  return {
    token: VERIFICATION_TOKEN,
    team_id: workspace.team.id,
    team_domain: workspace.team.domain,
    channel_id: input.channel.id,
    channel_name: input.channel.isIm ? 'directmessage' : input.channel.name,
    user_id: input.user.id,
    user_name: input.user.name,
    command: input.command,
    text: input.text,
    api_app_id: workspace.bot.appId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId,
  };
}

export interface ButtonClickInput {
  readonly user: UserInfo;
  readonly channel: ChannelInfo;
  readonly message: {
    readonly ts: string;
    readonly threadTs: string | undefined;
    readonly text: string;
    readonly user: string;
    readonly blocks: readonly Block[] | undefined;
  };
  readonly isEphemeral: boolean;
  readonly action: {
    readonly actionId: string;
    readonly blockId: string;
    readonly value: string | undefined;
    readonly label: string;
    readonly style: string | undefined;
  };
  readonly responseUrl: string;
  readonly triggerId: string;
  readonly actionTs: string;
}

export function blockActionsPayload(workspace: Workspace, input: ButtonClickInput): Record<string, unknown> {
  const { team, bot } = workspace;
  const { message } = input;
  const fromBot = message.user === bot.userId;
  return {
    type: 'block_actions',
    user: { id: input.user.id, username: input.user.name, name: input.user.name, team_id: team.id },
    api_app_id: bot.appId,
    token: VERIFICATION_TOKEN,
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: input.channel.id,
      is_ephemeral: input.isEphemeral,
      ...(message.threadTs !== undefined ? { thread_ts: message.threadTs } : {}),
    },
    trigger_id: input.triggerId,
    team: { id: team.id, domain: team.domain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel.id, name: input.channel.name },
    // Slack omits the message for ephemeral containers.
    ...(input.isEphemeral
      ? {}
      : {
          message: {
            type: 'message',
            user: message.user,
            ...(fromBot ? { bot_id: bot.botId, app_id: bot.appId } : {}),
            text: message.text,
            ts: message.ts,
            team: team.id,
            ...(message.threadTs !== undefined ? { thread_ts: message.threadTs } : {}),
            ...(message.blocks !== undefined ? { blocks: message.blocks } : {}),
          },
        }),
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: input.action.actionId,
        block_id: input.action.blockId,
        text: { type: 'plain_text', text: input.action.label, emoji: true },
        ...(input.action.value !== undefined ? { value: input.action.value } : {}),
        ...(input.action.style !== undefined ? { style: input.action.style } : {}),
        action_ts: input.actionTs,
      },
    ],
  };
}

export interface MessageEventInput {
  readonly type: 'message' | 'app_mention';
  readonly user: UserInfo;
  readonly channel: ChannelInfo;
  readonly text: string;
  readonly ts: string;
  readonly threadTs: string | undefined;
  readonly eventId: string;
  readonly eventTime: number;
  /** Files shared with the message (`files`, and subtype `file_share` on the message event, as Slack sends them). */
  readonly files?: readonly Record<string, unknown>[];
}

/** An Events API `event_callback`, with the `authorizations` Bolt uses to work out the bot's identity. */
export function eventCallbackPayload(workspace: Workspace, input: MessageEventInput): Record<string, unknown> {
  const { team, bot } = workspace;
  return {
    token: VERIFICATION_TOKEN,
    team_id: team.id,
    api_app_id: bot.appId,
    event: {
      type: input.type,
      user: input.user.id,
      text: input.text,
      ts: input.ts,
      channel: input.channel.id,
      event_ts: input.ts,
      team: team.id,
      ...(input.type === 'message' ? { channel_type: channelType(input.channel) } : {}),
      ...(input.threadTs !== undefined ? { thread_ts: input.threadTs } : {}),
      ...(input.files?.length ? { files: input.files, upload: false, display_as_bot: false, ...(input.type === 'message' ? { subtype: 'file_share' } : {}) } : {}),
    },
    type: 'event_callback',
    event_id: input.eventId,
    event_time: input.eventTime,
    authorizations: [
      { enterprise_id: null, team_id: team.id, user_id: bot.userId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
}

function channelType(channel: ChannelInfo): string {
  if (channel.isIm) return 'im';
  return channel.isPrivate ? 'group' : 'channel';
}
