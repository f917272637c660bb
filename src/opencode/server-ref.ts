import { SwitchboardError } from '../errors.js';

/** Everything needed to talk to one OpenCode server. The password lives here only in memory. */
export interface ServerRef {
  /** How users refer to it: a configured name (`lab`) or the URL itself. */
  label: string;
  url: string;
  username: string;
  password?: string;
}

/**
 * Checks a server URL typed by a user: http(s), a host, no credentials (passwords belong in the config's
 * `passwordEnv`, never in chat or the database), no query or fragment. Returns the URL without a trailing slash.
 */
export function parseServerUrl(raw: string): string {
  let url: URL;
  const shown = JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
  try {
    url = new URL(raw);
  } catch (error) {
    throw new SwitchboardError('invalid_url', `${shown} is not a valid URL`, {
      cause: error,
      hint: 'give a configured server name or a URL such as `http://127.0.0.1:4096`',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SwitchboardError('invalid_url', `${shown}: only http:// and https:// servers are supported`);
  }
  if (!url.hostname) throw new SwitchboardError('invalid_url', `${shown} has no host`);
  if (url.username || url.password) {
    throw new SwitchboardError(
      'invalid_url',
      'server URLs must not carry credentials: name the server in switchboard.yaml with `passwordEnv` instead',
    );
  }
  // `new URL` drops an empty `?` or `#`, so look at what was typed.
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    throw new SwitchboardError('invalid_url', `${shown}: a server URL has no query or fragment`);
  }
  return url.toString().replace(/\/+$/, '');
}

export function looksLikeUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || value.includes('/') || value.includes(':');
}
