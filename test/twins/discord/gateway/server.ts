import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GatewayCloseCodes,
  GatewayDispatchEvents,
  GatewayOpcodes,
  type GatewayGuildCreateDispatchData,
  type GatewayGuildMembersChunkDispatchData,
  type GatewayHelloData,
  type GatewayIdentifyData,
  type GatewayReadyDispatchData,
  type GatewayRequestGuildMembersData,
  type GatewayResumeData,
} from 'discord-api-types/v10';
import { WebSocket, WebSocketServer } from 'ws';
import type { TwinClock } from '../ids.js';
import { filterForIntents, intentNames } from './intents.js';
import { GatewaySession, type DispatchFrame, type GatewayConnection } from './session.js';

/**
 * The gateway as @discordjs/ws 1.2.3 drives it: HELLO → IDENTIFY → READY + GUILD_CREATE per guild, heartbeats
 * with ACKs, RESUME with replay of missed dispatches, and the faults a test injects (op 7, a dropped socket, missing
 * ACKs). Everything is JSON; compression is refused because the twin cannot inflate zlib streams.
 */

export interface GatewayDeps {
  botToken: string;
  botUserId: string;
  heartbeatIntervalMs: number;
  clock: TwinClock;
  newSessionId: () => string;
  ready(sessionId: string, shard: [number, number] | undefined): GatewayReadyDispatchData;
  guildCreates(): GatewayGuildCreateDispatchData[];
  membersChunk(request: GatewayRequestGuildMembersData): GatewayGuildMembersChunkDispatchData;
  /** Wakes the waiters: identifies, resumes and closes are things tests wait for. */
  changed(): void;
  log(line: string): void;
}

export interface IdentifyRecord {
  at: number;
  accepted: boolean;
  token: string;
  intents: number;
  intentNames: string[];
  shard: [number, number] | undefined;
  properties: GatewayIdentifyData['properties'];
  sessionId: string | null;
}

export interface ResumeRecord {
  at: number;
  accepted: boolean;
  sessionId: string;
  /** The last sequence the client had seen. */
  seq: number;
  /** How many dispatches the twin replayed before RESUMED. */
  replayed: number;
}

export interface GatewayLogEntry {
  at: number;
  connection: number;
  direction: 'in' | 'out';
  op: number;
  t: string | null;
  s: number | null;
}

interface ClientFrame {
  op: number;
  d: unknown;
}

