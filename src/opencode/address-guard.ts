import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SwitchboardError } from '../errors.js';

export type LookupHost = (host: string) => Promise<string[]>;

export const systemLookup: LookupHost = async (host) => (await lookup(host, { all: true })).map((entry) => entry.address);

const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

/** `::ffff:a9fe:a9fe` (how URL parsing writes `::ffff:169.254.169.254`) back to dotted IPv4. */
function mappedIpv4(address: string): string {
  const lower = address.toLowerCase();
  if (!lower.startsWith('::ffff:')) return address;
  const rest = lower.slice(7);
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
  if (!hex) return rest;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

function isLinkLocalOrMetadata(address: string): boolean {
  const v4 = mappedIpv4(address);
  if (isIP(v4) === 4) {
    const [a, b] = v4.split('.').map(Number);
    return (a === 169 && b === 254) || v4 === '100.100.100.200';
  }
  const lower = address.toLowerCase();
  return lower.startsWith('fe8') || lower.startsWith('fe9') || lower.startsWith('fea') || lower.startsWith('feb') || lower === 'fd00:ec2::254';
}

/**
 * Refuses server URLs that point at link-local or cloud metadata addresses (an agent's credentials live
 * there), unless the config allows it. Names that do not resolve are left for the client to report.
 */
export async function assertNotMetadataAddress(url: string, lookupHost: LookupHost): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const refuse = (what: string) =>
    new SwitchboardError('forbidden', `refusing ${url}: ${what} is a link-local or cloud metadata address`, {
      hint: 'an admin can allow it with `access.allowMetadataAddresses: true` in switchboard.yaml',
    });
  if (METADATA_HOSTS.has(host.toLowerCase())) throw refuse(host);
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await lookupHost(host);
  } catch {
    return;
  }
  const bad = addresses.find(isLinkLocalOrMetadata);
  if (bad) throw refuse(bad === host ? host : `${host} (${bad})`);
}
