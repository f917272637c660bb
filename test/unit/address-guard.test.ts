import { describe, expect, it, vi } from 'vitest';
import { SwitchboardError } from '../../src/errors.js';
import {
  assertNotMetadataAddress,
  checkedAddresses,
  isLinkLocalOrMetadata,
  parseIpv6,
  type LookupHost,
} from '../../src/opencode/address-guard.js';
import { createConnectionGuard } from '../../src/opencode/connection-guard.js';
import { refusalOf } from './helpers/refusal.js';

/**
 * Every notation of a link-local or metadata address that reaches it, and the ordinary ones that must still
 * work. Each form is also checked as a URL typed at `new`, through the URL parser that normalises it first.
 */

const noLookup: LookupHost = async (host) => {
  throw new Error(`lookup of ${host} must not happen`);
};

const REFUSED_ADDRESSES = [
  '169.254.169.254',
  '169.254.0.1',
  '100.100.100.200',
  '192.0.0.192',
  'fe80::1',
  'FEBF::abcd',
  'fe80::1%eth0',
  'fd00:ec2::254',
  'fd20:ce::254',
  // IPv4-mapped, in both notations
  '::ffff:169.254.169.254',
  '::ffff:a9fe:a9fe',
  '0:0:0:0:0:ffff:a9fe:a9fe',
  // IPv4-compatible (deprecated, still routed by some stacks)
  '::169.254.169.254',
  '::a9fe:a9fe',
  // IPv4-translated (RFC 2765)
  '::ffff:0:a9fe:a9fe',
  '::ffff:0:169.254.169.254',
  // NAT64 well-known prefix, in both notations, and the Alibaba endpoint through it
  '64:ff9b::a9fe:a9fe',
  '64:ff9b::169.254.169.254',
  '64:ff9b::6464:64c8',
  // NAT64 local-use prefix (RFC 8215) with a /96 and a /64 layout
  '64:ff9b:1::a9fe:a9fe',
  '64:ff9b:1:0:a9:fea9:fe00:0',
  // 6to4, Teredo (client address inverted), ISATAP
  '2002:a9fe:a9fe::1',
  '2001:0:a9fe:a9fe::1',
  '2001:0:4136:e378:8000:63bf:5601:5601',
  'fe80::5efe:a9fe:a9fe',
  '2001:db8::200:5efe:169.254.169.254',
];

const ALLOWED_ADDRESSES = [
  '127.0.0.1',
  '10.0.0.5',
  '192.0.2.10',
  '169.253.255.255',
  '169.255.0.1',
  '::1',
  '::',
  'fec0::1',
  'fe7f::1',
  'fec0::a9fe:a9fe',
  '::ffff:127.0.0.1',
  '::ffff:0:7f00:1',
  '64:ff9b::a00:5',
  '2002:a00:5::1',
  '2001:db8::a9fe:a9fe',
  '2001:db8:0:0:0:ffff:a9fe:a9fe',
  'fd00:ec2::255',
];

describe('which addresses are link-local or metadata', () => {
  it.each(REFUSED_ADDRESSES)('refuses %s', (address) => {
    expect(isLinkLocalOrMetadata(address)).toBe(true);
  });

  it.each(ALLOWED_ADDRESSES)('allows %s', (address) => {
    expect(isLinkLocalOrMetadata(address)).toBe(false);
  });

  it('is not fooled by names or garbage that merely look like addresses', () => {
    for (const text of ['169.254.169.254.example', 'fe80', 'localhost', '', '::ffff:a9fe:a9fe:1:2:3:4:5']) {
      expect(isLinkLocalOrMetadata(text), text).toBe(false);
    }
  });
});

describe('parseIpv6', () => {
  it('expands :: wherever it stands and reads a dotted IPv4 tail', () => {
    expect(parseIpv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('fe80::')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('64:ff9b::a9fe:a9fe')).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0xa9fe, 0xa9fe]);
    expect(parseIpv6('::ffff:0:169.254.169.254')).toEqual([0, 0, 0, 0, 0xffff, 0, 0xa9fe, 0xa9fe]);
    expect(parseIpv6('::169.254.169.254')).toEqual([0, 0, 0, 0, 0, 0, 0xa9fe, 0xa9fe]);
    expect(parseIpv6('1:2:3:4:5:6:169.254.0.1')).toEqual([1, 2, 3, 4, 5, 6, 0xa9fe, 0x0001]);
    expect(parseIpv6('FE80::1%eth0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('is undefined for anything that is not IPv6', () => {
    for (const text of ['169.254.169.254', 'example.com', '1::2::3', '12345::', '']) expect(parseIpv6(text), text).toBeUndefined();
  });
});

