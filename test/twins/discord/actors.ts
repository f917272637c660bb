import { ApplicationCommandType, ButtonStyle, ComponentType, MessageFlags, type APIEmbed } from 'discord-api-types/v10';
import type { CommandRegistry } from './domain/commands.js';
import type { InteractionService } from './domain/interactions.js';
import type { MessageService } from './domain/messages.js';
import { TwinAutocomplete, TwinInteraction, type HandleDeps } from './handles.js';
import { autocompleteInteraction, chatInputInteraction, componentInteraction } from './payloads/interactions.js';
import type { MessageContext } from './payloads/messages.js';
import type { MessageFilter, ThreadFilter } from './queries.js';
import { buildAutocompleteOptions, buildSlashOptions, type AutocompleteInvocation, type SlashInvocation } from './slash-options.js';
import { messageSnapshot, type TwinMessage, type TwinThread } from './snapshots.js';
import type { TranscriptOptions } from './transcript.js';
import type { WaitOptions } from './waiting.js';
import type { ChannelRecord, MessageRecord } from './world.js';

/**
 * The test's hands: `discord.channel(id).user(id)` acts as a person in that channel would — typing a message,
 * running a slash command, clicking a button — and each action arrives at the bot over the gateway exactly as
 * Discord would deliver it.
 */

export interface ActorDeps extends HandleDeps {
  messages: MessageService;
  interactions: InteractionService;
  commands: CommandRegistry;
  ctx: MessageContext;
  /** Throws when no bot session exists: the action would silently go nowhere. */
  requireSession(action: string): void;
}

/** Twin-level queries a channel handle narrows to its channel. */
export interface ChannelQueries {
  messages(filter?: MessageFilter): TwinMessage[];
  threads(filter?: ThreadFilter): TwinThread[];
  transcript(channelId: string, options?: TranscriptOptions): string;
  waitForMessage(filter?: MessageFilter & WaitOptions): Promise<TwinMessage>;
  waitForThread(filter?: ThreadFilter & WaitOptions): Promise<TwinThread>;
}

export interface UserProfile {
  username?: string;
  /** Replaces the member's roles (role ids of this guild). */
  roles?: string[];
  nick?: string;
}

export interface UserFile {
  name: string;
  data: Buffer | string;
  contentType?: string;
}

export interface UserMessageInput {
  content?: string;
  embeds?: APIEmbed[];
  files?: UserFile[];
  /** Reply to this message (Discord's reply button). */
  replyTo?: string | TwinMessage;
}

export interface UserMessage extends TwinMessage {
  /** The next bot message in this channel after this one (or in `filter.channel`, e.g. a thread). */
  waitForBotReply(filter?: MessageFilter & WaitOptions): Promise<TwinMessage>;
}

export class ChannelHandle {
  constructor(
    private readonly deps: ActorDeps,
    private readonly queries: ChannelQueries,
    readonly channel: ChannelRecord,
  ) {}

  get id(): string {
    return this.channel.id;
  }

  /** A member of this channel's guild; unknown users join on first use. */
  user(userId: string, profile: UserProfile = {}): UserActor {
    this.deps.ctx.world.ensureMember(this.channel.guildId, userId, profile);
    return new UserActor(this.deps, this.queries, this.channel, userId);
  }

  messages(filter: Omit<MessageFilter, 'channel'> = {}): TwinMessage[] {
    return this.queries.messages({ ...filter, channel: this.channel.id });
  }

  threads(filter: Omit<ThreadFilter, 'parent'> = {}): TwinThread[] {
    return this.queries.threads({ ...filter, parent: this.channel.id });
  }

  transcript(options?: TranscriptOptions): string {
    return this.queries.transcript(this.channel.id, options);
  }

  waitForMessage(filter: Omit<MessageFilter, 'channel'> & WaitOptions = {}): Promise<TwinMessage> {
    return this.queries.waitForMessage({ ...filter, channel: this.channel.id });
  }

  waitForThread(filter: Omit<ThreadFilter, 'parent'> & WaitOptions = {}): Promise<TwinThread> {
    return this.queries.waitForThread({ ...filter, parent: this.channel.id });
  }
}

export class UserActor {
  constructor(
    private readonly deps: ActorDeps,
    private readonly queries: ChannelQueries,
    private readonly channel: ChannelRecord,
    readonly userId: string,
  ) {}

