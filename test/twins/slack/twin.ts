import { ChangeSignal } from './change-signal.js';
import { Delivery } from './delivery.js';
import { EventRetries, SLACK_EVENT_RETRIES, type EventAttempt, type EventRetryPolicy, type LostStage } from './event-retries.js';
import { SharedFiles } from './shared-files.js';
import { listenTwinServer, type ListeningServer, type RouteReply } from './http-server.js';
import { createIdSource } from './ids.js';
import { receiveUploadBytes } from './methods/files.js';
import {
  describeFilter,
  describeList,
  describeMessage,
  matchesApiCall,
  matchesEphemeral,
  matchesFile,
  matchesMessage,
  matchesResponse,
  truncate,
  type ApiCallFilter,
  type EphemeralFilter,
  type FileFilter,
  type MessageFilter,
  type ResponseFilter,
  type WaitOptions,
} from './queries.js';
import { RateLimiter, type FailureSpec } from './rate-limiter.js';
import { handleResponseUrlPost } from './response-urls.js';
import type { Signing } from './signing.js';
import {
  envelopeSnapshot,
  ephemeralSnapshot,
  fileSnapshot,
  invocationSnapshot,
  messageSnapshot,
  responseSnapshot,
} from './snapshots.js';
import { SocketModeServer } from './socket-mode.js';
import { TwinState } from './state.js';
import { renderTranscript, type TranscriptOptions } from './transcript.js';
import type {
  Ack,
  ApiCall,
  EphemeralMessage,
  Invocation,
  ResponsePost,
  SlackFile,
  SlackMessage,
  SocketEnvelope,
} from './types.js';
import { SlackUser, type SubscribedEvent } from './user.js';
import { handleApiRequest, type WebApiDeps } from './web-api.js';
import { Workspace, type BotIdentity, type ChannelInfo, type TeamIdentity } from './workspace.js';

export interface SlackTwinOptions {
  /** The secret inbound requests are signed with; give Bolt the same one. */
  readonly signingSecret: string;
  /** Bearer token the Web API accepts (default `xoxb-twin`). */
  readonly botToken?: string;
  /** Token apps.connections.open accepts (default `xapp-twin`). */
  readonly appToken?: string;
  readonly team?: Partial<TeamIdentity>;
  readonly bot?: Partial<BotIdentity>;
  /** Channels that exist from the start. Others appear when a user acts in them or via `addChannel`. */
  readonly channels?: ReadonlyArray<{ id: string; name?: string; isPrivate?: boolean }>;
  readonly users?: ReadonlyArray<{ id: string; name?: string; realName?: string }>;
  /** HTTP-mode target, e.g. `http://127.0.0.1:PORT/slack/events`; can be set later with `setEventsUrl`. */
  readonly eventsUrl?: string;
  /** Events a `user().say()` produces (default both). */
  readonly subscribedEvents?: readonly SubscribedEvent[];
  /** Wall clock for recorded times, signatures and the per-channel interval (default `Date.now`). */
  readonly clock?: { now(): number };
  /** Default for every `waitFor…` (default 5000 ms). */
  readonly defaultTimeoutMs?: number;
  /** How long a Socket Mode envelope may go unacked (default 3000 ms, Slack's deadline). */
  readonly socketAckTimeoutMs?: number;
  /** Events API over HTTP: Slack's 3 s deadline and its retries at once, after 1 min and after 5 min (shorten in tests). */
  readonly eventRetries?: Partial<EventRetryPolicy>;
  /** How long an inbound HTTP request may take (default 10 000 ms; Bolt answers 404 itself after ~3 s). */
  readonly httpTimeoutMs?: number;
  /** How long `close()` lets Socket Mode clients finish their close handshake (default 1000 ms). */
  readonly closeGraceMs?: number;
  /** Interface to listen on (default 127.0.0.1). The port is always chosen by the OS. */
  readonly host?: string;
}

export async function startSlackTwin(options: SlackTwinOptions): Promise<SlackTwin> {
  const twin = new SlackTwin(options);
  await twin.listen();
  return twin;
}

