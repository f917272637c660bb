import { SwitchboardError } from '../errors.js';
import type { Environment } from '../config/environment.js';

/** The fleet page's settings, from the environment; absent when `WEB_PORT` is unset (the page is off). */
export interface WebSettings {
  /** 0: any free port (tests). */
  port: number;
  host: string;
  /** The public base of links (`https://sb.example.com`); default `http://<host>:<port>` once listening. */
  publicUrl?: string;
  /** Live connections (Server-Sent Events) at most, in all and per person. */
  maxClients: number;
  maxClientsPerUser: number;
}

export const WEB_DEFAULTS = { host: '127.0.0.1', maxClients: 100, maxClientsPerUser: 10 } as const;

function count(env: Environment, key: string, fallback: number, min = 1): number {
  const raw = env[key];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new SwitchboardError('config_invalid', `${key} must be a whole number of at least ${min}, not \`${raw.slice(0, 40)}\``);
  }
  return value;
}

export function webSettingsFrom(env: Environment): WebSettings | undefined {
  if (env.WEB_PORT === undefined) return undefined;
  const port = count(env, 'WEB_PORT', 0, 0);
  if (port > 65_535) throw new SwitchboardError('config_invalid', `WEB_PORT must be a port (0–65535), not ${port}`);
  let publicUrl: string | undefined;
  if (env.WEB_URL !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(env.WEB_URL);
    } catch {
      throw new SwitchboardError('config_invalid', `WEB_URL must be an http(s) URL such as https://sb.example.com, not \`${env.WEB_URL.slice(0, 80)}\``);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new SwitchboardError('config_invalid', `WEB_URL must start with http:// or https://, not ${parsed.protocol}`);
    }
    publicUrl = parsed.href.replace(/\/+$/, '');
  }
  return {
    port,
    host: env.WEB_HOST ?? WEB_DEFAULTS.host,
    ...(publicUrl ? { publicUrl } : {}),
    maxClients: count(env, 'WEB_MAX_CLIENTS', WEB_DEFAULTS.maxClients),
    maxClientsPerUser: count(env, 'WEB_MAX_CLIENTS_PER_USER', WEB_DEFAULTS.maxClientsPerUser),
  };
}
