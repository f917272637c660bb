import type { Delivery, EnvelopeType, ViaOption } from './delivery.js';
import type { ShareFile } from './shared-files.js';
import { isRecord } from './limits.js';
import { blockActionsPayload, eventCallbackPayload, slashCommandPayload } from './payloads.js';
import type { ResponseFilter, WaitOptions } from './queries.js';
import type { Signing } from './signing.js';
import type { InvocationRecord, TwinState } from './state.js';
import type { Ack, Block, EphemeralMessage, Invocation, ResponsePost, SlackMessage, Via } from './types.js';
import type { ChannelInfo, UserInfo, Workspace } from './workspace.js';

/**
 * A person in the workspace. Everything a user can do to the app goes through here, so tests read as
 * `slack.user('U1').command('/sb', 'status', { channel: 'C1' })`.
 */
export interface ActOptions {
  /** `auto` (default): Socket Mode if an app is connected, else the events URL. */
  readonly via?: ViaOption;
  /** HTTP only: tamper with the signature to prove the app rejects it. */
  readonly signing?: Signing;
}

export interface CommandOptions extends ActOptions {
  readonly channel: string;
}

export interface SayOptions extends ActOptions {
  readonly channel: string;
  readonly threadTs?: string;
  /** Files shared with the message: the events carry them (subtype file_share), the twin serves their bytes. */
  readonly files?: readonly ShareFile[];
}

/** Which button to click: its action_id, optionally narrowed by value or block_id when several share it. */
export interface ButtonSelector {
  readonly actionId: string;
  readonly value?: string;
  readonly blockId?: string;
}

/** The app's ack plus handles on everything that followed from this one invocation. */
export interface InvocationResult extends Ack {
  readonly invocation: Invocation;
  /** Posts the app made to this invocation's response_url so far. */
  responses(): ResponsePost[];
  /** Waits for a response_url post from this invocation (optionally matching). */
  waitForResponse(options?: WaitOptions & Omit<ResponseFilter, 'invocationId'>): Promise<ResponsePost>;
}

export interface SayResult {
  readonly message: SlackMessage;
  /** One ack per event delivered (`message`, plus `app_mention` when the bot is mentioned). */
  readonly acks: readonly Ack[];
}

export type SubscribedEvent = 'message' | 'app_mention';

export interface UserDeps {
  readonly state: TwinState;
  readonly workspace: Workspace;
  readonly delivery: Delivery;
  readonly subscribedEvents: readonly SubscribedEvent[];
  responseUrlFor(invocationId: string): string;
  /** Stores a shared file; returns the `files` entry of the events. */
  shareFile(file: ShareFile, user: string): Record<string, unknown>;
  now(): number;
  invocationSnapshot(record: InvocationRecord): Invocation;
  messageSnapshot(channel: string, ts: string): SlackMessage | undefined;
  responses(filter: ResponseFilter): ResponsePost[];
  waitForResponse(filter: ResponseFilter & WaitOptions): Promise<ResponsePost>;
}

export class SlackUser {
  constructor(
    private readonly deps: UserDeps,
    readonly info: UserInfo,
  ) {}

  get id(): string {
    return this.info.id;
  }

  /** Runs a slash command; resolves with the app's ack (the HTTP response body, or the socket ack payload). */
  async command(command: string, text: string, options: CommandOptions): Promise<InvocationResult> {
    const { deps } = this;
    const channel = this.channel(options.channel);
    const via = deps.delivery.resolveVia(options.via);
    const invocation = deps.state.addInvocation(
      {
        kind: 'command',
        user: this.id,
        channel: channel.id,
        via,
        command,
        text,
        actionId: undefined,
        value: undefined,
        messageTs: undefined,
        threadTs: undefined,
        triggerId: deps.state.ids.nextId('T'),
      },
      deps.responseUrlFor,
    );
    const payload = slashCommandPayload(deps.workspace, {
      command,
      text,
      user: this.info,
      channel,
      responseUrl: invocation.responseUrl ?? '',
      triggerId: invocation.triggerId ?? '',
    });
    const ack = await this.send(invocation, 'slash_commands', payload, via, options.signing);
    this.showCommandAck(invocation, ack);
    return this.result(invocation, ack);
  }