/**
 * An in-process Slack: Web API, signed inbound webhooks, response_urls and Socket Mode on one 127.0.0.1 port.
 * Construct it with `startSlackTwin`; point Bolt at `apiUrl`; drive it through `user(id)`; assert through the
 * list, wait and transcript methods.
 */
export class SlackTwin {
  readonly signingSecret: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly workspace: Workspace;

  private readonly state: TwinState;
  private readonly limiter = new RateLimiter();
  private readonly socket: SocketModeServer;
  private readonly delivery: Delivery;
  private readonly eventRetries: EventRetries;
  private readonly clock: { now(): number };
  private readonly subscribedEvents: readonly SubscribedEvent[];
  private readonly defaultTimeoutMs: number;
  private readonly closeGraceMs: number;
  private readonly host: string;
  private readonly users = new Map<string, SlackUser>();
  /** Files people shared in messages, served at their url_private_download to a valid token only. */
  readonly sharedFiles: SharedFiles;
  private listening: ListeningServer | undefined;
  private currentEventsUrl: string | undefined;
  private closed = false;

  /** Use `startSlackTwin`; the constructor does not listen. */
  constructor(options: SlackTwinOptions) {
    this.signingSecret = options.signingSecret;
    this.botToken = options.botToken ?? 'xoxb-twin';
    this.appToken = options.appToken ?? 'xapp-twin';
    this.clock = options.clock ?? { now: () => Date.now() };
    this.subscribedEvents = options.subscribedEvents ?? ['message', 'app_mention'];
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 5_000;
    this.closeGraceMs = options.closeGraceMs ?? 1_000;
    this.host = options.host ?? '127.0.0.1';
    this.currentEventsUrl = options.eventsUrl;
    this.state = new TwinState(createIdSource(), new ChangeSignal());
    this.sharedFiles = new SharedFiles(
      () => this.state.ids.nextId('F'),
      () => this.url,
      options.team?.id ?? 'TTWIN0001',
      () => [this.botToken],
    );
    this.workspace = new Workspace(
      { id: options.team?.id ?? 'TTWIN0001', domain: options.team?.domain ?? 'twin' },
      {
        userId: options.bot?.userId ?? 'UBOT0001',
        botId: options.bot?.botId ?? 'BBOT0001',
        appId: options.bot?.appId ?? 'ATWIN0001',
        name: options.bot?.name ?? 'switchboard',
      },
    );
    for (const c of options.channels ?? []) this.workspace.addChannel(c.id, c);
    for (const u of options.users ?? []) this.workspace.addUser(u.id, u);
    this.socket = new SocketModeServer({
      state: this.state,
      appId: this.workspace.bot.appId,
      ackTimeoutMs: options.socketAckTimeoutMs ?? 3_000,
    });
    this.eventRetries = new EventRetries({ ...SLACK_EVENT_RETRIES, ...options.eventRetries }, () => this.state.signal.notify());
    this.delivery = new Delivery({
      eventRetries: this.eventRetries,
      signingSecret: this.signingSecret,
      socket: this.socket,
      eventsUrl: () => this.currentEventsUrl,
      now: () => this.clock.now(),
      httpTimeoutMs: options.httpTimeoutMs ?? 10_000,
    });
  }

  /** @internal Called by `startSlackTwin`. */
  async listen(): Promise<void> {
    const webApi: WebApiDeps = {
      state: this.state,
      workspace: this.workspace,
      limiter: this.limiter,
      now: () => this.clock.now(),
      uploadUrlFor: (fileId) => `${this.url}/upload/${fileId}`,
      openSocketUrl: () => this.socket.issueUrl(this.url.replace(/^http/, 'ws')),
      tokens: { bot: this.botToken, app: this.appToken },
    };
    this.listening = await listenTwinServer(
      {
        api: (method, req, body) => handleApiRequest(webApi, { method, fields: body.fields, authorization: req.headers.authorization }),
        upload: (fileId, body) => this.receiveUpload(fileId, body.fields, body.raw, body.contentType),
        response: (id, body) => handleResponseUrlPost(this.state, this.workspace, id, body.fields),
        file: (id, req) => this.sharedFiles.serve(id, req.headers.authorization),
        upgrade: (req, socket, head) => this.socket.handleUpgrade(req, socket, head),
      },
      this.host,
    );
  }

