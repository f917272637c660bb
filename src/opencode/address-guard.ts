import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SwitchboardError } from '../errors.js';

export type LookupHost = (host: string) => Promise<string[]>;

export const systemLookup: LookupHost = async (host) => (await lookup(host, { all: true })).map((entry) => entry.address);

const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

/** IPv4 metadata endpoints outside 169.254/16: Alibaba Cloud, Oracle Cloud Classic. */
const METADATA_V4 = new Set(['100.100.100.200', '192.0.0.192']);

/** IPv6 metadata endpoints as 8 words: AWS `fd00:ec2::254`, Google `fd20:ce::254`. */
const METADATA_V6 = [
  [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254],
  [0xfd20, 0x00ce, 0, 0, 0, 0, 0, 0x0254],
];

export const METADATA_HINT = 'an admin can allow it with `access.allowMetadataAddresses: true` in switchboard.yaml';

/** `refusing <subject>: <what> is a link-local or cloud metadata address`, with the hint that allows it. */
export function metadataRefusal(subject: string, what: string): SwitchboardError {
  return new SwitchboardError('forbidden', `refusing ${subject}: ${what} is a link-local or cloud metadata address`, { hint: METADATA_HINT });
}

/** A host as a name or address is compared: no brackets, no trailing dots (`instance-data.` is `instance-data`), lower case. */
export function normalHost(host: string): string {
  return host.replace(/^\[|\]$/g, '').replace(/\.+$/, '').toLowerCase();
}

export function isMetadataHostName(host: string): boolean {
  return METADATA_HOSTS.has(normalHost(host));
}

function parseIpv4(text: string): number[] | undefined {
  if (isIP(text) !== 4) return undefined;
  return text.split('.').map(Number);
}

/**
 * An IPv6 address as 8 16-bit words: `::` expanded, a dotted IPv4 tail read, a zone (`%eth0`) dropped.
 * Undefined when it is not IPv6.
 */
export function parseIpv6(text: string): number[] | undefined {
  const address = text.replace(/%.*$/, '');
  if (isIP(address) !== 6) return undefined;
  let body = address.toLowerCase();
  const tail: number[] = [];
  const dotted = /(?:^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]!)!;
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    body = body.slice(0, body.length - dotted[1]!.length);
    // `::1.2.3.4` leaves `::`, `::ffff:1.2.3.4` leaves `::ffff:`: keep a `::`, drop a lone trailing colon.
    if (!body.endsWith('::')) body = body.replace(/:$/, '');
  }
  const words = (part: string) => (part === '' ? [] : part.split(':').map((word) => parseInt(word, 16)));
  const [head, rest] = body.split('::') as [string, string | undefined];
  const left = words(head);
  const right = [...(rest === undefined ? [] : words(rest)), ...tail];
  if (rest === undefined) return [...left, ...right];
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const v4Of = (high: number, low: number) => [high >> 8, high & 255, low >> 8, low & 255];
const zero = (words: number[], from: number, to: number) => words.slice(from, to).every((word) => word === 0);

/** Bytes of an IPv6 address, for the RFC 6052 layouts that do not align with words. */
const bytesOf = (words: number[]) => words.flatMap((word) => [word >> 8, word & 255]);

/**
 * Every IPv4 address an IPv6 address carries in a form that a host, a NAT64 gateway or a tunnel relay may turn
 * into a connection to that IPv4 address. Metadata endpoints hide behind any of these.
 */
export function embeddedIpv4(words: number[]): number[][] {
  const found: number[][] = [];
  const last = v4Of(words[6]!, words[7]!);
  // ::a.b.c.d (IPv4-compatible), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated, RFC 2765)
  if (zero(words, 0, 6) || (zero(words, 0, 5) && words[5] === 0xffff) || (zero(words, 0, 4) && words[4] === 0xffff && words[5] === 0)) {
    found.push(last);
  }
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052)
  if (words[0] === 0x64 && words[1] === 0xff9b && zero(words, 2, 6)) found.push(last);
  // NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215), with any of the RFC 6052 prefix lengths under it
  if (words[0] === 0x64 && words[1] === 0xff9b && words[2] === 1) {
    const b = bytesOf(words);
    found.push([b[6]!, b[7]!, b[9]!, b[10]!], [b[7]!, b[9]!, b[10]!, b[11]!], [b[9]!, b[10]!, b[11]!, b[12]!], last);
  }
  // 6to4 2002:aabb:ccdd::/48 (RFC 3056)
  if (words[0] === 0x2002) found.push(v4Of(words[1]!, words[2]!));
  // Teredo 2001:0::/32 (RFC 4380): the server in clear, the client's address inverted in the last 32 bits
  if (words[0] === 0x2001 && words[1] === 0) found.push(v4Of(words[2]!, words[3]!), v4Of(words[6]! ^ 0xffff, words[7]! ^ 0xffff));
  // ISATAP interface id ::0:5efe:a.b.c.d / ::200:5efe:a.b.c.d under any /64 (RFC 5214)
  if ((words[4]! & 0xfcff) === 0 && words[5] === 0x5efe) found.push(last);
  return found;
}

function isBadIpv4(v4: number[]): boolean {
  return (v4[0] === 169 && v4[1] === 254) || METADATA_V4.has(v4.join('.'));
}

/** True for link-local and cloud metadata addresses, in any IPv4 or IPv6 notation that reaches them. */
export function isLinkLocalOrMetadata(address: string): boolean {
  const v4 = parseIpv4(address);
  if (v4) return isBadIpv4(v4);
  const words = parseIpv6(address);
  if (!words) return false;
  // fe80::/10
  if ((words[0]! & 0xffc0) === 0xfe80) return true;
  if (METADATA_V6.some((bad) => bad.every((word, i) => word === words[i]))) return true;
  return embeddedIpv4(words).some(isBadIpv4);
}

/** The refusal for a host that needs no lookup to judge: a metadata name, or a bad address literal. */
export function literalRefusal(host: string, subject: string): SwitchboardError | undefined {
  const bare = normalHost(host);
  if (METADATA_HOSTS.has(bare)) return metadataRefusal(subject, host);
  if (isIP(bare.replace(/%.*$/, '')) && isLinkLocalOrMetadata(bare)) return metadataRefusal(subject, host);
  return undefined;
}

/**
 * The addresses `host` may be reached at, or a `forbidden` refusal naming `subject`. A metadata host name is
 * refused without asking DNS; a name is refused when any of its addresses is link-local or metadata.
 * Lookup failures are the caller's to report.
 */
export async function checkedAddresses(host: string, lookupHost: LookupHost, subject: string): Promise<string[]> {
  const refusal = literalRefusal(host, subject);
  if (refusal) throw refusal;
  const bare = normalHost(host);
  if (isIP(bare.replace(/%.*$/, ''))) return [bare];
  // DNS gets the name as written: a trailing dot means "no search domains".
  const addresses = await lookupHost(host.replace(/^\[|\]$/g, ''));
  const bad = addresses.find(isLinkLocalOrMetadata);
  if (bad) throw metadataRefusal(subject, `${host} (${bad})`);
  return addresses;
}

/**
 * Refuses server URLs that point at link-local or cloud metadata addresses (an agent's credentials live
 * there), unless the config allows it: the early, friendly check of `new` and `attach`. Names that do not
 * resolve are left for the client to report; every connection is checked again (connection-guard.ts).
 */
export async function assertNotMetadataAddress(url: string, lookupHost: LookupHost): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  try {
    await checkedAddresses(host, lookupHost, url);
  } catch (error) {
    if (error instanceof SwitchboardError) throw error;
  }
}
