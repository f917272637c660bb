import { ButtonStyle, ComponentType, MessageFlags, type APIEmbed } from 'discord-api-types/v10';
import type { ChannelRecord, InteractionRecord, MessageRecord, World } from './world.js';

/**
 * A channel as a person would read it, for `toMatchInlineSnapshot`. Same conventions as the Slack twin's, so
 * adapter tests read alike: one line per item in the order it happened; the bot is `bot`, users by username;
 * thread messages are indented under the message (or the thread header) they belong to with `↳`; continuation
 * lines are indented two more spaces. Slash commands and clicks are shown although Discord posts no message for
 * them, because a transcript without the user's side is hard to read.
 *
 *   alice: !sb send kumo hi
 *   bot (reply to alice): Sent to kumo (edited)
 *     [thread: kumo]
 *     ↳ bot: step 1 of 2
 *   alice: /sb status name:kumo
 *   bot (only alice): kumo is busy
 *   bot: [file: log.txt] Full log
 *   bot: Approve?
 *     [Approve] [Deny]
 *   bob: clicked [Approve]
 */
export interface TranscriptOptions {
  /** Applied to the finished transcript, e.g. `normalizeDurations`. */
  normalize?: (text: string) => string;
  /** Show slash commands and clicks (default true). */
  includeUserActions?: boolean;
  /** Show ephemeral replies (default true). */
  includeEphemeral?: boolean;
}

interface Line {
  seq: number;
  who: string;
  body: string;
  /** Set on a message that started a thread, or on a standalone thread's header. */
  thread?: ChannelRecord;
}

export function renderTranscript(world: World, channelId: string, isExpired: (r: InteractionRecord) => boolean, options: TranscriptOptions = {}): string {
  const out: string[] = [];
  const threads = [...world.channels.values()].filter((c) => c.parentId === channelId && c.kind !== 'text');
  const top = collect(world, channelId, isExpired, options);
  for (const thread of threads.filter((t) => !t.starterMessageId)) {
    top.push({ seq: thread.seq, who: nameOf(world, thread.ownerId ?? world.botUser.id), body: `[thread: ${thread.name}]`, thread });
  }
  for (const line of top.sort(bySeq)) {
    out.push(format(line, ''));
    if (!line.thread) continue;
    if (line.thread.starterMessageId) out.push(`  [thread: ${line.thread.name}]`);
    for (const reply of collect(world, line.thread.id, isExpired, options).sort(bySeq)) out.push(format(reply, '  ↳ '));
  }
  const text = out.join('\n');
  return options.normalize ? options.normalize(text) : text;
}

function collect(world: World, channelId: string, isExpired: (r: InteractionRecord) => boolean, options: TranscriptOptions): Line[] {
  const lines: Line[] = [];
  for (const m of world.channelMessages(channelId)) {
    const ephemeral = (m.flags & MessageFlags.Ephemeral) !== 0;
    if (ephemeral && options.includeEphemeral === false) continue;
    const thread = m.threadId ? world.channels.get(m.threadId) : undefined;
    lines.push({ seq: m.seq, who: who(world, m, ephemeral), body: body(world, m), ...(thread ? { thread } : {}) });
  }
  if (options.includeUserActions !== false) {
    for (const i of world.interactions.values()) {
      if (i.channelId !== channelId || i.kind === 'autocomplete') continue;
      lines.push({ seq: i.seq, who: nameOf(world, i.userId), body: i.kind === 'command' ? `/${i.summary}` : clickText(i) });
      const rejected = i.callbacks.some((c) => c.errorCode === 10062);
      if ((rejected || isExpired(i)) && options.includeEphemeral !== false) {
        lines.push({ seq: i.seq + 0.5, who: `bot (only ${nameOf(world, i.userId)})`, body: 'The application did not respond' });
      }
    }
  }
  return lines;
}