describe('URLs typed at `new`, in every notation', () => {
  const urls = [
    'http://[::169.254.169.254]:4096',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[64:ff9b::169.254.169.254]/',
    'http://[::ffff:0:a9fe:a9fe]/',
    'http://[::ffff:0:169.254.169.254]/',
    'http://[2002:a9fe:a9fe::]/',
    'http://169.254.169.254./',
    'http://metadata.google.internal./computeMetadata/v1',
    'http://instance-data./latest',
    'http://INSTANCE-DATA.EC2.INTERNAL../',
    'http://[fd20:ce::254]/',
  ];

  it.each(urls)('refuses %s without a lookup, with the setting that allows it', async (url) => {
    const error = await refusalOf(assertNotMetadataAddress(url, noLookup));
    expect(error.code).toBe('forbidden');
    expect(error.message).toMatch(new RegExp(`^refusing ${url.replace(/[.[\]/?*]/g, '\\$&')}: .+ is a link-local or cloud metadata address$`));
    expect(error.hint).toBe('an admin can allow it with `access.allowMetadataAddresses: true` in switchboard.yaml');
  });

  it('refuses a trailing-dot name that resolves to a metadata address, and asks DNS with the dot kept', async () => {
    const lookup = vi.fn<LookupHost>(async () => ['169.254.169.254']);
    const error = await refusalOf(assertNotMetadataAddress('http://sneaky.example.:4096', lookup));
    expect(error.message).toBe('refusing http://sneaky.example.:4096: sneaky.example. (169.254.169.254) is a link-local or cloud metadata address');
    expect(lookup).toHaveBeenCalledWith('sneaky.example.');
  });

  it('refuses names whose answers embed the metadata address in IPv6', async () => {
    for (const answer of ['64:ff9b::a9fe:a9fe', '::a9fe:a9fe', '::ffff:0:a9fe:a9fe']) {
      const error = await refusalOf(checkedAddresses('sneaky.example', async () => ['192.0.2.1', answer], 'the connection'));
      expect(error.message).toBe(`refusing the connection: sneaky.example (${answer}) is a link-local or cloud metadata address`);
    }
  });
});

describe('the lookup a connection uses', () => {
  type Answer = { error: NodeJS.ErrnoException | null; address: unknown; family?: number };
  function resolveWith(lookup: ReturnType<typeof createConnectionGuard>['lookup'], host: string, options: object): Promise<Answer> {
    return new Promise((resolve) => {
      (lookup as unknown as (h: string, o: object, cb: (e: NodeJS.ErrnoException | null, a: unknown, f?: number) => void) => void)(host, options, (error, address, family) =>
        resolve({ error, address, ...(family === undefined ? {} : { family }) }),
      );
    });
  }

  it('answers the way net asks: one address, or all of them, filtered by family', async () => {
    const guard = createConnectionGuard({ lookupHost: async () => ['192.0.2.1', '2001:db8::1'], allowMetadataAddresses: false });
    expect(await resolveWith(guard.lookup, 'lab.example', {})).toEqual({ error: null, address: '192.0.2.1', family: 4 });
    expect(await resolveWith(guard.lookup, 'lab.example', { family: 6 })).toEqual({ error: null, address: '2001:db8::1', family: 6 });
    expect(await resolveWith(guard.lookup, 'lab.example', { all: true })).toEqual({
      error: null,
      address: [
        { address: '192.0.2.1', family: 4 },
        { address: '2001:db8::1', family: 6 },
      ],
    });
  });

  it('refuses a name when any answer is a metadata address, and reports a failed lookup as ENOTFOUND', async () => {
    const guard = createConnectionGuard({
      lookupHost: async (host) => {
        if (host === 'gone.example') throw new Error('no such name');
        return ['192.0.2.1', '169.254.169.254'];
      },
      allowMetadataAddresses: false,
    });
    const refused = await resolveWith(guard.lookup, 'evil.example', { all: true });
    expect(refused.error).toBeInstanceOf(SwitchboardError);
    expect((refused.error as SwitchboardError).code).toBe('forbidden');
    expect(refused.error!.message).toBe('refusing the connection: evil.example (169.254.169.254) is a link-local or cloud metadata address');
    const gone = await resolveWith(guard.lookup, 'gone.example', {});
    expect(gone.error!.code).toBe('ENOTFOUND');
  });

  it('with access.allowMetadataAddresses, passes every answer through unchanged', async () => {
    const guard = createConnectionGuard({ lookupHost: async () => ['169.254.169.254'], allowMetadataAddresses: true });
    expect(await resolveWith(guard.lookup, 'metadata.google.internal.', {})).toEqual({ error: null, address: '169.254.169.254', family: 4 });
    expect(await guard.addresses('[fe80::1]')).toEqual(['fe80::1']);
  });
});