  // ---- Where things are -------------------------------------------------------------------------------------

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    if (!this.listening) throw new Error('The Slack twin is not listening; create it with startSlackTwin()');
    return this.listening.origin;
  }

  get port(): number {
    return this.listening?.port ?? 0;
  }

  /** Give this to Bolt as `clientOptions.slackApiUrl` (trailing slash included, as web-api expects). */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  get bot(): BotIdentity {
    return this.workspace.bot;
  }

  get team(): TeamIdentity {
    return this.workspace.team;
  }

  get eventsUrl(): string | undefined {
    return this.currentEventsUrl;
  }

  /** Where HTTP-mode requests go, e.g. `http://127.0.0.1:${port}/slack/events` of a started Bolt App. */
  setEventsUrl(url: string): void {
    this.currentEventsUrl = url;
  }

  // ---- Setting the scene ------------------------------------------------------------------------------------

  /** A person; registers them on first use. `name` is what users.info and transcripts show. */
  user(id: string, profile: { name?: string; realName?: string } = {}): SlackUser {
    const known = this.users.get(id);
    if (known && profile.name === undefined && profile.realName === undefined) return known;
    const user = new SlackUser(this.userDeps(), this.workspace.addUser(id, profile));
    this.users.set(id, user);
    return user;
  }

  addChannel(id: string, options: { name?: string; isPrivate?: boolean } = {}): ChannelInfo {
    return this.workspace.addChannel(id, options);
  }

  /** Minimum gap between chat.postMessage calls per channel; closer posts get a 429 (Retry-After rounded up). */
  get channelMinIntervalMs(): number {
    return this.limiter.channelMinIntervalMs;
  }

  set channelMinIntervalMs(ms: number) {
    this.limiter.channelMinIntervalMs = ms;
  }

  /** chat.update's Tier 3 limit (default 50 per 60 s per workspace); past it a 429 with Retry-After. */
  setUpdateLimit(limit: number, windowMs = 60_000): void {
    this.limiter.updateLimit = limit;
    this.limiter.updateWindowMs = windowMs;
  }

  /**
   * Makes the next `count` calls to `method` (or `*`) fail: a 429 with Retry-After by default, another HTTP
   * status, or a Slack error body (`{error: 'channel_not_found'}`). See rate-limiter.ts for fractional seconds.
   */
  failNext(method: string, spec: FailureSpec = {}): void {
    this.limiter.failNext(method, spec);
  }

  /** Sends Slack's `{type:'disconnect'}` to connected Socket Mode apps; they reconnect on their own. */
  requestSocketReconnect(reason = 'refresh_requested'): void {
    this.socket.requestReconnect(reason);
  }

  /**
   * The network loses the next `count` Events API deliveries over HTTP: the request before it reaches the app,
   * or the app's answer on the way back. Slack then retries (see event-retries.ts).
   */
  loseNextEvent(stage: LostStage, count = 1): void {
    this.eventRetries.loseNext(stage, count);
  }

  /** The same loss over Socket Mode: the envelope comes again, same envelope_id, after the reconnect it causes. */
  loseNextEnvelope(stage: LostStage, count = 1): void {
    this.socket.loseNext(stage, count);
  }

  /** Every Events API delivery attempt over HTTP, retries included, in order. */
  eventAttempts(): EventAttempt[] {
    return [...this.eventRetries.attempts];
  }

  /** Signs and POSTs any body to the events URL: for receiver tests the actors do not cover. */
  postSigned(body: string, options: { contentType?: string; signing?: Signing; url?: string } = {}): Promise<Ack> {
    const url = options.url ?? this.currentEventsUrl;
    if (!url) throw new Error('No events URL: pass options.url or call setEventsUrl() first');
    return this.delivery.postSigned(url, body, options.contentType ?? 'application/x-www-form-urlencoded', options.signing);
  }

  // ---- What happened ----------------------------------------------------------------------------------------

  messages(filter: MessageFilter = {}): SlackMessage[] {
    return this.allMessages().filter((m) => matchesMessage(m, filter, this.bot.userId));
  }

  /** Someone deletes a message in the Slack client; the Web API then answers `message_not_found` for it. */
  deleteMessage(channel: string, ts: string): void {
    const record = this.state.findMessage(channel, ts);
    if (!record || record.deleted) throw new Error(`No message ${ts} in ${channel} to delete`);
    this.state.deleteMessage(record);
  }

  /** The current version of one message (after any edits), or undefined. */
  message(channel: string, ts: string): SlackMessage | undefined {
    const record = this.state.findMessage(channel, ts);
    return record ? messageSnapshot(record, this.state.files) : undefined;
  }

  ephemerals(filter: EphemeralFilter = {}): EphemeralMessage[] {
    return this.state.ephemerals.map(ephemeralSnapshot).filter((e) => matchesEphemeral(e, filter));
  }

  files(filter: FileFilter = {}): SlackFile[] {
    return [...this.state.files.values()].map(fileSnapshot).filter((f) => matchesFile(f, filter));
  }

  responses(filter: ResponseFilter = {}): ResponsePost[] {
    return this.state.responses.flatMap((r) => {
      const invocation = this.state.invocations.get(r.invocationId);
      const snapshot = invocation ? responseSnapshot(r, invocation) : undefined;
      return snapshot && matchesResponse(snapshot, filter) ? [snapshot] : [];
    });
  }

  apiCalls(filter: ApiCallFilter = {}): ApiCall[] {
    return this.state.apiCalls.filter((c) => matchesApiCall(c, filter));
  }

  /** Commands, clicks and events users sent, with the app's acks. */
  invocations(): Invocation[] {
    return [...this.state.invocations.values()].map(invocationSnapshot);
  }

  /** Socket Mode envelopes pushed to the app, with their acks. */
  envelopes(): SocketEnvelope[] {
    return this.state.envelopes.map(envelopeSnapshot);
  }

  get socketConnections(): number {
    return this.state.socketConnections;
  }

  /** The channel as a person would read it; see transcript.ts for the format. */
  transcript(channel: string, options: TranscriptOptions = {}): string {
    return renderTranscript(
      channel,
      {
        messages: this.allMessages(),
        ephemerals: this.state.ephemerals.map(ephemeralSnapshot),
        invocations: this.invocations(),
        displayName: (id) => this.workspace.displayName(id),
      },
      options,
    );
  }

  // ---- Waiting ----------------------------------------------------------------------------------------------

  /** The first message matching `filter`, now or when it arrives (an edit that makes it match counts). */
  waitForMessage(filter: MessageFilter & WaitOptions = {}): Promise<SlackMessage> {
    return this.waitFor(
      () => this.messages(filter)[0],
      filter,
      'message',
      () => describeList(this.allMessages(), describeMessage, 'messages'),
    );
  }

  /** Resolves once at least `count` messages match, with the first `count` of them. */
  waitForMessages(count: number, filter: MessageFilter & WaitOptions = {}): Promise<SlackMessage[]> {
    return this.waitFor(
      () => {
        const found = this.messages(filter);
        return found.length >= count ? found.slice(0, count) : undefined;
      },
      filter,
      `${count} messages`,
      () => describeList(this.allMessages(), describeMessage, 'messages'),
    );
  }

  waitForEphemeral(filter: EphemeralFilter & WaitOptions = {}): Promise<EphemeralMessage> {
    return this.waitFor(
      () => this.ephemerals(filter)[0],
      filter,
      'ephemeral message',
      () => describeList(this.ephemerals(), (e) => `${e.channel} to ${e.user}: ${JSON.stringify(truncate(e.visibleText))}`, 'ephemeral messages'),
    );
  }

  waitForFile(filter: FileFilter & WaitOptions = {}): Promise<SlackFile> {
    return this.waitFor(
      () => this.files(filter)[0],
      filter,
      'file',
      () =>
        describeList(
          this.files({ includeIncomplete: true }),
          (f) => `${f.id} ${f.filename} channel=${f.channel ?? '-'} completed=${f.completed}`,
          'files',
        ),
    );
  }

  waitForResponse(filter: ResponseFilter & WaitOptions = {}): Promise<ResponsePost> {
    return this.waitFor(
      () => this.responses(filter)[0],
      filter,
      'response_url post',
      () =>
        describeList(
          this.responses(),
          (r) => `${r.invocationId} (${r.invocation.command ?? r.invocation.actionId ?? r.invocation.kind}) ${r.responseType}: ${JSON.stringify(truncate(r.text ?? ''))}`,
          'response_url posts',
        ),
    );
  }

  waitForApiCall(filter: ApiCallFilter & WaitOptions = {}): Promise<ApiCall> {
    return this.waitFor(
      () => this.apiCalls(filter)[0],
      filter,
      'API call',
      () => describeList(this.state.apiCalls, (c) => `${c.method} → ${c.outcome}${c.error ? ` (${c.error})` : ''}`, 'API calls'),
    );
  }

  /**
   * The escape hatch: resolves with the first truthy value `probe` returns, re-checked on every change in the
   * twin. `description` goes into the timeout message.
   */
  waitUntil<R>(
    probe: () => R | undefined | null | false,
    options: WaitOptions & { description?: string } = {},
  ): Promise<R> {
    const { description = 'a condition', ...rest } = options;
    return this.waitFor(
      () => probe() || undefined,
      rest,
      description,
      () => describeList(this.state.apiCalls, (c) => `${c.method} → ${c.outcome}`, 'API calls'),
    );
  }

  /** Resolves once `count` Socket Mode connections are open (default 1). */
  waitForSocketConnection(options: WaitOptions & { count?: number } = {}): Promise<number> {
    const count = options.count ?? 1;
    return this.waitFor(
      () => (this.state.socketConnections >= count ? this.state.socketConnections : undefined),
      options,
      `${count} Socket Mode connection(s)`,
      () => `${this.state.socketConnections} open.`,
    );
  }

  // ---- Shutdown ---------------------------------------------------------------------------------------------

  /** Stop your Bolt App first; this gives its socket `closeGraceMs` to close, then shuts everything down. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.state.signal.close();
    await this.socket.close(this.closeGraceMs);
    await this.listening?.close();
  }

  // ---- Internals --------------------------------------------------------------------------------------------

  private allMessages(): SlackMessage[] {
    return this.state.messages.map((m) => messageSnapshot(m, this.state.files));
  }

  private waitFor<R>(
    probe: () => R | undefined,
    filter: object & WaitOptions,
    what: string,
    arrived: () => string,
  ): Promise<R> {
    const { timeoutMs = this.defaultTimeoutMs, ...criteria } = filter;
    return this.state.signal.waitUntil(probe, {
      timeoutMs,
      describeTimeout: () => {
        const matching = Object.keys(criteria).length > 0 ? ` matching ${describeFilter(criteria)}` : '';
        return `Timed out after ${timeoutMs} ms waiting for ${what}${matching}.\n${arrived()}`;
      },
    });
  }

  private receiveUpload(fileId: string, fields: Record<string, unknown>, raw: Buffer, contentType: string): RouteReply {
    const file = this.state.files.get(fileId);
    const reply = receiveUploadBytes(file, fields, raw, contentType);
    this.state.changedFile();
    this.state.addApiCall({
      at: this.clock.now(),
      method: 'upload_url',
      args: { file_id: fileId, bytes: file?.content.length ?? 0 },
      token: undefined,
      outcome: reply.status === 200 ? 'ok' : 'http_error',
      status: reply.status,
      error: reply.status === 200 ? undefined : reply.text,
      retryAfterSec: undefined,
      response: { text: reply.text },
    });
    return { status: reply.status, body: reply.text };
  }

  private userDeps(): ConstructorParameters<typeof SlackUser>[0] {
    return {
      state: this.state,
      workspace: this.workspace,
      delivery: this.delivery,
      subscribedEvents: this.subscribedEvents,
      responseUrlFor: (id) => `${this.url}/response/${id}`,
      shareFile: (file, user) => this.sharedFiles.share(file, user, this.clock.now()),
      now: () => this.clock.now(),
      invocationSnapshot,
      messageSnapshot: (channel, ts) => this.message(channel, ts),
      responses: (filter) => this.responses(filter),
      waitForResponse: (filter) => this.waitForResponse(filter),
    };
  }
}
