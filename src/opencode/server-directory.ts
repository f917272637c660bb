import { SwitchboardError } from '../errors.js';
import { closest } from '../commands/closest.js';
import type { Environment } from '../config/environment.js';
import type { ServerConfig } from '../config/schema.js';
import { createOpencodeClient, type OpencodeClient, type OpencodeClientOptions } from './client.js';
import { looksLikeUrl, parseServerUrl, type ServerRef } from './server-ref.js';

export type ServerDirectory = ReturnType<typeof createServerDirectory>;

/**
 * Turns what users type (`lab`, `http://127.0.0.1:4096`) into server references, and keeps one client
 * (one keep-alive pool) per server.
 */
export function createServerDirectory(servers: readonly ServerConfig[], env: Environment, clientOptions: OpencodeClientOptions = {}) {
  const clients = new Map<string, OpencodeClient>();

  function configured(name: string): ServerRef | undefined {
    const server = servers.find((s) => s.name === name);
    if (!server) return undefined;
    const password = server.passwordEnv ? env[server.passwordEnv] : undefined;
    return {
      label: server.name,
      url: parseServerUrl(server.url),
      username: server.username ?? 'opencode',
      ...(password !== undefined ? { password } : {}),
    };
  }

  return {
    /** A configured name or a URL. `configuredOnly` is reported back so access rules can treat raw URLs apart. */
    resolve(input: string): { ref: ServerRef; configured: boolean } {
      const named = configured(input);
      if (named) return { ref: named, configured: true };
      if (!looksLikeUrl(input)) {
        const suggestion = closest(input, servers.map((s) => s.name));
        throw new SwitchboardError(
          'invalid_url',
          `\`${input.slice(0, 60)}\` is neither a configured server nor a URL${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}`,
          {
            hint: servers.length
              ? `configured servers: ${servers.map((s) => s.name).join(', ')}; or give a URL such as http://127.0.0.1:4096`
              : 'give a URL such as http://127.0.0.1:4096, or name servers in switchboard.yaml under `servers:`',
          },
        );
      }
      const url = parseServerUrl(input);
      // A URL that is a configured server's URL uses that server's credentials.
      const same = servers.find((s) => parseServerUrl(s.url) === url);
      if (same) return { ref: configured(same.name)!, configured: true };
      return { ref: { label: url, url, username: 'opencode' }, configured: false };
    },
    /** The server of a registered name: its configured entry if it still exists, else the stored URL. */
    forStored(label: string, url: string): ServerRef {
      return configured(label) ?? { label: url === label ? url : `${label} (${url})`, url, username: 'opencode' };
    },
    client(ref: ServerRef): OpencodeClient {
      const key = `${ref.url}\u0000${ref.username}\u0000${ref.password ?? ''}`;
      let client = clients.get(key);
      if (!client) {
        client = createOpencodeClient(ref, clientOptions);
        clients.set(key, client);
      }
      return client;
    },
    configured(): ServerRef[] {
      return servers.map((s) => configured(s.name)!);
    },
  };
}
