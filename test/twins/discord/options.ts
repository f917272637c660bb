import { SNOWFLAKE_PATTERN, type TwinClock } from './ids.js';

/** A guild as a test describes it; everything else (GUILD_CREATE fields, @everyone, the bot member) is derived. */
export interface GuildSpec {
  id: string;
  name?: string;
  /** Defaults to the first member, or the bot when there is none. */
  ownerId?: string;
  channels?: ChannelSpec[];
  roles?: RoleSpec[];
  members?: MemberSpec[];
}

export interface ChannelSpec {
  id: string;
  name?: string;
  /** `thread` needs `parentId`; a thread listed here arrives in GUILD_CREATE's `threads`, as active threads do. */
  type?: 'text' | 'thread';
  parentId?: string;
  topic?: string;
}

export interface RoleSpec {
  id: string;
  name?: string;
  /** Permission bitfield as a decimal string, as Discord sends it. */
  permissions?: string;
}

export interface MemberSpec {
  id: string;
  username?: string;
  globalName?: string;
  nick?: string;
  roles?: string[];
  bot?: boolean;
}

export interface DiscordTwinOptions {
  botToken?: string;
  /** Discord apps usually have application id == bot user id; the defaults follow that. */
  applicationId?: string;
  botUserId?: string;
  botUsername?: string;
  guilds?: GuildSpec[];
  host?: string;
  /** 0 (default) picks a free port; read it back from `twin.port`. */
  port?: number;
  /** Discord says ~41 s; short keeps zombie detection and reconnects within a test's budget. */
  heartbeatIntervalMs?: number;
  /** Discord's 3 s window for the first interaction callback. */
  interactionDeadlineMs?: number;
  /** How long follow-ups and @original edits are accepted after the interaction (Discord: 15 min). */
  interactionTokenTtlMs?: number;
  /** `session_start_limit.max_concurrency`; @discordjs/ws spaces identifies 5 s apart per bucket. */
  maxConcurrency?: number;
  /** Largest upload accepted per file; Discord's default for bots is 10 MiB. */
  maxUploadBytes?: number;
  clock?: TwinClock;
  /** How long waits (`waitForMessage`, `waitForReply` …) wait when not told; 5 s. */
  defaultTimeoutMs?: number;
  /** Called for every protocol event the twin finds worth a line (unknown routes, bad payloads). */
  log?: (line: string) => void;
}

export interface ResolvedOptions {
  botToken: string;
  applicationId: string;
  botUserId: string;
  botUsername: string;
  guilds: GuildSpec[];
  host: string;
  port: number;
  heartbeatIntervalMs: number;
  interactionDeadlineMs: number;
  interactionTokenTtlMs: number;
  maxConcurrency: number;
  maxUploadBytes: number;
  clock: TwinClock;
  defaultTimeoutMs: number;
  log: (line: string) => void;
}

// Fixed rather than random so failures print the same ids on every run.
const DEFAULT_BOT_ID = '1190000000000000001';

export function resolveOptions(options: DiscordTwinOptions): ResolvedOptions {
  const botUserId = options.botUserId ?? options.applicationId ?? DEFAULT_BOT_ID;
  const resolved: ResolvedOptions = {
    botToken: options.botToken ?? 'twin-bot-token',
    applicationId: options.applicationId ?? botUserId,
    botUserId,
    botUsername: options.botUsername ?? 'switchboard',
    guilds: options.guilds ?? [],
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 250,
    interactionDeadlineMs: options.interactionDeadlineMs ?? 3000,
    interactionTokenTtlMs: options.interactionTokenTtlMs ?? 15 * 60_000,
    maxConcurrency: options.maxConcurrency ?? 1,
    maxUploadBytes: options.maxUploadBytes ?? 10 * 1024 * 1024,
    clock: options.clock ?? { now: () => Date.now() },
    defaultTimeoutMs: options.defaultTimeoutMs ?? 5000,
    log: options.log ?? (() => {}),
  };
  validateIds(resolved);
  return resolved;
}

/**
 * discord.js computes timestamps from ids and sorts channels and roles by BigInt(id), so a fixture id like 'C1'
 * fails deep inside the client. Failing here names the culprit instead.
 */
function validateIds(options: ResolvedOptions): void {
  const bad: string[] = [];
  const check = (what: string, id: string | undefined) => {
    if (id !== undefined && !SNOWFLAKE_PATTERN.test(id)) bad.push(`${what} ${JSON.stringify(id)}`);
  };
  check('applicationId', options.applicationId);
  check('botUserId', options.botUserId);
  for (const guild of options.guilds) {
    check('guild', guild.id);
    check(`guild ${guild.id} ownerId`, guild.ownerId);
    for (const channel of guild.channels ?? []) {
      check('channel', channel.id);
      check(`channel ${channel.id} parentId`, channel.parentId);
      if (channel.type === 'thread' && !channel.parentId) bad.push(`thread ${channel.id} without parentId`);
    }
    for (const role of guild.roles ?? []) check('role', role.id);
    for (const member of guild.members ?? []) {
      check('member', member.id);
      for (const role of member.roles ?? []) check(`member ${member.id} role`, role);
    }
  }
  if (bad.length > 0) {
    throw new Error(
      `Discord twin: ids must be snowflakes (17-20 digits; use testSnowflake(n)). Not snowflakes: ${bad.join(', ')}`,
    );
  }
}
