import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { checkedAddresses, literalRefusal, normalHost, systemLookup, type LookupHost } from './address-guard.js';

/**
 * Checks the address of every connection Switchboard opens to an OpenCode server (REST, event stream, the
 * SSH under a managed server's tunnel), not just the name typed at `new`: a name may resolve to an allowed
 * address at `new` and to a metadata address on a later connection (DNS rebinding). A name is resolved once
 * per connection, the answer checked, and the socket connects to exactly that answer.
 */
export interface ConnectionGuard {
  /** The addresses one connection to `host` may use; a `forbidden` SwitchboardError for metadata ones. */
  addresses(host: string): Promise<string[]>;
  /** The same as a `lookup` for net, tls and http agents. */
  lookup: LookupFunction;
  /** An http and an https agent that resolve through `lookup` and refuse bad address literals before connecting. */
  agents(options?: AgentOptions): { http: HttpAgent; https: HttpsAgent };
}

export interface ConnectionGuardOptions {
  /** The resolver: the seam tests use to change answers between connections. */
  lookupHost: LookupHost;
  /** `access.allowMetadataAddresses`: resolve, but refuse nothing. */
  allowMetadataAddresses: boolean;
}

const SUBJECT = 'the connection';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | Array<{ address: string; family: number }>, family?: number) => void;

function notFound(hostname: string, cause?: unknown): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`, cause === undefined ? undefined : { cause }), { code: 'ENOTFOUND', hostname });
}

export function createConnectionGuard(options: ConnectionGuardOptions): ConnectionGuard {
  const { lookupHost, allowMetadataAddresses: allow } = options;

  async function addresses(host: string): Promise<string[]> {
    if (!allow) return checkedAddresses(host, lookupHost, SUBJECT);
    const bare = normalHost(host);
    return isIP(bare.replace(/%.*$/, '')) ? [bare] : lookupHost(host);
  }

  // net calls this with `all: true` when it races IPv4 and IPv6 (autoSelectFamily), else for one address.
  const lookup = ((hostname: string, lookupOptions: unknown, maybeCallback?: unknown) => {
    const callback = (typeof lookupOptions === 'function' ? lookupOptions : maybeCallback) as LookupCallback;
    const wanted = (typeof lookupOptions === 'object' && lookupOptions !== null ? lookupOptions : {}) as { family?: number | string; all?: boolean };
    const family = wanted.family === 'IPv4' ? 4 : wanted.family === 'IPv6' ? 6 : Number(wanted.family ?? (typeof lookupOptions === 'number' ? lookupOptions : 0));
    addresses(hostname).then(
      (found) => {
        const usable = found.filter((address) => family === 0 || isIP(address) === family);
        if (usable.length === 0) return callback(notFound(hostname), '');
        if (wanted.all) return callback(null, usable.map((address) => ({ address, family: isIP(address) })));
        return callback(null, usable[0]!, isIP(usable[0]!));
      },
      (error: NodeJS.ErrnoException) => callback(error.code ? error : notFound(hostname, error), ''),
    );
  }) as LookupFunction;

  /** Address literals never reach `lookup`: refuse the bad ones before the socket is made. */
  function guardLiterals<A extends HttpAgent>(agent: A): A {
    if (allow) return agent;
    const create = agent.createConnection.bind(agent);
    agent.createConnection = (connectOptions, callback) => {
      const refusal = literalRefusal(String(connectOptions.host ?? connectOptions.hostname ?? ''), SUBJECT);
      if (!refusal) return create(connectOptions, callback);
      process.nextTick(() => callback?.(refusal, undefined as never));
      return undefined;
    };
    return agent;
  }

  return {
    addresses,
    lookup,
    agents: (agentOptions = {}) => ({
      http: guardLiterals(new HttpAgent({ ...agentOptions, lookup })),
      https: guardLiterals(new HttpsAgent({ ...agentOptions, lookup })),
    }),
  };
}

/** Used where nothing else is given: system DNS, metadata refused. */
export const strictConnectionGuard = createConnectionGuard({ lookupHost: systemLookup, allowMetadataAddresses: false });