  /**
   * Clicks a button in a message as it is *now* (the twin re-reads it, so a button an edit removed cannot be
   * clicked). Throws, listing the buttons that exist, if the selector matches none.
   */
  async clickButton(
    message: SlackMessage | EphemeralMessage,
    selector: ButtonSelector,
    options: ActOptions = {},
  ): Promise<InvocationResult> {
    const { deps } = this;
    const isEphemeral = !('edits' in message);
    const current = isEphemeral ? message : deps.messageSnapshot(message.channel, message.ts);
    if (!current || ('deleted' in current && current.deleted)) {
      throw new Error(`Cannot click in message ${message.ts}: it no longer exists in ${message.channel}`);
    }
    const button = findButton(current.blocks, selector, message.ts);
    const channel = this.channel(message.channel);
    const via = deps.delivery.resolveVia(options.via);
    const invocation = deps.state.addInvocation(
      {
        kind: 'action',
        user: this.id,
        channel: channel.id,
        via,
        command: undefined,
        text: button.label,
        actionId: button.actionId,
        value: button.value,
        messageTs: current.ts,
        threadTs: current.threadTs,
        triggerId: deps.state.ids.nextId('T'),
      },
      deps.responseUrlFor,
    );
    const payload = blockActionsPayload(deps.workspace, {
      user: this.info,
      channel,
      message: {
        ts: current.ts,
        threadTs: current.threadTs,
        text: current.text,
        user: isEphemeral ? deps.workspace.bot.userId : (current as SlackMessage).user,
        blocks: current.blocks,
      },
      isEphemeral,
      action: button,
      responseUrl: invocation.responseUrl ?? '',
      triggerId: invocation.triggerId ?? '',
      actionTs: deps.state.ids.nextTs(),
    });
    const ack = await this.send(invocation, 'interactive', payload, via, options.signing);
    return this.result(invocation, ack);
  }

  /**
   * Posts a message as this user and delivers it to the app as an Events API `message` event, plus an
   * `app_mention` when the text mentions the bot (`<@BOT_USER_ID>`), as Slack does for an app subscribed to both.
   */
  async say(text: string, options: SayOptions): Promise<SayResult> {
    const { deps } = this;
    const channel = this.channel(options.channel);
    const via = deps.delivery.resolveVia(options.via);
    const parent = options.threadTs !== undefined ? deps.state.findMessage(channel.id, options.threadTs) : undefined;
    if (options.threadTs !== undefined && !parent) {
      throw new Error(`No message ${options.threadTs} in ${channel.id} to reply to`);
    }
    const threadTs = parent ? (parent.threadTs ?? parent.ts) : undefined;
    const record = deps.state.addMessage({
      channel: channel.id,
      threadTs,
      user: this.id,
      botId: undefined,
      text,
      blocks: undefined,
      replyBroadcast: false,
      source: 'user',
      args: { channel: channel.id, text, ...(threadTs !== undefined ? { thread_ts: threadTs } : {}) },
    });
    const files = (options.files ?? []).map((file) => deps.shareFile(file, this.id));
    const mentionsBot = text.includes(`<@${deps.workspace.bot.userId}>`);
    const types = deps.subscribedEvents.filter((t) => t === 'message' || mentionsBot);
    const acks: Ack[] = [];
    for (const type of types) {
      const invocation = deps.state.addInvocation(
        {
          kind: 'event',
          user: this.id,
          channel: channel.id,
          via,
          command: undefined,
          text,
          actionId: undefined,
          value: undefined,
          messageTs: record.ts,
          threadTs,
          triggerId: undefined,
        },
        () => undefined,
      );
      const payload = eventCallbackPayload(deps.workspace, {
        type,
        user: this.info,
        channel,
        text,
        ts: record.ts,
        threadTs,
        eventId: deps.state.ids.nextId('Ev'),
        eventTime: Math.floor(deps.now() / 1000),
        ...(files.length ? { files } : {}),
      });
      acks.push(await this.send(invocation, 'events_api', payload, via, options.signing));
    }
    const message = deps.messageSnapshot(channel.id, record.ts);
    if (!message) throw new Error('unreachable: the message was just stored');
    return { message, acks };
  }

