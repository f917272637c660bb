import type { AccessRules } from '../sessions/access.js';
import type { Environment } from './environment.js';
import type { Config } from './load.js';

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * Joins the roles of switchboard.yaml with the platform allow-lists of the environment: users named in
 * SLACK_ALLOWED_USERS / DISCORD_ALLOWED_USERS / DISCORD_ALLOWED_ROLES are members, and each platform only
 * takes commands from the channels its *_ALLOWED_CHANNELS names (empty: none, `*`: all).
 */
export function accessRulesFrom(config: Config, env: Environment): AccessRules {
  const members = [
    ...config.access.members,
    ...list(env.SLACK_ALLOWED_USERS).map((id) => `slack:${id}`),
    ...list(env.DISCORD_ALLOWED_USERS).map((id) => `discord:${id}`),
    ...list(env.DISCORD_ALLOWED_ROLES).map((id) => `discord-role:${id}`),
  ];
  return {
    admins: config.access.admins,
    members,
    viewers: config.access.viewers,
    names: config.access.names,
    executors: config.access.executors,
    consoleIsAdmin: config.access.consoleIsAdmin,
    channels: {
      slack: { allowed: list(env.SLACK_ALLOWED_CHANNELS), setting: 'SLACK_ALLOWED_CHANNELS' },
      discord: { allowed: list(env.DISCORD_ALLOWED_CHANNELS), setting: 'DISCORD_ALLOWED_CHANNELS' },
    },
    userSettings: { slack: 'SLACK_ALLOWED_USERS', discord: 'DISCORD_ALLOWED_USERS or DISCORD_ALLOWED_ROLES' },
  };
}