  async sendMessage(input: string | UserMessageInput): Promise<UserMessage> {
    this.deps.requireSession('sendMessage');
    const spec = typeof input === 'string' ? { content: input } : input;
    const replyTo = typeof spec.replyTo === 'string' ? spec.replyTo : spec.replyTo?.id;
    const files = (spec.files ?? []).map((f, index) => ({
      field: `files[${index}]`,
      index,
      filename: f.name,
      contentType: f.contentType,
      bytes: typeof f.data === 'string' ? Buffer.from(f.data) : Buffer.from(f.data),
    }));
    const record = this.deps.messages.create(
      this.channel.id,
      {
        content: spec.content ?? '',
        ...(spec.embeds ? { embeds: spec.embeds } : {}),
        ...(replyTo ? { message_reference: { message_id: replyTo } } : {}),
      },
      files,
      { source: 'user', authorId: this.userId },
    );
    const snapshot = messageSnapshot(this.deps.ctx, record);
    return {
      ...snapshot,
      waitForBotReply: (filter = {}) =>
        this.queries.waitForMessage({ channel: this.channel.id, author: 'bot', afterId: record.id, ...filter }),
    };
  }

  /** `/name` with a subcommand and options, checked against what the bot registered. */
  async slash(name: string, invocation: SlashInvocation = {}): Promise<TwinInteraction> {
    this.deps.requireSession('slash');
    const command = this.command(name);
    const built = buildSlashOptions(command, { ...invocation, ...(invocation.options ? { options: this.uploadAttachments(invocation.options) } : {}) });
    const record = this.deps.interactions.start(
      { kind: 'command', guildId: this.channel.guildId, channelId: this.channel.id, userId: this.userId, summary: built.summary, commandId: command.id, commandName: command.name },
      (r) => chatInputInteraction(this.deps.ctx, r, built),
    );
    return new TwinInteraction(this.deps, record);
  }

  /**
   * Files picked for attachment options: Discord's client uploads each before the interaction (an ephemeral
   * attachment on its CDN), and the option carries the attachment's id, resolved in `data.resolved.attachments`.
   */
  private uploadAttachments(options: NonNullable<SlashInvocation['options']>): NonNullable<SlashInvocation['options']> {
    const out: NonNullable<SlashInvocation['options']> = {};
    for (const [key, value] of Object.entries(options)) {
      if (typeof value !== 'object') {
        out[key] = value;
        continue;
      }
      const bytes = typeof value.file.data === 'string' ? Buffer.from(value.file.data) : Buffer.from(value.file.data);
      const attachmentId = this.deps.ctx.world.newId();
      this.deps.ctx.world.files.push({
        messageId: '',
        channelId: this.channel.id,
        attachmentId,
        filename: value.file.name,
        contentType: value.file.contentType,
        description: undefined,
        bytes,
        size: bytes.length,
        uploadedBy: 'user',
      });
      out[key] = attachmentId;
    }
    return out;
  }

  /** The user typing `value` into option `focused`; the bot answers with choices (callback type 8). */
  async autocomplete(name: string, invocation: AutocompleteInvocation): Promise<TwinAutocomplete> {
    this.deps.requireSession('autocomplete');
    const command = this.command(name);
    const built = buildAutocompleteOptions(command, invocation);
    const record = this.deps.interactions.start(
      { kind: 'autocomplete', guildId: this.channel.guildId, channelId: this.channel.id, userId: this.userId, summary: built.summary, commandId: command.id, commandName: command.name },
      (r) => autocompleteInteraction(this.deps.ctx, r, built),
    );
    return new TwinAutocomplete(this.deps, record);
  }

  async clickButton(message: string | TwinMessage, customId: string): Promise<TwinInteraction> {
    this.deps.requireSession('clickButton');
    const source = this.clickable(message);
    const component = findComponent(source, customId);
    if (!component || component.type !== ComponentType.Button) {
      throw new Error(`No button with custom_id ${JSON.stringify(customId)} on message ${source.id} (has: ${customIds(source).join(', ') || 'none'})`);
    }
    if (component.disabled) throw new Error(`Button ${JSON.stringify(customId)} on message ${source.id} is disabled`);
    if (component.style === ButtonStyle.Link || component.style === ButtonStyle.Premium) {
      throw new Error(`Button ${JSON.stringify(customId)} is a link button; Discord sends no interaction for it`);
    }
    return this.startComponent(source, customId, String(component.label ?? customId), { componentType: ComponentType.Button });
  }

