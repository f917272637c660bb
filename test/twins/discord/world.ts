import type {
  APIAllowedMentions,
  APIApplicationCommand,
  APIApplicationCommandOptionChoice,
  APIEmbed,
  APIMessageTopLevelComponent,
} from 'discord-api-types/v10';
import type { SnowflakeFactory } from './ids.js';
import type { ResolvedOptions } from './options.js';

/**
 * The twin's whole state, held in plain records. REST handlers, the gateway and the test actors all change it
 * through this one object, and every change is announced on `changed`, which is what the waiters listen to.
 */

export interface UserRecord {
  id: string;
  username: string;
  globalName: string | null;
  bot: boolean;
}

export interface RoleRecord {
  id: string;
  guildId: string;
  name: string;
  permissions: string;
  position: number;
  managed: boolean;
}

export interface MemberRecord {
  guildId: string;
  userId: string;
  roles: string[];
  nick: string | null;
  joinedAt: number;
}

export interface GuildRecord {
  id: string;
  name: string;
  ownerId: string;
  createdAt: number;
}

export type ChannelKind = 'text' | 'public-thread' | 'private-thread';

export interface ChannelRecord {
  id: string;
  guildId: string;
  name: string;
  kind: ChannelKind;
  parentId: string | null;
  topic: string | null;
  ownerId: string | null;
  /** The message a thread was started from; for such threads Discord reuses the message id as the thread id. */
  starterMessageId: string | null;
  archived: boolean;
  locked: boolean;
  autoArchiveMinutes: 60 | 1440 | 4320 | 10080;
  createdAt: number;
  /** Order of creation across the twin, so transcripts can place a thread among its parent's messages. */
  seq: number;
}

export interface AttachmentRecord {
  id: string;
  filename: string;
  contentType: string | undefined;
  description: string | undefined;
  bytes: Buffer;
}

export type MessageSource = 'user' | 'bot' | 'interaction-response' | 'follow-up';

export interface MessageRecord {
  id: string;
  channelId: string;
  guildId: string;
  authorId: string;
  source: MessageSource;
  content: string;
  embeds: APIEmbed[];
  components: APIMessageTopLevelComponent[];
  attachments: AttachmentRecord[];
  /** As the bot sent it; undefined when the request had none (Discord then applies the app's defaults). */
  allowedMentions: APIAllowedMentions | undefined;
  /** Users whose mention actually pinged them after allowed_mentions was applied. */
  mentionedUserIds: string[];
  mentionedRoleIds: string[];
  mentionEveryone: boolean;
  replyTo: { messageId: string; channelId: string } | null;
  flags: number;
  /** Deferred interaction reply that still shows "thinking…". */
  loading: boolean;
  interactionId: string | null;
  threadId: string | null;
  reactions: Array<{ emoji: string; userId: string }>;
  tts: boolean;
  nonce: string | number | undefined;
  createdAt: number;
  editedAt: number | null;
  editCount: number;
  deleted: boolean;
  seq: number;
}

export type InteractionKind = 'command' | 'autocomplete' | 'component';

export interface CallbackRecord {
  /** InteractionResponseType as the bot sent it. */
  type: number;
  data: unknown;
  at: number;
  /** HTTP status the twin answered with; 204/200 accepted, 404 10062 late, 400 40060 double. */
  status: number;
  errorCode: number | null;
}

export interface InteractionRecord {
  id: string;
  token: string;
  kind: InteractionKind;
  guildId: string;
  channelId: string;
  userId: string;
  commandId: string | null;
  commandName: string | null;
  /** `sb send name:kumo` style, for transcripts and error messages. */
  summary: string;
  customId: string | null;
  /** ComponentType of what was clicked or picked. */
  componentType: number | null;
  /** The message whose component was clicked. */
  sourceMessageId: string | null;
  createdAt: number;
  seq: number;
  callbacks: CallbackRecord[];
  acknowledged: boolean;
  /** The user sees an answer: a message (type 4), an updated message (type 7), or a deferred reply filled in. */
  answered: boolean;
  /** Message that @original resolves to once acknowledged. */
  originalMessageId: string | null;
  followUpIds: string[];
  choices: APIApplicationCommandOptionChoice[] | null;
  modal: unknown;
}

export interface CommandRecord {
  scope: 'global' | { guildId: string };
  command: APIApplicationCommand;
}

export interface FileRecord {
  messageId: string;
  channelId: string;
  attachmentId: string;
  filename: string;
  contentType: string | undefined;
  description: string | undefined;
  bytes: Buffer;
  size: number;
  /** Who uploaded it: the bot through REST or a test user. */
  uploadedBy: 'bot' | 'user';
}

export type WorldChange =
  | { kind: 'message-created' | 'message-updated' | 'message-deleted'; message: MessageRecord }
  | { kind: 'channel-created' | 'channel-updated'; channel: ChannelRecord }
  | { kind: 'interaction-created' | 'interaction-updated'; interaction: InteractionRecord }
  | { kind: 'commands-changed' };

export type WorldListener = (change: WorldChange) => void;

export class World {
  readonly users = new Map<string, UserRecord>();
  readonly guilds = new Map<string, GuildRecord>();
  readonly roles = new Map<string, RoleRecord>();
  /** Keyed by `${guildId}:${userId}`. */
  readonly members = new Map<string, MemberRecord>();
  readonly channels = new Map<string, ChannelRecord>();
  readonly messages = new Map<string, MessageRecord>();
  readonly interactions = new Map<string, InteractionRecord>();
  readonly interactionsByToken = new Map<string, InteractionRecord>();
  readonly commands: CommandRecord[] = [];
  readonly files: FileRecord[] = [];
  readonly botUser: UserRecord;
  readonly applicationId: string;
  private seq = 0;
  private readonly listeners = new Set<WorldListener>();