function who(world: World, m: MessageRecord, ephemeral: boolean): string {
  const qualifiers: string[] = [];
  if (ephemeral) {
    const interaction = m.interactionId ? world.interactions.get(m.interactionId) : undefined;
    qualifiers.push(`only ${interaction ? nameOf(world, interaction.userId) : '?'}`);
  }
  if (m.replyTo) {
    const replied = world.messages.get(m.replyTo.messageId);
    qualifiers.push(`reply to ${replied ? nameOf(world, replied.authorId) : 'deleted message'}`);
  }
  const name = nameOf(world, m.authorId);
  return qualifiers.length ? `${name} (${qualifiers.join(', ')})` : name;
}

function body(world: World, m: MessageRecord): string {
  if (m.loading) return '(thinking…)';
  const head = [...m.attachments.map((a) => `[file: ${a.filename}]`), renderMentions(world, m.content)].filter((p) => p !== '').join(' ');
  const parts = [head, ...m.embeds.map(renderEmbed), ...renderComponents(m.components)].filter((p) => p !== '');
  const reactions = m.reactions.length ? ` [reactions: ${[...new Set(m.reactions.map((r) => r.emoji))].join(' ')}]` : '';
  return parts.join('\n') + (m.editCount > 0 ? ' (edited)' : '') + reactions;
}

function renderEmbed(embed: APIEmbed): string {
  const head = [embed.title, embed.description].filter((p): p is string => !!p).join(' — ');
  const fields = (embed.fields ?? []).map((f) => `${f.name}: ${f.value}`);
  return [`[embed${head ? `: ${head}` : ''}]`, ...fields].join('\n');
}

interface LooseComponent {
  type?: number;
  label?: string;
  custom_id?: string;
  style?: number;
  disabled?: boolean;
  placeholder?: string;
  components?: LooseComponent[];
}

function renderComponents(components: readonly unknown[]): string[] {
  return (components as LooseComponent[]).map((row) =>
    (row.components ?? [row])
      .map((c) => {
        if (c.type === ComponentType.Button) {
          const label = c.label ?? c.custom_id ?? '?';
          return `[${label}${c.style === ButtonStyle.Link ? ' ↗' : ''}${c.disabled ? ' (disabled)' : ''}]`;
        }
        return `[select: ${c.placeholder ?? c.custom_id ?? '?'}]`;
      })
      .join(' '),
  );
}

/** The label is taken at click time: an update may remove the button from the message afterwards. */
function clickText(i: InteractionRecord): string {
  if (i.componentType === ComponentType.Button) return `clicked [${i.summary}]`;
  return `selected [${i.summary}] in ${i.customId}`;
}

/** `<@id>` as `@name`, `<@&id>` as `@role`, `<#id>` as `#channel`: what the Discord client renders. */
function renderMentions(world: World, text: string): string {
  return text
    .replace(/<@!?(\d{17,20})>/g, (all, id: string) => (world.users.has(id) ? `@${nameOf(world, id)}` : all))
    .replace(/<@&(\d{17,20})>/g, (all, id: string) => (world.roles.has(id) ? `@${world.roles.get(id)!.name}` : all))
    .replace(/<#(\d{17,20})>/g, (all, id: string) => (world.channels.has(id) ? `#${world.channels.get(id)!.name}` : all));
}

function nameOf(world: World, userId: string): string {
  return userId === world.botUser.id ? 'bot' : world.userName(userId);
}

function format(line: Line, indent: string): string {
  const [first = '', ...rest] = line.body.split('\n');
  const continuation = ' '.repeat(indent.length + 2);
  return [`${indent}${line.who}: ${first}`, ...rest.map((r) => `${continuation}${r}`)].join('\n').trimEnd();
}

function bySeq(a: Line, b: Line): number {
  return a.seq - b.seq;
}

/** Replaces durations such as `12s`, `340ms`, `1.5s`, `2m` with `Ns` so timing noise stays out of snapshots. */
export function normalizeDurations(text: string): string {
  return text.replace(/\b\d+(?:\.\d+)?\s?(?:ms|s|m|h)\b/g, 'Ns');
}

/** Replaces snowflakes with `<id>` for snapshots that include ids the twin generated. */
export function normalizeSnowflakes(text: string): string {
  return text.replace(/\b\d{17,20}\b/g, '<id>');
}
