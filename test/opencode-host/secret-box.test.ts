import { describe, expect, test } from 'vitest';
import { createSecretBox } from '../../src/opencode-host/secret-box.js';
import { managedExecutorOf } from '../../src/opencode-host/index.js';

describe('sealing server passwords with SWITCHBOARD_SECRET', () => {
  const box = createSecretBox('correct horse battery staple');

  test('round trip; a fresh IV each time; nothing of the value shows', () => {
    const a = box.seal('pa:ss/word', 'opencode-host:crib:oc1')!;
    const b = box.seal('pa:ss/word', 'opencode-host:crib:oc1')!;
    expect(a).toMatch(/^sb1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('pa:ss');
    expect(box.open(a, 'opencode-host:crib:oc1')).toBe('pa:ss/word');
  });

  test('another row, another secret, or a changed byte: does not open', () => {
    const sealed = box.seal('secret', 'opencode-host:crib:oc1')!;
    expect(box.open(sealed, 'opencode-host:other:oc1')).toBeNull();
    expect(createSecretBox('another secret').open(sealed, 'opencode-host:crib:oc1')).toBeNull();
    const [v, iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(box.open([v, iv, tag, flipped.toString('base64url')].join('.'), 'opencode-host:crib:oc1')).toBeNull();
    expect(box.open('garbage', 'x')).toBeNull();
  });

  test('without a secret nothing is sealed (memory only)', () => {
    const none = createSecretBox(undefined);
    expect(none.persistent).toBe(false);
    expect(none.seal('x', 'y')).toBeNull();
    expect(createSecretBox('').persistent).toBe(false);
  });

  test('@executor labels', () => {
    expect(managedExecutorOf('@crib')).toBe('crib');
    expect(managedExecutorOf('@')).toBeNull();
    expect(managedExecutorOf('lab')).toBeNull();
  });
});
