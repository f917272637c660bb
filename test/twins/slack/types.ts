/**
 * Public data shapes of the Slack twin. Everything a test reads back is a plain, frozen snapshot, so an assertion
 * can never mutate the twin's state and a value captured mid-test keeps showing what Slack showed at that moment.
 */

/** A Block Kit block as the twin stores it: only `type` is guaranteed, the rest is kept verbatim. */
export interface Block {
  readonly type: string;
  readonly block_id?: string;
  readonly [key: string]: unknown;
}

export type Via = 'http' | 'socket';

/** One earlier version of an edited message. */
export interface MessageVersion {
  readonly text: string;
  readonly blocks: readonly Block[] | undefined;
  /** Global sequence number of the call that replaced this version. */
  readonly replacedAtSeq: number;
}

/** How a message came to exist; lets tests tell a `respond()` reply from a `chat.postMessage`. */
/** `ack` is a command ack with `response_type: 'in_channel'`, which Slack posts to the channel. */
export type MessageSource = 'chat.postMessage' | 'response_url' | 'ack' | 'user' | 'file_upload';

export interface SlackMessage {
  readonly channel: string;
  readonly ts: string;
  /** The parent's ts for thread replies; undefined for top-level messages (Slack also sets it on parents). */
  readonly threadTs: string | undefined;
  /** Author: the bot user id for bot posts, the human's id for `user(...).say()`. */
  readonly user: string;
  readonly botId: string | undefined;
  readonly text: string;
  readonly blocks: readonly Block[] | undefined;
  /** What a person would read: blocks rendered to text when present, otherwise `text`. */
  readonly visibleText: string;
  readonly files: readonly SlackFile[];
  /** Earlier versions, oldest first; empty if never edited. */
  readonly edits: readonly MessageVersion[];
  readonly edited: boolean;
  readonly deleted: boolean;
  readonly replyBroadcast: boolean;
  readonly source: MessageSource;
  /** Global sequence number at creation (orders messages, commands and responses against each other). */
  readonly seq: number;
  /** The decoded arguments of the call that created the message, for assertions on anything else. */
  readonly args: Readonly<Record<string, unknown>>;
}

export interface EphemeralMessage {
  readonly channel: string;
  /** The only user who sees it. */
  readonly user: string;
  readonly ts: string;
  readonly threadTs: string | undefined;
  readonly text: string;
  readonly blocks: readonly Block[] | undefined;
  readonly visibleText: string;
  readonly source: 'chat.postEphemeral' | 'response_url' | 'ack';
  readonly seq: number;
}

export interface SlackFile {
  readonly id: string;
  readonly filename: string;
  readonly title: string;
  /** The bytes POSTed to the upload URL. */
  readonly content: Buffer;
  /** `content` decoded as UTF-8, for text files. */
  readonly text: string;
  /** The length the client declared in files.getUploadURLExternal. */
  readonly declaredLength: number;
  readonly altText: string | undefined;
  readonly snippetType: string | undefined;
  /** Set once files.completeUploadExternal shared it. */
  readonly channel: string | undefined;
  readonly threadTs: string | undefined;
  readonly initialComment: string | undefined;
  /** ts of the message that shares the file, if it was shared to a channel. */
  readonly messageTs: string | undefined;
  readonly uploaded: boolean;
  readonly completed: boolean;
  readonly seq: number;
}

export type ApiOutcome = 'ok' | 'error' | 'rate_limited' | 'http_error';

/** Every request that reached the twin's Web API, including rejected and rate-limited ones. */
export interface ApiCall {
  readonly seq: number;
  /** Wall-clock ms from the twin's clock. */
  readonly at: number;
  readonly method: string;
  readonly args: Readonly<Record<string, unknown>>;
  /** Which token authenticated it (the bearer header wins over a `token` body field). */
  readonly token: string | undefined;
  readonly outcome: ApiOutcome;
  readonly status: number;
  /** The Slack error code for `outcome: 'error'` (e.g. `msg_too_long`), `ratelimited` for 429s. */
  readonly error: string | undefined;
  readonly retryAfterSec: number | undefined;
  readonly response: Readonly<Record<string, unknown>>;
}

/** What a user did that reached the app: a slash command, a button click or a message event. */
export interface Invocation {
  readonly id: string;
  readonly kind: 'command' | 'action' | 'event';
  readonly user: string;
  readonly channel: string;
  readonly via: Via;
  readonly seq: number;
  /** For commands: `/sb`. */
  readonly command: string | undefined;
  /** Command text, or message text for events. */
  readonly text: string | undefined;
  readonly actionId: string | undefined;
  readonly value: string | undefined;
  /** For actions: the ts of the message holding the button. */
  readonly messageTs: string | undefined;
  readonly threadTs: string | undefined;
  readonly responseUrl: string | undefined;
  readonly triggerId: string | undefined;
  /** Undefined while the app has not answered yet. */
  readonly ack: Ack | undefined;
}

/** What the app acknowledged, normalised across HTTP and Socket Mode. */
export interface Ack {
  readonly via: Via;
  /** The HTTP status from Bolt's receiver (401 for bad signatures); 200 for socket acks. */
  readonly status: number;
  /** Parsed JSON, a plain string, or undefined for an empty body. */
  readonly body: unknown;
  /** `body` when it is a string, `body.text` when it is an object. */
  readonly text: string | undefined;
  readonly blocks: readonly Block[] | undefined;
  readonly responseType: string | undefined;
  /** True for `ack()` without a payload. */
  readonly empty: boolean;
}

/** One POST the app made to a `response_url` (what Bolt's `respond()` sends). */
export interface ResponsePost {
  readonly seq: number;
  readonly invocationId: string;
  readonly invocation: Invocation;
  readonly body: Readonly<Record<string, unknown>>;
  readonly text: string | undefined;
  readonly blocks: readonly Block[] | undefined;
  readonly responseType: 'ephemeral' | 'in_channel';
  readonly replaceOriginal: boolean;
  readonly deleteOriginal: boolean;
  /** HTTP status the twin answered (404 once the URL is used up). */
  readonly status: number;
}

/** A Socket Mode envelope the twin pushed, with the app's ack once it arrived. */
export interface SocketEnvelope {
  readonly envelopeId: string;
  readonly type: 'slash_commands' | 'interactive' | 'events_api';
  readonly payload: Readonly<Record<string, unknown>>;
  readonly ackPayload: Readonly<Record<string, unknown>> | undefined;
  readonly acked: boolean;
}