  private async send(
    invocation: InvocationRecord,
    type: EnvelopeType,
    payload: Record<string, unknown>,
    via: Via,
    signing: Signing | undefined,
  ): Promise<Ack> {
    const ack = await this.deps.delivery.deliver(type, payload, via, signing);
    this.deps.state.setAck(invocation, ack);
    return ack;
  }

  /** A command's ack with content is what the invoker sees first: ephemeral, or a channel message for in_channel. */
  private showCommandAck(invocation: InvocationRecord, ack: Ack): void {
    if (ack.status !== 200 || ack.empty || (ack.text === undefined && ack.blocks === undefined)) return;
    const { state, workspace } = this.deps;
    const content = { text: ack.text ?? '', blocks: ack.blocks as Block[] | undefined };
    if (ack.responseType === 'in_channel') {
      state.addMessage({
        channel: invocation.channel,
        threadTs: undefined,
        user: workspace.bot.userId,
        botId: workspace.bot.botId,
        ...content,
        replyBroadcast: false,
        source: 'ack',
        args: isRecord(ack.body) ? ack.body : { text: ack.text },
      });
    } else {
      state.addEphemeral({ channel: invocation.channel, user: invocation.user, threadTs: undefined, ...content, source: 'ack' });
    }
  }

  private result(invocation: InvocationRecord, ack: Ack): InvocationResult {
    const { deps } = this;
    return Object.freeze({
      ...ack,
      invocation: deps.invocationSnapshot(invocation),
      responses: () => deps.responses({ invocationId: invocation.id }),
      waitForResponse: (options: WaitOptions & Omit<ResponseFilter, 'invocationId'> = {}) =>
        deps.waitForResponse({ ...options, invocationId: invocation.id }),
    });
  }

  /** A user acting in a channel proves it exists, so unknown ids are registered on first use. */
  private channel(id: string): ChannelInfo {
    return this.deps.workspace.channel(id) ?? this.deps.workspace.addChannel(id);
  }
}

interface FoundButton {
  readonly actionId: string;
  readonly blockId: string;
  readonly value: string | undefined;
  readonly label: string;
  readonly style: string | undefined;
}

/** Buttons live in `actions` blocks and as section accessories. */
export function listButtons(blocks: readonly Block[] | undefined): FoundButton[] {
  const found: FoundButton[] = [];
  (blocks ?? []).forEach((block, index) => {
    const blockId = typeof block.block_id === 'string' ? block.block_id : `twin-block-${index}`;
    const candidates = block.type === 'actions' && Array.isArray(block['elements']) ? block['elements'] : [block['accessory']];
    for (const el of candidates) {
      if (!isRecord(el) || el['type'] !== 'button' || typeof el['action_id'] !== 'string') continue;
      found.push({
        actionId: el['action_id'],
        blockId,
        value: typeof el['value'] === 'string' ? el['value'] : undefined,
        label: isRecord(el['text']) && typeof el['text']['text'] === 'string' ? el['text']['text'] : '',
        style: typeof el['style'] === 'string' ? el['style'] : undefined,
      });
    }
  });
  return found;
}

function findButton(blocks: readonly Block[] | undefined, selector: ButtonSelector, ts: string): FoundButton {
  const buttons = listButtons(blocks);
  const match = buttons.find(
    (b) =>
      b.actionId === selector.actionId &&
      (selector.value === undefined || b.value === selector.value) &&
      (selector.blockId === undefined || b.blockId === selector.blockId),
  );
  if (match) return match;
  const available = buttons.map((b) => `[${b.label}] action_id=${b.actionId} value=${b.value ?? '-'}`).join('; ');
  throw new Error(
    `No button matching ${JSON.stringify(selector)} in message ${ts}. ` +
      (available ? `Buttons there: ${available}` : 'That message has no buttons.'),
  );
}
