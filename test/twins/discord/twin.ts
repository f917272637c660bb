import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIApplicationCommand } from 'discord-api-types/v10';
import { ChannelHandle, type ActorDeps, type ChannelQueries } from './actors.js';
import { CommandRegistry } from './domain/commands.js';
import { InteractionService } from './domain/interactions.js';
import { MessageService } from './domain/messages.js';
import { ThreadService } from './domain/threads.js';
import { GatewayServer, type GatewayLogEntry, type IdentifyRecord, type ResumeRecord } from './gateway/server.js';
import { createSnowflakeFactory, createTokenFactory } from './ids.js';
import { resolveOptions, type DiscordTwinOptions, type ResolvedOptions } from './options.js';
import { guildCreatePayload } from './payloads/entities.js';
import { membersChunkPayload, readyPayload } from './payloads/gateway.js';
import type { MessageContext } from './payloads/messages.js';
import {
  describeMessage,
  describeRestCall,
  describeThread,
  matchesMessage,
  matchesRestCall,
  matchesThread,
  type MessageFilter,
  type RestCallFilter,
  type ThreadFilter,
} from './queries.js';
import { EditLimit } from './rest/edit-limit.js';
import { FailureInjector, type FailureSpec, type InjectedFailure } from './rest/failures.js';
import { serveAttachment } from './rest/attachments.js';
import { buildRoutes } from './rest/routes.js';
import type { RouteMatcher } from './rest/routing.js';
import { createRestHandler, writeResult, type RestCall } from './rest/server.js';
import { interactionSnapshot, messageSnapshot, threadSnapshot, type TwinInteractionState, type TwinMessage, type TwinThread } from './snapshots.js';
import { renderTranscript, type TranscriptOptions } from './transcript.js';
import { ChangeSignal, describeFilter, describeList, type WaitOptions } from './waiting.js';
import { World, type FileRecord } from './world.js';

/** Starts a Discord twin on 127.0.0.1 (port 0 unless told otherwise) and resolves once it accepts connections. */
export async function startDiscordTwin(options: DiscordTwinOptions = {}): Promise<DiscordTwin> {
  const resolved = resolveOptions(options);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new DiscordTwin(server, resolved);
}

/** A handle on a fault the test injected into the gateway, to wait for the client's recovery. */
export interface GatewayFault {
  readonly kind: 'reconnect' | 'drop' | 'zombie';
  /** Connections the fault hit. */
  readonly connections: number;
  /** The next accepted RESUME after the fault. */
  waitForResume(options?: WaitOptions): Promise<ResumeRecord>;
}

export type TwinFile = FileRecord;

export class DiscordTwin {
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Pass as `new Client({ rest: { api: twin.restApi } })`; requests then arrive as `/api/v10/...`. */
  readonly restApi: string;
  /** What `GET /gateway/bot` hands out, and the `resume_gateway_url`. */
  readonly gatewayUrl: string;
  readonly botToken: string;
  readonly applicationId: string;
  readonly botUserId: string;

  private readonly world: World;
  private readonly signal: ChangeSignal;
  private readonly gateway: GatewayServer;
  private readonly interactionService: InteractionService;
  private readonly commands: CommandRegistry;
  private readonly failures: FailureInjector;
  private readonly messageService: MessageService;
  /** Discord's edit limit per channel (five per five seconds); tests may tune `limit` and `windowMs`. */
  readonly editLimit: EditLimit;
  private readonly ctx: MessageContext;
  private readonly actorDeps: ActorDeps;
  private readonly queries: ChannelQueries;
  private readonly calls: RestCall[] = [];
  private readonly problemLog: string[] = [];
  private closed = false;

