import {
  ComponentType,
  Events,
  type Attachment,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type Interaction,
  type Message,
} from 'discord.js';
import type { Logger } from '../../src/core/logger.js';
import type { Origin } from '../../src/core/origin.js';
import type { Reply } from '../../src/core/reply.js';
import type { Inbound, Pressed } from '../../src/core/switchboard.js';
import { isRepeat } from '../../src/core/inbound-dedupe.js';
import type { GrammarSpec } from '../../src/commands/spec.js';
import { inboundFile, type InboundFile } from '../../src/files/index.js';
import { ADAPTER, actorOf, placeOf } from './identity.js';
import { commandText } from './message-text.js';
import { parseChoiceCustomId } from './render/components.js';
import { encodeReplyHandle } from './reply-handle.js';
import { DISCORD_LIMITS } from './render/limits.js';
import { SLASH_COMMAND, commandLine, invokedVerb, type SlashLayout } from './slash-commands.js';

/** What the Discord adapter needs from the core. */
export interface DiscordCore {
  execute(inbound: Inbound): Promise<Reply>;
  press(pressed: Pressed): Promise<Reply>;
  services: {
    grammar: readonly GrammarSpec[];
    /** Read only, for autocompleting names. */
    registry: { list(): ReadonlyArray<{ name: string }> };
  };
}

export interface InboundDeps {
  core: DiscordCore;
  prefix: string;
  layout: SlashLayout;
  logger: Logger;
  /** Runs core work after Discord got its acknowledgement, so the 3 s deadline never waits on an agent server. */
  background(work: () => Promise<unknown>): void;
}

/**
 * The name Discord gives a delivery, for the core to run it once: a RESUME can replay a MESSAGE_CREATE or an
 * INTERACTION_CREATE the bot already had (discord.js skips a replayed message only while it is still cached).
 */
function discordIdentity(kind: 'message' | 'interaction', id: string): string[] {
  return [`${ADAPTER}:${kind}:${id}`];
}

/** Discord allows 25 autocomplete choices. */
const MAX_CHOICES = 25;

/**
 * Discord events in, core calls out: `!sb` messages, the `/sb` slash command (and its autocomplete), and
 * choice buttons. Interactions are acknowledged first; what to answer, and whether the person may ask, is
 * the core's business.
 */
