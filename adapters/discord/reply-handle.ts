/**
 * The adapter-private `origin.replyHandle`: how the answer to one command reaches the person who asked. The
 * core stores it with the outgoing message and hands it back, so it must say everything delivery needs.
 *
 * - `<applicationId>:<token>:<channelId>:reply` — a slash command, deferred with a "thinking…" reply that the
 *   answer replaces (`PATCH /webhooks/<app>/<token>/messages/@original`; the token lives 15 minutes);
 * - `<applicationId>:<token>:<channelId>:update` — a button press, deferred as an update; only private answers
 *   use the token (an ephemeral follow-up), others go to the channel;
 * - `msg:<channelId>:<messageId>` — a `!sb` message, answered as a Discord reply to it (without a ping).
 *
 * The channel is the one the person typed in: when the outbox routes the answer into a name's thread instead,
 * delivery can tell, and still closes the "thinking…" reply where the person is looking.
 */
export type ReplyHandle =
  | { kind: 'interaction'; applicationId: string; token: string; channelId: string; deferred: 'reply' | 'update' }
  | { kind: 'message'; channelId: string; messageId: string };

export function encodeReplyHandle(handle: ReplyHandle): string {
  return handle.kind === 'message'
    ? `msg:${handle.channelId}:${handle.messageId}`
    : `${handle.applicationId}:${handle.token}:${handle.channelId}:${handle.deferred}`;
}

/** Undefined for a missing or foreign handle: the answer then simply goes to the channel. */
export function decodeReplyHandle(raw: string | undefined): ReplyHandle | undefined {
  if (!raw) return undefined;
  const message = /^msg:(\d+):(\d+)$/.exec(raw);
  if (message) return { kind: 'message', channelId: message[1]!, messageId: message[2]! };
  // Interaction tokens are long and URL-safe; they contain no colon, so the parts split cleanly.
  const interaction = /^(\d+):([^:\s/]+):(\d+):(reply|update)$/.exec(raw);
  if (interaction) {
    return {
      kind: 'interaction',
      applicationId: interaction[1]!,
      token: interaction[2]!,
      channelId: interaction[3]!,
      deferred: interaction[4] as 'reply' | 'update',
    };
  }
  return undefined;
}