export class GatewayServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections = new Set<GatewayConnection>();
  private readonly sessions = new Map<string, GatewaySession>();
  readonly identifies: IdentifyRecord[] = [];
  readonly resumes: ResumeRecord[] = [];
  readonly log: GatewayLogEntry[] = [];
  private nextConnectionId = 0;
  /** Set by `replayOnNextResume`: the next accepted RESUME replays from here, not from the client's sequence. */
  private replaySince: number | undefined;

  constructor(private readonly deps: GatewayDeps) {}

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
  }

  /** Fan a dispatch out to every live session, filtered by what its intents allow. */
  dispatch(event: string, data: unknown): void {
    for (const session of this.sessions.values()) {
      if (session.invalidated) continue;
      const visible = filterForIntents(event, data, session.intents, this.deps.botUserId);
      if (visible !== null) session.dispatch(event, visible);
    }
  }

  /** True once some client has identified; user actions before that would be lost, so the twin refuses them. */
  hasSession(): boolean {
    return [...this.sessions.values()].some((s) => !s.invalidated);
  }

  openConnections(): GatewayConnection[] {
    return [...this.connections].filter((c) => !c.closed && c.session !== null);
  }

  /** op 7: the client closes with 4200 and resumes on a new socket. */
  requestReconnect(): number {
    const targets = this.openConnections();
    for (const connection of targets) this.send(connection, { op: GatewayOpcodes.Reconnect, d: null });
    return targets.length;
  }

  /** Kill the TCP connection without a close frame; the client sees 1006 and resumes. */
  dropConnections(): number {
    const targets = this.openConnections();
    for (const connection of targets) connection.ws.terminate();
    return targets.length;
  }

  /** The last sequence number dispatched on the live session (0 before any). */
  currentSequence(): number {
    return Math.max(0, ...[...this.sessions.values()].filter((s) => !s.invalidated).map((s) => s.sequence));
  }

  /**
   * The next accepted RESUME replays every dispatch after `seq`, including ones the client already had: Discord
   * documents that a resumed session may see events again (its buffer resumes from where it believed the client
   * was), which is why a bot must tolerate a replayed MESSAGE_CREATE or INTERACTION_CREATE.
   */
  replayOnNextResume(seq: number): void {
    this.replaySince = seq;
  }

  /** Keep the socket open but stop answering heartbeats; the client's zombie check then reconnects and resumes. */
  stopAcking(): number {
    const targets = this.openConnections();
    for (const connection of targets) connection.acking = false;
    return targets.length;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.ws.terminate();
    this.connections.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, request: IncomingMessage): void {
    const connection: GatewayConnection = { id: ++this.nextConnectionId, ws, session: null, acking: true, closed: false };
    this.connections.add(connection);
    ws.on('close', (code) => this.onClose(connection, code));
    ws.on('error', (error) => this.deps.log(`gateway connection ${connection.id}: ${error.message}`));
    ws.on('message', (raw) => this.onFrame(connection, raw.toString()));

    const params = new URL(request.url ?? '/', 'ws://twin').searchParams;
    if (params.get('compress') || (params.get('encoding') ?? 'json') !== 'json' || (params.get('v') ?? '10') !== '10') {
      ws.close(GatewayCloseCodes.InvalidAPIVersion, 'The Discord twin speaks v=10, encoding=json, no compression');
      return;
    }
    this.send(connection, { op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.deps.heartbeatIntervalMs } satisfies GatewayHelloData });
    this.deps.changed();
  }

  private onFrame(connection: GatewayConnection, raw: string): void {
    let frame: ClientFrame;
    try {
      frame = JSON.parse(raw) as ClientFrame;
    } catch {
      connection.ws.close(GatewayCloseCodes.DecodeError, 'Error while decoding payload.');
      return;
    }
    this.record(connection, 'in', frame.op, null, null);
    this.deps.changed();
    switch (frame.op) {
      case GatewayOpcodes.Heartbeat:
        if (connection.acking) this.send(connection, { op: GatewayOpcodes.HeartbeatAck });
        return;
      case GatewayOpcodes.Identify:
        return this.identify(connection, frame.d as GatewayIdentifyData);
      case GatewayOpcodes.Resume:
        return this.resume(connection, frame.d as GatewayResumeData);
      case GatewayOpcodes.RequestGuildMembers:
        if (!connection.session) return this.notAuthenticated(connection);
        connection.session.dispatch(GatewayDispatchEvents.GuildMembersChunk, this.deps.membersChunk(frame.d as GatewayRequestGuildMembersData));
        return;
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
        if (!connection.session) return this.notAuthenticated(connection);
        return;
      default:
        connection.ws.close(GatewayCloseCodes.UnknownOpcode, 'Unknown opcode.');
    }
  }

  private identify(connection: GatewayConnection, data: GatewayIdentifyData): void {
    const at = this.deps.clock.now();
    if (connection.session) {
      connection.ws.close(GatewayCloseCodes.AlreadyAuthenticated, 'Already authenticated.');
      return;
    }
    const accepted = data.token === this.deps.botToken;
    const record: IdentifyRecord = {
      at,
      accepted,
      token: data.token,
      intents: data.intents,
      intentNames: intentNames(data.intents),
      shard: data.shard,
      properties: data.properties,
      sessionId: null,
    };
    this.identifies.push(record);
    if (!accepted) {
      connection.ws.close(GatewayCloseCodes.AuthenticationFailed, 'Authentication failed.');
      this.deps.changed();
      return;
    }
    const session = new GatewaySession(this.deps.newSessionId(), data.token, data.intents, (c, frame) => this.sendFrame(c, frame));
    record.sessionId = session.id;
    this.sessions.set(session.id, session);
    this.attach(connection, session);
    // READY and the GUILD_CREATEs go out synchronously, so no live dispatch can slip in between them.
    session.dispatch(GatewayDispatchEvents.Ready, this.deps.ready(session.id, data.shard));
    for (const guild of this.deps.guildCreates()) session.dispatch(GatewayDispatchEvents.GuildCreate, guild);
    this.deps.changed();
  }

  private resume(connection: GatewayConnection, data: GatewayResumeData): void {
    const session = this.sessions.get(data.session_id);
    const accepted = !!session && !session.invalidated && session.token === data.token && data.seq <= session.sequence;
    const record: ResumeRecord = { at: this.deps.clock.now(), accepted, sessionId: data.session_id, seq: data.seq, replayed: 0 };
    this.resumes.push(record);
    if (!session || !accepted) {
      // d:false tells the client to start over with IDENTIFY (and its 5 s identify throttle).
      this.send(connection, { op: GatewayOpcodes.InvalidSession, d: false });
      this.deps.changed();
      return;
    }
    const previous = session.connection;
    if (previous && previous !== connection && !previous.closed) {
      previous.session = null;
      previous.ws.close(GatewayCloseCodes.SessionTimedOut, 'Session resumed elsewhere.');
    }
    this.attach(connection, session);
    const missed = session.missedSince(Math.min(data.seq, this.replaySince ?? data.seq));
    this.replaySince = undefined;
    for (const frame of missed) this.sendFrame(connection, frame);
    record.replayed = missed.length;
    session.dispatch(GatewayDispatchEvents.Resumed, {});
    this.deps.changed();
  }

  private attach(connection: GatewayConnection, session: GatewaySession): void {
    connection.session = session;
    session.connection = connection;
  }

  private notAuthenticated(connection: GatewayConnection): void {
    connection.ws.close(GatewayCloseCodes.NotAuthenticated, 'Not authenticated.');
  }

  private onClose(connection: GatewayConnection, code: number): void {
    connection.closed = true;
    this.connections.delete(connection);
    const session = connection.session;
    if (session && session.connection === connection) {
      session.connection = null;
      // A clean close ends the session on Discord; 4200 (discord.js "resuming") and 1006 keep it resumable.
      if (code === 1000 || code === 1001) session.invalidated = true;
    }
    this.deps.changed();
  }

  private sendFrame(connection: GatewayConnection, frame: DispatchFrame): void {
    this.send(connection, frame);
  }

  private send(connection: GatewayConnection, frame: { op: number; d?: unknown; t?: string; s?: number }): void {
    if (connection.ws.readyState !== WebSocket.OPEN) return;
    const full = { op: frame.op, d: frame.d ?? null, s: frame.s ?? null, t: frame.t ?? null };
    this.record(connection, 'out', full.op, full.t, full.s);
    connection.ws.send(JSON.stringify(full));
  }

  private record(connection: GatewayConnection, direction: 'in' | 'out', op: number, t: string | null, s: number | null): void {
    this.log.push({ at: this.deps.clock.now(), connection: connection.id, direction, op, t, s });
  }
}
