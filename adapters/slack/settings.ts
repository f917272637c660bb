import { booleanSetting, invalidSetting } from '../../src/config/env-values.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Everything the Slack adapter reads from the environment, validated once at start-up. */
export interface SlackSettings {
  botToken: string;
  /** Socket Mode when an app-level token is set (unless SLACK_SOCKET_MODE=false), else the HTTP receiver. */
  mode: 'socket' | 'http';
  appToken?: string;
  signingSecret?: string;
  /** HTTP mode: where Bolt listens; the path is Bolt's `/slack/events`. */
  port: number;
  host?: string;
  /** Web API base, e.g. for a proxy or a test double (default Slack's own). */
  apiUrl?: string;
  /** The slash command, as configured in the app (default `/sb`). */
  command: string;
  /** A thread per name: the prompt echo opens it, progress and outputs follow inside. */
  threads: boolean;
}

export const SLACK_ENV = {
  botToken: 'SLACK_BOT_TOKEN',
  appToken: 'SLACK_APP_TOKEN',
  signingSecret: 'SLACK_SIGNING_SECRET',
  socketMode: 'SLACK_SOCKET_MODE',
  port: 'SLACK_PORT',
  host: 'SLACK_HOST',
  apiUrl: 'SLACK_API_URL',
  command: 'SLACK_COMMAND',
  threads: 'SLACK_THREADS',
} as const;


export function slackSettingsFromEnv(env: Env): SlackSettings {
  const botToken = env[SLACK_ENV.botToken]?.trim();
  if (!botToken) throw invalidSetting(`${SLACK_ENV.botToken} is not set (the xoxb-… token from OAuth & Permissions)`);
  const appToken = env[SLACK_ENV.appToken]?.trim() || undefined;
  const signingSecret = env[SLACK_ENV.signingSecret]?.trim() || undefined;
  const mode = appToken && booleanSetting(env, SLACK_ENV.socketMode, true) ? 'socket' : 'http';
  if (mode === 'http' && !signingSecret) {
    throw invalidSetting(
      `set ${SLACK_ENV.appToken} (xapp-…, Socket Mode) or ${SLACK_ENV.signingSecret} (HTTP mode): the Slack adapter has no way to receive events`,
    );
  }
  if (mode === 'socket' && !appToken!.startsWith('xapp-')) {
    throw invalidSetting(`${SLACK_ENV.appToken} must be an app-level token (xapp-…) with the connections:write scope`);
  }

  const portText = env[SLACK_ENV.port]?.trim() || '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535) throw invalidSetting(`${SLACK_ENV.port} must be a port number, not \`${portText}\``);

  const apiUrl = env[SLACK_ENV.apiUrl]?.trim() || undefined;
  if (apiUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(apiUrl)) throw invalidSetting(`${SLACK_ENV.apiUrl} must be an http(s) URL`);

  const command = env[SLACK_ENV.command]?.trim() || '/sb';
  if (!/^\/[a-z0-9_-]{1,31}$/.test(command)) throw invalidSetting(`${SLACK_ENV.command} must look like /sb (a slash and up to 31 of a-z 0-9 _ -)`);

  return {
    botToken,
    mode,
    ...(appToken ? { appToken } : {}),
    ...(signingSecret ? { signingSecret } : {}),
    port,
    ...(env[SLACK_ENV.host]?.trim() ? { host: env[SLACK_ENV.host]!.trim() } : {}),
    // web-api joins method names onto the base, so it must end with a slash.
    ...(apiUrl ? { apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
    command,
    threads: booleanSetting(env, SLACK_ENV.threads, true),
  };
}
