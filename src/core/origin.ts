/**
 * Where a command came from and where its answers go: an adapter, a channel on it, optionally a thread.
 * `replyHandle` is adapter-private (a Discord interaction token, say); the core only stores and returns it.
 */
export interface Origin {
  adapter: string;
  channel: string;
  thread?: string;
  replyHandle?: string;
}

/** Actors are `slack:U123`, `discord:456`, `console:alice`. Roles of a Discord user come along for access. */
export interface Actor {
  id: string;
  /** A display name for messages; never used for access decisions. */
  name?: string;
  /** Extra identities that access rules may match, such as `discord-role:789`. */
  groups?: string[];
}

/** Channel identity without the per-message reply handle: the key for choices and outbox lanes. */
export function originKey(origin: Origin): string {
  return `${origin.adapter}:${origin.channel}${origin.thread ? `:${origin.thread}` : ''}`;
}

export function channelOf(origin: Origin): Origin {
  return origin.thread === undefined
    ? { adapter: origin.adapter, channel: origin.channel }
    : { adapter: origin.adapter, channel: origin.channel, thread: origin.thread };
}