export function registerInbound(client: Client, deps: InboundDeps): void {
  const { core, logger } = deps;

  client.on(Events.MessageCreate, (message) => {
    try {
      onMessage(message);
    } catch (error) {
      logger.error('discord: a message could not be handled', { error: String(error) });
    }
  });

  client.on(Events.InteractionCreate, (interaction) => {
    void onInteraction(interaction).catch((error: unknown) => {
      logger.error('discord: an interaction could not be handled', { error: error instanceof Error ? error.message : String(error) });
    });
  });

  function onMessage(message: Message): void {
    // Bots (ourselves included: Discord echoes our own posts) and webhooks never command us.
    if (message.author.bot || message.webhookId !== null || message.system || !message.inGuild()) return;
    const text = commandText(message.content, deps.prefix, client.user?.id);
    if (text === undefined) return;
    const origin: Origin = {
      adapter: ADAPTER,
      ...placeOf(message.channel, message.channelId),
      replyHandle: encodeReplyHandle({ kind: 'message', channelId: message.channelId, messageId: message.id }),
    };
    const actor = actorOf(message.author, message.member);
    const files = [...message.attachments.values()].map(fileOf);
    deps.background(() => core.execute({ text, actor, origin, identities: discordIdentity('message', message.id), ...(files.length ? { files } : {}) }));
  }

  async function onInteraction(interaction: Interaction): Promise<void> {
    if (interaction.isChatInputCommand() && interaction.commandName === SLASH_COMMAND) return onSlash(interaction);
    if (interaction.isAutocomplete() && interaction.commandName === SLASH_COMMAND) return onAutocomplete(interaction);
    if (interaction.isButton()) return onButton(interaction);
  }

  async function onSlash(interaction: ChatInputCommandInteraction): Promise<void> {
    let replyHandle: string | undefined;
    try {
      await interaction.deferReply();
      replyHandle = encodeReplyHandle({
        kind: 'interaction',
        applicationId: interaction.applicationId,
        token: interaction.token,
        channelId: interaction.channelId,
        deferred: 'reply',
      });
    } catch (error) {
      // Too late to acknowledge (Discord showed "did not respond"); the command still runs and answers in the channel.
      logger.warn('discord: could not acknowledge a slash command', { error: String(error) });
    }
    const group = interaction.options.getSubcommandGroup(false);
    const subcommand = interaction.options.getSubcommand(false);
    const layout = invokedVerb(deps.layout, group, subcommand);
    // A subcommand we no longer know (commands registered by an older version) still gets the core's answer.
    const text = layout ? commandLine(layout, (name) => interaction.options.get(name)?.value ?? undefined) : (subcommand ?? group ?? 'help');
    const origin: Origin = { adapter: ADAPTER, ...(await placeOfInteraction(interaction)), ...(replyHandle ? { replyHandle } : {}) };
    const actor = actorOf(interaction.user, interaction.member);
    const files = (layout?.fields ?? []).flatMap((f) => (f.kind === 'file' ? [interaction.options.getAttachment(f.option)] : [])).flatMap((a) => (a ? [fileOf(a)] : []));
    deps.background(() => core.execute({ text, actor, origin, identities: discordIdentity('interaction', interaction.id), ...(files.length ? { files } : {}) }));
  }

  async function onAutocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const focused = interaction.options.getFocused(true);
    const layout = invokedVerb(deps.layout, interaction.options.getSubcommandGroup(false), interaction.options.getSubcommand(false));
    const field = layout?.fields.find((f) => f.option === focused.name);
    const typed = String(focused.value).trim().toLowerCase();
    const names = field?.autocompleteNames ? core.services.registry.list().map((r) => r.name) : field?.autocompleteVerbs ? [...deps.layout.verbs.keys()] : [];
    // Names starting with what was typed first, then names merely containing it.
    const ranked = [...names.filter((n) => n.startsWith(typed)).sort(), ...names.filter((n) => !n.startsWith(typed) && n.includes(typed)).sort()];
    await interaction.respond(ranked.slice(0, MAX_CHOICES).map((name) => ({ name, value: name })));
  }

  async function onButton(interaction: ButtonInteraction): Promise<void> {
    const choice = parseChoiceCustomId(interaction.customId);
    if (!choice) return;
    let replyHandle: string | undefined;
    try {
      await interaction.deferUpdate();
      replyHandle = encodeReplyHandle({
        kind: 'interaction',
        applicationId: interaction.applicationId,
        token: interaction.token,
        channelId: interaction.channelId,
        deferred: 'update',
      });
    } catch (error) {
      logger.warn('discord: could not acknowledge a button press', { error: String(error) });
    }
    const origin: Origin = { adapter: ADAPTER, ...(await placeOfInteraction(interaction)), ...(replyHandle ? { replyHandle } : {}) };
    const actor = actorOf(interaction.user, interaction.member);
    deps.background(async () => {
      const reply = await core.press({ ...choice, actor, origin, identities: discordIdentity('interaction', interaction.id) });
      // A choice made is a choice gone: its buttons give way to a line saying who picked what (once).
      if (reply.tone === 'error' || isRepeat(reply) || !replyHandle) return;
      const label = ('label' in interaction.component ? interaction.component.label : undefined) ?? String(choice.index + 1);
      const picked = `-# ✓ **${label}** · chosen by <@${interaction.user.id}>`;
      const content = interaction.message.content;
      await interaction.editReply({
        content: content.length + 1 + picked.length <= DISCORD_LIMITS.contentChars ? `${content}\n${picked}` : content,
        components: withoutChoice(interaction.message.components.map((row) => row.toJSON()), choice.choiceId) as never,
        allowedMentions: { parse: [], repliedUser: false },
      });
    });
  }

  /** The thread's parent may not be cached (an old thread): ask Discord once rather than lose the thread. */
  async function placeOfInteraction(interaction: ChatInputCommandInteraction | ButtonInteraction): Promise<Pick<Origin, 'channel' | 'thread'>> {
    const channelId = interaction.channelId;
    const channel = interaction.channel ?? (await client.channels.fetch(channelId).catch(() => null));
    return placeOf(channel, channelId);
  }
}

/** An attachment, for the core: its CDN URL needs no token. */
function fileOf(attachment: Attachment): InboundFile {
  return inboundFile({ name: attachment.name, size: attachment.size, mimeType: attachment.contentType ?? '', url: attachment.url });
}

interface LooseRow {
  type: number;
  components?: Array<{ custom_id?: string }>;
}

/** The message's components with this choice's buttons removed (and rows left empty dropped). */
export function withoutChoice(rows: readonly unknown[], choiceId: string): unknown[] {
  return rows.flatMap((row) => {
    const r = row as LooseRow;
    if (r.type !== ComponentType.ActionRow) return [row];
    const kept = (r.components ?? []).filter((c) => parseChoiceCustomId(c.custom_id ?? '')?.choiceId !== choiceId);
    return kept.length > 0 ? [{ ...r, components: kept }] : [];
  });
}
