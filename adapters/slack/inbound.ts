import type { App, BlockAction, ButtonAction, types as slackTypes } from '@slack/bolt';
import { inboundFile, type InboundFile } from '../../src/files/index.js';
import type { Logger } from '../../src/core/logger.js';
import type { Actor, Origin } from '../../src/core/origin.js';
import type { Reply } from '../../src/core/reply.js';
import type { Inbound, Pressed } from '../../src/core/switchboard.js';
import { isRepeat } from '../../src/core/inbound-dedupe.js';
import { CHOICE_ACTION_PREFIX, context, type SlackBlock } from './render/blocks.js';
import { escapeEntities } from './render/mrkdwn.js';
import { commandText, messageText, withoutLeadingMention } from './slack-text.js';

/** What the Slack adapter needs from the core. */
export interface SlackCore {
  execute(inbound: Inbound): Promise<Reply>;
  press(pressed: Pressed): Promise<Reply>;
}

export interface InboundDeps {
  core: SlackCore;
  command: string;
  logger: Logger;
  /** Runs core work after the ack, so Slack's 3 s deadline never depends on an agent server. */
  background(work: () => Promise<unknown>): void;
}

const ADAPTER = 'slack';

/**
 * The names Slack gives one delivery, for the core to run it once: the Socket Mode envelope (a redelivered
 * envelope), plus what identifies the unit inside it on either receiver (an event's `event_id`, which Slack's
 * retries keep; a command's or a click's `trigger_id`; a click's `action_ts`).
 */
export function slackIdentities(context: Record<string, unknown>, ...inner: Array<[kind: string, id: unknown]>): string[] {
  const ids = [...inner, ['envelope', context['envelopeId']] as [string, unknown]];
  return ids.filter(([, id]) => typeof id === 'string' && id !== '').map(([kind, id]) => `${ADAPTER}:${kind}:${String(id)}`);
}

/**
 * Slack events in, core calls out: the slash command, button presses and @-mentions. Every handler acks
 * first and then hands the work to the core; what to answer, and whether the person may ask, is the core's
 * business.
 */
export function registerInbound(app: App, deps: InboundDeps): void {
  const { core, logger } = deps;

  app.command(deps.command, async ({ command, ack, context: boltContext }) => {
    await ack();
    const origin: Origin = { adapter: ADAPTER, channel: command.channel_id, replyHandle: command.response_url };
    const actor: Actor = { id: `slack:${command.user_id}`, ...(command.user_name ? { name: command.user_name } : {}) };
    const identities = slackIdentities(boltContext, ['trigger', command.trigger_id]);
    deps.background(() => core.execute({ text: commandText(command.text), actor, origin, identities }));
  });

  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: new RegExp(`^${CHOICE_ACTION_PREFIX}\\d+$`) }, async ({ ack, body, action, client, context: boltContext }) => {
    await ack();
    const [choiceId, indexText] = (action.value ?? '').split(':');
    const index = Number(indexText);
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!choiceId || !Number.isInteger(index) || !channel) {
      logger.warn('slack: a button press without a usable choice', { actionId: action.action_id, value: action.value });
      return;
    }
    const thread = body.container?.thread_ts ?? body.message?.thread_ts;
    const origin: Origin = {
      adapter: ADAPTER,
      channel,
      ...(typeof thread === 'string' ? { thread } : {}),
      ...(body.response_url ? { replyHandle: body.response_url } : {}),
    };
    const actor: Actor = { id: `slack:${body.user.id}`, ...(body.user.name ? { name: body.user.name } : {}) };
    const identities = slackIdentities(boltContext, ['trigger', body.trigger_id], ['action', `${channel}:${action.action_ts}`]);
    deps.background(async () => {
      const reply = await core.press({ choiceId, index, actor, origin, identities });
      const message = body.message;
      // A choice made is a choice gone: its buttons give way to a line saying who picked what (once).
      if (reply.tone === 'error' || isRepeat(reply) || !message?.ts || !Array.isArray(message.blocks)) return;
      const picked = context(`✓ *${escapeEntities(action.text.text)}* · chosen by <@${body.user.id}>`);
      await client.chat.update({
        channel,
        ts: message.ts,
        text: typeof message.text === 'string' ? message.text : '',
        blocks: withoutChoice(message.blocks as SlackBlock[], choiceId, picked) as never,
      });
    });
  });

  app.event('app_mention', async ({ event, body, context: boltContext }) => {
    if (!('user' in event) || typeof event.user !== 'string') return;
    const text = messageText(withoutLeadingMention(event.text, boltContext.botUserId));
    const origin: Origin = { adapter: ADAPTER, channel: event.channel, ...(event.thread_ts ? { thread: event.thread_ts } : {}) };
    // Slack's retries (X-Slack-Retry-Num, or retry_attempt in Socket Mode) keep the event_id; the core drops them.
    if (boltContext.retryNum) logger.info('slack: a retried event arrived', { eventId: body.event_id, retryNum: boltContext.retryNum, reason: boltContext.retryReason });
    const identities = slackIdentities(boltContext, ['event', body.event_id]);
    const files = filesOf(event.files, boltContext.botToken);
    deps.background(() => core.execute({ text, actor: { id: `slack:${event.user}` }, origin, identities, ...(files.length ? { files } : {}) }));
  });

  app.error(async (error) => {
    logger.error('slack: Bolt reported an error', { error: error.message, code: (error as { code?: string }).code });
  });
}

/**
 * Files shared with a mention, for the core: name, size, type, and `url_private_download` fetched with the bot
 * token (the app needs the files:read scope). A file whose event carries no download link (deleted, external, or
 * only `file_access: check_file_info`) keeps an empty URL: the core refuses it with that reason, nothing is sent.
 */
export function filesOf(files: slackTypes.AppMentionEvent['files'], botToken: string | undefined): InboundFile[] {
  return (files ?? []).map((file) => {
    const url = file.url_private_download || file.url_private || '';
    return inboundFile({ name: file.name || file.title || file.id, size: file.size ?? 0, mimeType: file.mimetype ?? '', url }, botToken ? `Bearer ${botToken}` : undefined);
  });
}

/** The message's blocks with this choice's buttons replaced by `picked`. */
export function withoutChoice(blocks: readonly SlackBlock[], choiceId: string, picked: SlackBlock): SlackBlock[] {
  const prefix = `${CHOICE_ACTION_PREFIX}${choiceId}_`;
  const out: SlackBlock[] = [];
  let replaced = false;
  for (const block of blocks) {
    const isThisChoice = block.type === 'actions' && typeof block['block_id'] === 'string' && block['block_id'].startsWith(prefix);
    if (!isThisChoice) out.push(block);
    else if (!replaced) {
      out.push(picked);
      replaced = true;
    }
  }
  return out;
}