  constructor(
    private readonly options: ResolvedOptions,
    readonly newId: SnowflakeFactory,
  ) {
    this.botUser = { id: options.botUserId, username: options.botUsername, globalName: null, bot: true };
    this.applicationId = options.applicationId;
    this.users.set(this.botUser.id, this.botUser);
    for (const spec of options.guilds) this.addGuild(spec);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  now(): number {
    return this.options.clock.now();
  }

  onChange(listener: WorldListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: WorldChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }

  member(guildId: string, userId: string): MemberRecord | undefined {
    return this.members.get(`${guildId}:${userId}`);
  }

  /** Test actors may name users the fixture did not list; like a new member joining, they are added on first use. */
  ensureMember(guildId: string, userId: string, patch: { username?: string; roles?: string[]; nick?: string } = {}): MemberRecord {
    let user = this.users.get(userId);
    if (!user) {
      user = { id: userId, username: patch.username ?? `user${userId.slice(-4)}`, globalName: null, bot: false };
      this.users.set(userId, user);
    } else if (patch.username) {
      user.username = patch.username;
    }
    let member = this.member(guildId, userId);
    if (!member) {
      member = { guildId, userId, roles: [], nick: null, joinedAt: this.now() };
      this.members.set(`${guildId}:${userId}`, member);
    }
    if (patch.roles) {
      const unknown = patch.roles.filter((id) => this.roles.get(id)?.guildId !== guildId);
      if (unknown.length > 0) throw new Error(`Discord twin: unknown role(s) ${unknown.join(', ')} in guild ${guildId}`);
      member.roles = [...patch.roles];
    }
    if (patch.nick !== undefined) member.nick = patch.nick;
    return member;
  }

  channelOrThrow(channelId: string): ChannelRecord {
    const channel = this.channels.get(channelId);
    if (!channel) {
      throw new Error(`Discord twin: unknown channel ${channelId} (known: ${[...this.channels.keys()].join(', ') || 'none'})`);
    }
    return channel;
  }

  userName(userId: string): string {
    return this.users.get(userId)?.username ?? userId;
  }

  /** Messages of one channel in creation order, deleted ones left out unless asked for. */
  channelMessages(channelId: string, includeDeleted = false): MessageRecord[] {
    return [...this.messages.values()]
      .filter((m) => m.channelId === channelId && (includeDeleted || !m.deleted))
      .sort((a, b) => a.seq - b.seq);
  }

  addChannel(channel: Omit<ChannelRecord, 'seq'>): ChannelRecord {
    const record = { ...channel, seq: this.nextSeq() };
    this.channels.set(record.id, record);
    return record;
  }

  private addGuild(spec: ResolvedOptions['guilds'][number]): void {
    const now = this.now();
    const members = spec.members ?? [];
    this.guilds.set(spec.id, {
      id: spec.id,
      name: spec.name ?? `guild-${spec.id.slice(-4)}`,
      ownerId: spec.ownerId ?? members[0]?.id ?? this.botUser.id,
      createdAt: now,
    });
    // @everyone shares the guild's id; Discord's default set lets members read, send and use commands.
    this.roles.set(spec.id, { id: spec.id, guildId: spec.id, name: '@everyone', permissions: EVERYONE_PERMISSIONS, position: 0, managed: false });
    (spec.roles ?? []).forEach((role, index) => {
      this.roles.set(role.id, {
        id: role.id,
        guildId: spec.id,
        name: role.name ?? `role-${role.id.slice(-4)}`,
        permissions: role.permissions ?? '0',
        position: index + 1,
        managed: false,
      });
    });
    for (const member of members) {
      this.users.set(member.id, {
        id: member.id,
        username: member.username ?? `user${member.id.slice(-4)}`,
        globalName: member.globalName ?? null,
        bot: member.bot ?? false,
      });
      this.ensureMember(spec.id, member.id, { roles: member.roles ?? [], ...(member.nick ? { nick: member.nick } : {}) });
    }
    // The bot joined with its own managed role, as OAuth2 bot invites do; Administrator keeps permission checks quiet.
    const botRoleId = this.newId();
    this.roles.set(botRoleId, {
      id: botRoleId,
      guildId: spec.id,
      name: this.botUser.username,
      permissions: ADMINISTRATOR,
      position: (spec.roles?.length ?? 0) + 1,
      managed: true,
    });
    this.members.set(`${spec.id}:${this.botUser.id}`, { guildId: spec.id, userId: this.botUser.id, roles: [botRoleId], nick: null, joinedAt: now });
    for (const channel of spec.channels ?? []) {
      this.addChannel({
        id: channel.id,
        guildId: spec.id,
        name: channel.name ?? `channel-${channel.id.slice(-4)}`,
        kind: channel.type === 'thread' ? 'public-thread' : 'text',
        parentId: channel.parentId ?? null,
        topic: channel.topic ?? null,
        ownerId: channel.type === 'thread' ? this.botUser.id : null,
        starterMessageId: null,
        archived: false,
        locked: false,
        autoArchiveMinutes: 1440,
        createdAt: now,
      });
    }
  }
}

// VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | ADD_REACTIONS | ATTACH_FILES | EMBED_LINKS | USE_APPLICATION_COMMANDS
// | SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS
const EVERYONE_PERMISSIONS = (
  (1n << 10n) | (1n << 11n) | (1n << 16n) | (1n << 6n) | (1n << 15n) | (1n << 14n) | (1n << 31n) | (1n << 38n) | (1n << 35n)
).toString();
const ADMINISTRATOR = (1n << 3n).toString();
