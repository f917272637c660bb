import { SwitchboardError } from '../errors.js';
import { closest } from '../core/closest.js';
import type { Environment } from '../config/environment.js';
import type { ServerConfig } from '../config/schema.js';
import { basicAuthorization } from './basic-auth.js';
import { createOpencodeClient, type OpencodeClient, type OpencodeClientOptions } from './client.js';
import { looksLikeUrl, parseServerUrl, type ServerRef } from './server-ref.js';

/** Where a stopped managed server points: the discard port on loopback, so a call fails at once as unreachable. */
const STOPPED_URL = 'http://127.0.0.1:9';

export type ServerDirectory = ReturnType<typeof createServerDirectory>;

/**
 * OpenCode servers Switchboard runs itself on executors, named `@<executor>` (src/opencode-host). Their URL is
 * the local end of a tunnel that may change across restarts, so names store the label and it is resolved here.
 */
export interface ManagedServers {
  /** The live connection to `@executor`, or null when Switchboard owns no server there. */
  current(executor: string): ServerRef | null;
  /** Attaches to it, or starts it. */
  ref(executor: string): Promise<ServerRef>;
  /** Attaches to the one Switchboard owns (never starts one). */
  attached(executor: string): Promise<ServerRef>;
  canHost(executor: string): boolean;
}

/** `@crib` → `crib`. */
export function managedExecutorOf(label: string): string | null {
  return /^@[a-z0-9][a-z0-9-]{0,31}$/.test(label) ? label.slice(1) : null;
}

/**
 * Turns what users type (`lab`, `http://127.0.0.1:4096`) into server references, and keeps one client
 * (one keep-alive pool) per server.
 */
export function createServerDirectory(
  servers: readonly ServerConfig[],
  env: Environment,
  clientOptions: OpencodeClientOptions = {},
  managed?: ManagedServers,
) {
  const clients = new Map<string, OpencodeClient>();
  const managedClients = new Map<string, OpencodeClient>();

  function plainClient(ref: ServerRef): OpencodeClient {
    const key = `${ref.url}\u0000${ref.username}\u0000${ref.password ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = createOpencodeClient(ref, clientOptions);
      clients.set(key, client);
    }
    return client;
  }

  /**
   * A client for `@executor` that finds the server at each call: attached already (the bot, after start-up),
   * attached on first use (a one-shot CLI command), or an `unreachable` error when Switchboard no longer runs it.
   */
  function managedClient(executor: string, fallback: ServerRef): OpencodeClient {
    const existing = managedClients.get(executor);
    if (existing) return existing;
    const source = managed!;
    const template = createOpencodeClient(fallback, clientOptions);
    const wrapped: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) {
      if (typeof value !== 'function') continue;
      if (key === 'authorizationHeader') {
        wrapped[key] = () => {
          const ref = source.current(executor);
          return ref ? basicAuthorization(ref) : undefined;
        };
        continue;
      }
      wrapped[key] = async (...args: unknown[]) => {
        const live = plainClient(await source.attached(executor)) as unknown as Record<string, (...a: unknown[]) => unknown>;
        return live[key]!(...args);
      };
    }
    Object.defineProperty(wrapped, 'server', { get: () => source.current(executor) ?? fallback, enumerable: true });
    const client = wrapped as unknown as OpencodeClient;
    managedClients.set(executor, client);
    return client;
  }

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
    /** What checks the address of every connection to these servers (their event streams use it too). */
    guard: clientOptions.guard,
    /** A configured name or a URL. `configuredOnly` is reported back so access rules can treat raw URLs apart. */
    resolve(input: string): { ref: ServerRef; configured: boolean } {
      const named = configured(input);
      if (named) return { ref: named, configured: true };
      const executor = managedExecutorOf(input);
      if (executor !== null) {
        const current = managed?.current(executor);
        if (current) return { ref: current, configured: true };
        throw new SwitchboardError('invalid_url', `Switchboard runs no OpenCode server on ${input} yet`, {
          hint: `\`new <name> ${input}\` starts one (on an ssh or local executor)`,
        });
      }
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
      const executor = managedExecutorOf(label);
      if (executor !== null) {
        // Never the stored URL: it was the tunnel's local end in an earlier process, and may be anything now.
        return managed?.current(executor) ?? { label, url: STOPPED_URL, username: 'opencode' };
      }
      return configured(label) ?? { label: url === label ? url : `${label} (${url})`, url, username: 'opencode' };
    },
    /** `@executor`: attach to or start Switchboard's own server there. */
    managed(executor: string): Promise<ServerRef> {
      if (!managed) throw new SwitchboardError('unknown_executor', `no executor named '${executor}'`);
      return managed.ref(executor);
    },
    canHost(executor: string): boolean {
      return managed?.canHost(executor) ?? false;
    },
    client(ref: ServerRef): OpencodeClient {
      const executor = managedExecutorOf(ref.label);
      if (executor !== null && managed) return managedClient(executor, ref);
      return plainClient(ref);
    },
    configured(): ServerRef[] {
      return servers.map((s) => configured(s.name)!);
    },
  };
}
