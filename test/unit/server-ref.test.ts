import { describe, expect, it, vi } from 'vitest';
import { SwitchboardError } from '../../src/errors.js';
import { assertNotMetadataAddress, type LookupHost } from '../../src/opencode/address-guard.js';
import { looksLikeUrl, parseServerUrl } from '../../src/opencode/server-ref.js';

function refusal(fn: () => unknown): SwitchboardError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchboardError);
    return error as SwitchboardError;
  }
  throw new Error('expected a SwitchboardError');
}

async function refusalOf(promise: Promise<unknown>): Promise<SwitchboardError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchboardError);
    return error as SwitchboardError;
  }
  throw new Error('expected a refusal');
}

describe('parseServerUrl', () => {
  it('accepts http and https URLs and trims trailing slashes', () => {
    expect(parseServerUrl('http://127.0.0.1:4096')).toBe('http://127.0.0.1:4096');
    expect(parseServerUrl('http://127.0.0.1:4096/')).toBe('http://127.0.0.1:4096');
    expect(parseServerUrl('https://lab.example.com/opencode//')).toBe('https://lab.example.com/opencode');
    expect(parseServerUrl('HTTP://LAB.example.com:80/')).toBe('http://lab.example.com');
  });

  it('refuses credentials without echoing them', () => {
    for (const raw of ['http://user:hunter22@lab:4096', 'https://opencode@lab/', 'http://:hunter22@lab']) {
      const error = refusal(() => parseServerUrl(raw));
      expect(error.code).toBe('invalid_url');
      expect(error.message).toContain('must not carry credentials');
      expect(error.message).not.toContain('hunter22');
      expect(error.message).toContain('passwordEnv');
    }
  });

  it('refuses a query or a fragment', () => {
    for (const raw of ['http://lab:4096/?directory=/etc', 'http://lab:4096#top']) {
      const error = refusal(() => parseServerUrl(raw));
      expect(error.code).toBe('invalid_url');
      expect(error.message).toContain('has no query or fragment');
    }
  });

  it('an empty query or fragment marker does not end up in the URL', () => {
    for (const raw of ['http://lab:4096/?', 'http://lab:4096/#']) {
      let result: string | undefined;
      try {
        result = parseServerUrl(raw);
      } catch (error) {
        expect((error as SwitchboardError).code).toBe('invalid_url');
        continue;
      }
      expect(result).toBe('http://lab:4096');
    }
  });

  it('refuses other schemes and things that are not URLs', () => {
    for (const raw of ['ftp://lab/', 'file:///etc/passwd', 'javascript:alert(1)', 'ws://lab:4096']) {
      const error = refusal(() => parseServerUrl(raw));
      expect(error.code).toBe('invalid_url');
      expect(error.message).toContain('only http:// and https://');
    }
    for (const raw of ['', 'lab', '127.0.0.1:4096x', 'http://', 'http://[::1']) {
      expect(refusal(() => parseServerUrl(raw)).code).toBe('invalid_url');
    }
  });

  it('bounds how much of a bad input it echoes', () => {
    const error = refusal(() => parseServerUrl(`not a url ${'x'.repeat(1_000)}`));
    expect(error.message.length).toBeLessThan(200);
    expect(error.hint).toContain('http://127.0.0.1:4096');
  });
});

describe('looksLikeUrl', () => {
  it('tells URLs from configured names', () => {
    expect(looksLikeUrl('http://127.0.0.1:4096')).toBe(true);
    expect(looksLikeUrl('127.0.0.1:4096')).toBe(true);
    expect(looksLikeUrl('lab.example.com/x')).toBe(true);
    expect(looksLikeUrl('lab')).toBe(false);
    expect(looksLikeUrl('my-lab')).toBe(false);
  });
});

describe('assertNotMetadataAddress', () => {
  const noLookup: LookupHost = async () => {
    throw new Error('lookup must not be called for this host');
  };

  it('refuses the link-local metadata address', async () => {
    const error = await refusalOf(assertNotMetadataAddress('http://169.254.169.254/latest/meta-data', noLookup));
    expect(error.code).toBe('forbidden');
    expect(error.message).toBe('refusing http://169.254.169.254/latest/meta-data: 169.254.169.254 is a link-local or cloud metadata address');
    expect(error.hint).toContain('allowMetadataAddresses');
  });

  it('refuses metadata host names without resolving them', async () => {
    const lookup = vi.fn(noLookup);
    for (const url of ['http://metadata.google.internal/computeMetadata/v1', 'http://METADATA.GOOGLE.INTERNAL', 'http://instance-data:80']) {
      expect((await refusalOf(assertNotMetadataAddress(url, lookup))).code).toBe('forbidden');
    }
    expect(lookup).not.toHaveBeenCalled();
  });

  it('refuses IPv6 link-local and other metadata addresses', async () => {
    for (const url of ['http://[fe80::1]:4096', 'http://[FEBF::abcd]/', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/', 'http://169.254.0.1:4096']) {
      expect((await refusalOf(assertNotMetadataAddress(url, noLookup))).code, url).toBe('forbidden');
    }
  });

  it('refuses the metadata address written in other notations', async () => {
    // The URL parser normalises these to 169.254.169.254 before the check.
    for (const url of ['http://2852039166/', 'http://0xa9.0xfe.0xa9.0xfe/']) {
      expect((await refusalOf(assertNotMetadataAddress(url, noLookup))).code, url).toBe('forbidden');
    }
  });

  it('refuses an IPv4-mapped IPv6 literal of the metadata address', async () => {
    // Node's URL parser turns [::ffff:169.254.169.254] into [::ffff:a9fe:a9fe]; a dual-stack socket still reaches 169.254.169.254.
    expect((await refusalOf(assertNotMetadataAddress('http://[::ffff:169.254.169.254]/', noLookup))).code).toBe('forbidden');
  });

  it('allows loopback and ordinary addresses', async () => {
    await expect(assertNotMetadataAddress('http://127.0.0.1:4096', noLookup)).resolves.toBeUndefined();
    await expect(assertNotMetadataAddress('http://[::1]:4096', noLookup)).resolves.toBeUndefined();
    await expect(assertNotMetadataAddress('http://10.0.0.5:4096', noLookup)).resolves.toBeUndefined();
    await expect(assertNotMetadataAddress('http://[fec0::1]/', noLookup)).resolves.toBeUndefined();
  });

  it('resolves names with the injected lookup and refuses when any address is link-local', async () => {
    const lookup = vi.fn<LookupHost>(async (host) => (host === 'evil.example' ? ['10.0.0.1', '169.254.169.254'] : ['192.0.2.10']));
    const error = await refusalOf(assertNotMetadataAddress('http://evil.example:4096', lookup));
    expect(error.message).toBe('refusing http://evil.example:4096: evil.example (169.254.169.254) is a link-local or cloud metadata address');
    await expect(assertNotMetadataAddress('http://lab.example:4096', lookup)).resolves.toBeUndefined();
    expect(lookup.mock.calls.map((c) => c[0])).toEqual(['evil.example', 'lab.example']);
  });

  it('refuses names that resolve to IPv4-mapped link-local addresses', async () => {
    const error = await refusalOf(assertNotMetadataAddress('http://sneaky.example', async () => ['::ffff:169.254.169.254']));
    expect(error.code).toBe('forbidden');
  });

  it('leaves names that do not resolve to the client', async () => {
    await expect(
      assertNotMetadataAddress('http://nowhere.invalid', async () => {
        throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
      }),
    ).resolves.toBeUndefined();
  });
});