  /** Picks `values` in a string select menu. */
  async selectMenu(message: string | TwinMessage, customId: string, values: string[]): Promise<TwinInteraction> {
    this.deps.requireSession('selectMenu');
    const source = this.clickable(message);
    const component = findComponent(source, customId);
    if (!component || component.type !== ComponentType.StringSelect) {
      throw new Error(`No string select with custom_id ${JSON.stringify(customId)} on message ${source.id} (has: ${customIds(source).join(', ') || 'none'})`);
    }
    const offered = (component.options ?? []).map((o) => o.value);
    const unknown = values.filter((v) => !offered.includes(v));
    if (unknown.length > 0) throw new Error(`Select ${customId} has no option(s) ${unknown.join(', ')} (has: ${offered.join(', ')})`);
    const min = component.min_values ?? 1;
    const max = component.max_values ?? 1;
    if (values.length < min || values.length > max) throw new Error(`Select ${customId} takes ${min}..${max} values, got ${values.length}`);
    return this.startComponent(source, customId, values.join(', '), { componentType: ComponentType.StringSelect, values });
  }

  private startComponent(
    source: MessageRecord,
    customId: string,
    summary: string,
    data: { componentType: ComponentType.Button } | { componentType: ComponentType.StringSelect; values: string[] },
  ): TwinInteraction {
    const record = this.deps.interactions.start(
      {
        kind: 'component',
        guildId: this.channel.guildId,
        channelId: source.channelId,
        userId: this.userId,
        summary,
        customId,
        componentType: data.componentType,
        sourceMessageId: source.id,
      },
      (r) => componentInteraction(this.deps.ctx, r, data),
    );
    return new TwinInteraction(this.deps, record);
  }

  private clickable(message: string | TwinMessage): MessageRecord {
    const id = typeof message === 'string' ? message : message.id;
    const record = this.deps.ctx.world.messages.get(id);
    if (!record || record.deleted) throw new Error(`Message ${id} does not exist (or was deleted); nothing to click`);
    if (record.channelId !== this.channel.id) {
      throw new Error(`Message ${id} is in channel ${record.channelId}, not ${this.channel.id}; use discord.channel('${record.channelId}').user(…)`);
    }
    if (record.flags & MessageFlags.Ephemeral) {
      const owner = record.interactionId ? this.deps.ctx.world.interactions.get(record.interactionId)?.userId : undefined;
      if (owner !== this.userId) throw new Error(`Message ${id} is ephemeral and only visible to ${owner ?? 'its recipient'}`);
    }
    return record;
  }

  private command(name: string) {
    const command = this.deps.commands.find(this.channel.guildId, name);
    if (!command) {
      const known = this.deps.commands.names(this.channel.guildId);
      throw new Error(`/${name} is not registered for guild ${this.channel.guildId} (registered: ${known.map((n) => `/${n}`).join(', ') || 'none'}); the bot must PUT its commands first`);
    }
    if (command.type !== ApplicationCommandType.ChatInput) throw new Error(`/${name} is not a chat input (slash) command`);
    return command;
  }
}

interface LooseComponent {
  type?: number;
  custom_id?: string;
  label?: string;
  style?: number;
  disabled?: boolean;
  options?: Array<{ value: string }>;
  min_values?: number;
  max_values?: number;
  components?: LooseComponent[];
  accessory?: LooseComponent;
}

/** Depth-first, so Components V2 containers and sections are searched too. */
function allComponents(components: readonly unknown[]): LooseComponent[] {
  return (components as LooseComponent[]).flatMap((c) => [c, ...allComponents(c.components ?? []), ...(c.accessory ? [c.accessory] : [])]);
}

function findComponent(message: MessageRecord, customId: string): LooseComponent | undefined {
  return allComponents(message.components).find((c) => c.custom_id === customId);
}

function customIds(message: MessageRecord): string[] {
  return allComponents(message.components).flatMap((c) => (c.custom_id ? [c.custom_id] : []));
}
