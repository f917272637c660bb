import { ApplicationFlags, type APIApplication } from 'discord-api-types/v10';
import type { World } from '../world.js';
import { apiUser } from './entities.js';

/** Privileged intents granted, as a bot that reads message content must have in the Developer Portal. */
export const APPLICATION_FLAGS = ApplicationFlags.GatewayGuildMembers | ApplicationFlags.GatewayMessageContent;

/** `GET /applications/@me`, which `client.application.fetch()` calls. */
export function application(world: World): APIApplication {
  return {
    id: world.applicationId,
    name: world.botUser.username,
    icon: null,
    description: '',
    bot_public: false,
    bot_require_code_grant: false,
    summary: '',
    verify_key: '0'.repeat(64),
    team: null,
    flags: APPLICATION_FLAGS,
    flags_new: String(APPLICATION_FLAGS),
    bot: { ...apiUser(world.botUser) },
  };
}