  /** Use `startDiscordTwin()`; the constructor expects a listening server. */
  constructor(
    private readonly server: Server,
    options: ResolvedOptions,
  ) {
    const address = server.address() as AddressInfo;
    this.port = address.port;
    this.url = `http://${options.host}:${this.port}`;
    this.restApi = `${this.url}/api`;
    this.gatewayUrl = `ws://${options.host}:${this.port}/gateway`;
    this.botToken = options.botToken;
    this.applicationId = options.applicationId;
    this.botUserId = options.botUserId;

    const log = (line: string): void => {
      this.problemLog.push(line);
      options.log(line);
    };
    this.world = new World(options, createSnowflakeFactory(options.clock));
    this.signal = new ChangeSignal(options.defaultTimeoutMs);
    this.world.onChange(() => this.signal.notify());
    this.ctx = { world: this.world, baseUrl: this.url };

    const world = this.world;
    this.gateway = new GatewayServer({
      botToken: options.botToken,
      botUserId: options.botUserId,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      clock: options.clock,
      newSessionId: createTokenFactory('twin_session'),
      ready: (sessionId, shard) => readyPayload(world, sessionId, shard, this.gatewayUrl),
      guildCreates: () => [...world.guilds.values()].map((g) => guildCreatePayload(world, g)),
      membersChunk: (request) => membersChunkPayload(world, request),
      changed: () => this.signal.notify(),
      log,
    });

    const messages = new MessageService(world, this.gateway, this.ctx, options.maxUploadBytes);
    this.messageService = messages;
    const threads = new ThreadService(world, this.gateway, messages);
    this.commands = new CommandRegistry(world);
    this.interactionService = new InteractionService({
      world,
      gateway: this.gateway,
      messages,
      ctx: this.ctx,
      deadlineMs: options.interactionDeadlineMs,
      tokenTtlMs: options.interactionTokenTtlMs,
      newToken: createTokenFactory('twin_interaction_token'),
    });
    this.failures = new FailureInjector(options.clock);
    this.editLimit = new EditLimit(options.clock);
    const handleApi = createRestHandler({
      botToken: options.botToken,
      routes: buildRoutes({
        world,
        ctx: this.ctx,
        messages,
        threads,
        commands: this.commands,
        interactions: this.interactionService,
        gatewayUrl: this.gatewayUrl,
        maxConcurrency: options.maxConcurrency,
        editLimit: this.editLimit,
      }),
      failures: this.failures,
      clock: options.clock,
      nextSeq: () => world.nextSeq(),
      record: (call) => {
        this.calls.push(call);
        this.signal.notify();
      },
      log,
    });

    this.actorDeps = {
      ctx: this.ctx,
      signal: this.signal,
      messages,
      interactions: this.interactionService,
      commands: this.commands,
      requireSession: (action) => {
        if (!this.gateway.hasSession()) {
          throw new Error(
            `discord.${action}(): no bot session on the twin's gateway. Log the client in (client.login(twin.botToken)) and wait for clientReady first.`,
          );
        }
      },
    };
    this.queries = {
      messages: (filter) => this.messages(filter),
      threads: (filter) => this.threads(filter),
      transcript: (channelId, opts) => this.transcript(channelId, opts),
      waitForMessage: (filter) => this.waitForMessage(filter),
      waitForThread: (filter) => this.waitForThread(filter),
    };

    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const url = new URL(request.url ?? '/', this.url);
      if (url.pathname.startsWith('/api/v10/')) {
        void handleApi(request, response, url);
      } else if (url.pathname.startsWith('/attachments/')) {
        serveAttachment(world, url, response);
      } else {
        log(`HTTP ${request.method} ${url.pathname}: not a Discord twin path (expected /api/v10/...)`);
        writeResult(response, { status: 404, body: { message: '404: Not Found', code: 0 } });
      }
    });
    server.on('upgrade', (request, socket, head) => {
      const path = new URL(request.url ?? '/', this.url).pathname;
      if (path === '/gateway' || path === '/gateway/') this.gateway.handleUpgrade(request, socket, head);
      else socket.destroy();
    });
  }

  // ——— Acting as users ———

  /** A channel or thread; `.user(id)` then acts in it. */
  channel(channelId: string): ChannelHandle {
    return new ChannelHandle(this.actorDeps, this.queries, this.world.channelOrThrow(channelId));
  }

  // ——— What happened ———

  messages(filter: MessageFilter = {}): TwinMessage[] {
    const afterSeq = this.afterSeq(filter);
    return [...this.world.messages.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((m) => messageSnapshot(this.ctx, m))
      .filter((m) => matchesMessage(m, filter, afterSeq));
  }

  /** A moderator deletes a message in the Discord client (MESSAGE_DELETE goes out; REST then answers 10008). */
  deleteMessage(messageId: string): void {
    const record = this.world.messages.get(messageId);
    if (!record || record.deleted) throw new Error(`No message ${messageId} to delete`);
    this.messageService.delete(record);
  }

  message(messageId: string): TwinMessage | undefined {
    const record = this.world.messages.get(messageId);
    return record ? messageSnapshot(this.ctx, record) : undefined;
  }

  threads(filter: ThreadFilter = {}): TwinThread[] {
    return [...this.world.channels.values()]
      .filter((c) => c.kind !== 'text')
      .sort((a, b) => a.seq - b.seq)
      .map(threadSnapshot)
      .filter((t) => matchesThread(t, filter));
  }

  /** Every uploaded file, by the bot or by test users, with its bytes. */
  files(filter: { channel?: string; filename?: string; uploadedBy?: 'bot' | 'user' } = {}): TwinFile[] {
    return this.world.files
      .filter((f) => (filter.channel === undefined || f.channelId === filter.channel) && (filter.filename === undefined || f.filename === filter.filename) && (filter.uploadedBy === undefined || f.uploadedBy === filter.uploadedBy))
      .map((f) => ({ ...f }));
  }

  /** The commands as registered (global without a guild id), with the ids Discord assigned. */
  registeredCommands(guildId?: string): APIApplicationCommand[] {
    return this.commands.list(guildId === undefined ? 'global' : { guildId });
  }

  interactions(): TwinInteractionState[] {
    return [...this.world.interactions.values()].map((r) => interactionSnapshot(r, this.interactionService.isExpired(r)));
  }

  identifies(): IdentifyRecord[] {
    return structuredClone(this.gateway.identifies);
  }

  resumes(): ResumeRecord[] {
    return structuredClone(this.gateway.resumes);
  }

  /** Every gateway frame in and out (op, event name, sequence), for debugging a protocol test. */
  gatewayLog(): GatewayLogEntry[] {
    return structuredClone(this.gateway.log);
  }

  /** Open gateway connections with a session (identified or resumed). */
  connectionCount(): number {
    return this.gateway.openConnections().length;
  }

  restCalls(filter: RestCallFilter = {}): RestCall[] {
    return structuredClone(this.calls.filter((c) => matchesRestCall(c, filter)));
  }

  /** Things the twin noticed that a test probably wants to know: unknown routes, twin bugs, socket errors. */
  problems(): string[] {
    return [...this.problemLog];
  }

  transcript(channelId: string, options: TranscriptOptions = {}): string {
    this.world.channelOrThrow(channelId);
    return renderTranscript(this.world, channelId, (r) => this.interactionService.isExpired(r), options);
  }

  // ——— Waiting ———

  /** The first message matching the filter, now or later; edits count, so `text` can wait for a final status. */
  waitForMessage(filter: MessageFilter & WaitOptions = {}): Promise<TwinMessage> {
    return this.signal.waitUntil(() => this.messages(filter)[0], {
      timeoutMs: filter.timeoutMs,
      describeTimeout: (ms) =>
        `Timed out after ${ms} ms waiting for a message matching ${describeFilter(filter)}.\n${describeList(this.messages({ ...(filter.channel ? { channel: filter.channel } : {}), includeLoading: true }), describeMessage, 'messages')}`,
    });
  }

  /** The first `count` messages matching the filter (messages already there count; use `afterId` to exclude them). */
  waitForMessages(count: number, filter: MessageFilter & WaitOptions = {}): Promise<TwinMessage[]> {
    return this.signal.waitUntil(
      () => {
        const found = this.messages(filter);
        return found.length >= count ? found.slice(0, count) : undefined;
      },
      {
        timeoutMs: filter.timeoutMs,
        describeTimeout: (ms) =>
          `Timed out after ${ms} ms waiting for ${count} messages matching ${describeFilter(filter)} (${this.messages(filter).length} matched).\n${describeList(this.messages(filter.channel ? { channel: filter.channel } : {}), describeMessage, 'messages')}`,
      },
    );
  }

  waitForThread(filter: ThreadFilter & WaitOptions = {}): Promise<TwinThread> {
    return this.signal.waitUntil(() => this.threads(filter)[0], {
      timeoutMs: filter.timeoutMs,
      describeTimeout: (ms) => `Timed out after ${ms} ms waiting for a thread matching ${describeFilter(filter)}.\n${describeList(this.threads(), describeThread, 'threads')}`,
    });
  }

  waitForRestCall(filter: RestCallFilter & WaitOptions = {}): Promise<RestCall> {
    return this.signal.waitUntil(() => this.restCalls(filter)[0], {
      timeoutMs: filter.timeoutMs,
      describeTimeout: (ms) => `Timed out after ${ms} ms waiting for a REST call matching ${describeFilter(filter)}.\n${describeList(this.calls, describeRestCall, 'REST calls')}`,
    });
  }

  /** Until the bot registered commands in this scope (global without a guild id), optionally these names. */
  waitForCommands(options: { guildId?: string; names?: string[] } & WaitOptions = {}): Promise<APIApplicationCommand[]> {
    return this.signal.waitUntil(
      () => {
        const list = this.registeredCommands(options.guildId);
        const wanted = options.names ?? [];
        return list.length > 0 && wanted.every((n) => list.some((c) => c.name === n)) ? list : undefined;
      },
      {
        timeoutMs: options.timeoutMs,
        describeTimeout: (ms) =>
          `Timed out after ${ms} ms waiting for commands ${describeFilter(options)}; registered: ${this.registeredCommands(options.guildId).map((c) => c.name).join(', ') || 'none'}.\n${describeList(this.calls.filter((c) => c.path.includes('/commands')), describeRestCall, 'command REST calls')}`,
      },
    );
  }

  /** The n-th IDENTIFY (0-based, default the first), accepted or not. */
  waitForIdentify(options: { index?: number } & WaitOptions = {}): Promise<IdentifyRecord> {
    const index = options.index ?? 0;
    return this.signal.waitUntil(() => structuredClone(this.gateway.identifies[index]), {
      timeoutMs: options.timeoutMs,
      describeTimeout: (ms) => `Timed out after ${ms} ms waiting for IDENTIFY #${index}; ${this.gateway.identifies.length} arrived.`,
    });
  }

  /** The first accepted RESUME after the first `after` resumes (default: any). */
  waitForResume(options: { after?: number } & WaitOptions = {}): Promise<ResumeRecord> {
    const after = options.after ?? 0;
    return this.signal.waitUntil(() => structuredClone(this.gateway.resumes.slice(after).find((r) => r.accepted)), {
      timeoutMs: options.timeoutMs,
      describeTimeout: (ms) =>
        `Timed out after ${ms} ms waiting for an accepted RESUME (after #${after}). Resumes: ${JSON.stringify(this.gateway.resumes)}. Open connections: ${this.connectionCount()}.`,
    });
  }

  /** Any condition over the twin's state; the probe re-runs on every change. */
  waitFor<T>(probe: () => T | undefined, options: { description: string } & WaitOptions): Promise<T> {
    return this.signal.waitUntil(probe, { timeoutMs: options.timeoutMs, describeTimeout: (ms) => `Timed out after ${ms} ms waiting for ${options.description}` });
  }

  // ——— Faults ———

  /** Answer the next matching request(s) with a 429 (Discord's headers and body) or another error. */
  failNext(matcher: RouteMatcher, spec: FailureSpec = {}): InjectedFailure {
    return this.failures.add(matcher, spec);
  }

  /** Send op 7 Reconnect; discord.js closes, reconnects and resumes. */
  forceReconnect(): GatewayFault {
    return this.fault('reconnect', () => this.gateway.requestReconnect());
  }

  /**
   * Drop the TCP connection without a close frame; discord.js sees 1006 and resumes. With `replaySince` (a
   * `gatewaySequence()` taken earlier) the RESUME replays every dispatch after it, ones the bot already had too.
   */
  dropConnection(options: { replaySince?: number } = {}): GatewayFault {
    if (options.replaySince !== undefined) this.gateway.replayOnNextResume(options.replaySince);
    return this.fault('drop', () => this.gateway.dropConnections());
  }

  /** The last sequence number dispatched to the bot's session. */
  gatewaySequence(): number {
    return this.gateway.currentSequence();
  }

  /** Stop answering heartbeats on the current connection; discord.js declares it a zombie and resumes. */
  stopAcking(): GatewayFault {
    return this.fault('zombie', () => this.gateway.stopAcking());
  }

  private fault(kind: GatewayFault['kind'], inject: () => number): GatewayFault {
    const after = this.gateway.resumes.length;
    const connections = inject();
    if (connections === 0) throw new Error(`discord.${kind}: no open gateway connection with a session to disturb`);
    return { kind, connections, waitForResume: (options = {}) => this.waitForResume({ ...options, after }) };
  }

  /** Stop the twin. Destroy the discord.js client first, or it will try to reconnect to a closed port. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.interactionService.close();
    this.signal.close();
    await this.gateway.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private afterSeq(filter: MessageFilter): number | undefined {
    if (filter.afterId === undefined) return undefined;
    const anchor = this.world.messages.get(filter.afterId);
    if (!anchor) throw new Error(`afterId ${filter.afterId}: no such message`);
    return anchor.seq;
  }
}
