/**
 * Who and what exists in the fake workspace. Channels and users must exist before the bot can post to them, so an
 * adapter that posts to a mistyped or unconfigured channel gets `channel_not_found` here just as it would on Slack.
 * A channel or user comes into existence when a test declares it or when a user acts in it.
 */
export interface ChannelInfo {
  readonly id: string;
  readonly name: string;
  readonly isIm: boolean;
  readonly isPrivate: boolean;
  /** For DMs: the human on the other side. */
  readonly imUser: string | undefined;
}

export interface UserInfo {
  readonly id: string;
  readonly name: string;
  readonly realName: string;
  readonly isBot: boolean;
}

export interface BotIdentity {
  readonly userId: string;
  readonly botId: string;
  readonly appId: string;
  readonly name: string;
}

export interface TeamIdentity {
  readonly id: string;
  readonly domain: string;
}

export class Workspace {
  private readonly channels = new Map<string, ChannelInfo>();
  private readonly users = new Map<string, UserInfo>();

  constructor(
    readonly team: TeamIdentity,
    readonly bot: BotIdentity,
  ) {
    this.users.set(bot.userId, { id: bot.userId, name: bot.name, realName: bot.name, isBot: true });
  }

  addChannel(id: string, options: { name?: string; isPrivate?: boolean } = {}): ChannelInfo {
    const existing = this.channels.get(id);
    const channel: ChannelInfo = {
      id,
      name: options.name ?? existing?.name ?? id.toLowerCase(),
      isIm: existing?.isIm ?? false,
      isPrivate: options.isPrivate ?? existing?.isPrivate ?? false,
      imUser: existing?.imUser,
    };
    this.channels.set(id, channel);
    return channel;
  }

  /** Slack accepts a user id as `channel` and posts to the DM with that user; this is the DM it lands in. */
  imWith(userId: string): ChannelInfo {
    const id = `D${userId.replace(/^[UW]/, '')}`;
    const existing = this.channels.get(id);
    if (existing) return existing;
    const channel: ChannelInfo = { id, name: userId, isIm: true, isPrivate: true, imUser: userId };
    this.channels.set(id, channel);
    return channel;
  }

  /** Resolves a `channel` argument: a known channel id, or a known user id meaning their DM. */
  resolveChannel(idOrUser: string | undefined): ChannelInfo | undefined {
    if (!idOrUser) return undefined;
    const channel = this.channels.get(idOrUser);
    if (channel) return channel;
    const user = this.users.get(idOrUser);
    if (user && !user.isBot) return this.imWith(user.id);
    return undefined;
  }

  channel(id: string): ChannelInfo | undefined {
    return this.channels.get(id);
  }

  addUser(id: string, options: { name?: string; realName?: string } = {}): UserInfo {
    const existing = this.users.get(id);
    const name = options.name ?? existing?.name ?? id;
    const user: UserInfo = { id, name, realName: options.realName ?? existing?.realName ?? name, isBot: false };
    this.users.set(id, user);
    return user;
  }

  user(id: string): UserInfo | undefined {
    return this.users.get(id);
  }

  /** Display name for transcripts: the bot is always `bot`, people by their name. */
  displayName(userId: string): string {
    if (userId === this.bot.userId) return 'bot';
    return this.users.get(userId)?.name ?? userId;
  }
}
