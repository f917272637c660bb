import type {
  GatewayGuildMembersChunkDispatchData,
  GatewayReadyDispatchData,
  GatewayRequestGuildMembersData,
} from 'discord-api-types/v10';
import type { World } from '../world.js';
import { APPLICATION_FLAGS } from './application.js';
import { apiMember, apiUser, noFlags } from './entities.js';

/** READY lists every guild as unavailable; discord.js then waits for one GUILD_CREATE per guild before clientReady. */
export function readyPayload(world: World, sessionId: string, shard: [number, number] | undefined, gatewayUrl: string): GatewayReadyDispatchData {
  return {
    v: 10,
    user: { ...apiUser(world.botUser), verified: true, mfa_enabled: false, flags: noFlags() },
    guilds: [...world.guilds.keys()].map((id) => ({ id, unavailable: true })),
    session_id: sessionId,
    resume_gateway_url: gatewayUrl,
    ...(shard ? { shard } : {}),
    application: { id: world.applicationId, flags: APPLICATION_FLAGS, flags_new: String(APPLICATION_FLAGS) },
  };
}

/** The answer to op 8 (what `guild.members.fetch()` without ids sends): every match in one chunk. */
export function membersChunkPayload(world: World, request: GatewayRequestGuildMembersData): GatewayGuildMembersChunkDispatchData {
  const ids = 'user_ids' in request && request.user_ids ? [request.user_ids].flat() : undefined;
  const query = 'query' in request ? (request.query ?? '') : '';
  const members = [...world.members.values()].filter(
    (m) => m.guildId === request.guild_id && (ids ? ids.includes(m.userId) : world.userName(m.userId).startsWith(query)),
  );
  return {
    guild_id: request.guild_id,
    members: members.map((m) => apiMember(world, m)),
    chunk_index: 0,
    chunk_count: 1,
    ...(request.nonce ? { nonce: request.nonce } : {}),
  };
}
