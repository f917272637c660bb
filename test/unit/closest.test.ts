import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../src/core/closest.js';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('send', 'send')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('status', 'statu')).toBe(1);
    expect(editDistance('todo', 'toda')).toBe(1);
  });

  it('counts a swap of two neighbours as one edit', () => {
    expect(editDistance('sned', 'send')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('stauts', 'status')).toBe(1);
  });

  it('is optimal string alignment: a swapped pair is not edited again', () => {
    // True Damerau–Levenshtein gives 2 (ca → ac → abc); OSA forbids editing the swapped pair, so 3.
    expect(editDistance('ca', 'abc')).toBe(3);
  });

  it('is symmetric, zero only for equal strings, and bounded by the longer length', () => {
    const word = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(word, word, (a, b) => {
        const d = editDistance(a, b);
        assert.equal(d, editDistance(b, a));
        assert.equal(d === 0, a === b);
        assert.ok(d <= Math.max(a.length, b.length));
        assert.ok(d >= Math.abs(a.length - b.length));
      }),
      { numRuns: 300 },
    );
  });
});

describe('closest', () => {
  const verbs = ['help', 'sessions', 'new', 'attach', 'send', 'status', 'todo', 'last', 'watch', 'unwatch', 'abort'];

  it('suggests the candidate within typo distance', () => {
    expect(closest('sned', verbs)).toBe('send');
    expect(closest('staus', verbs)).toBe('status');
    expect(closest('wacth', verbs)).toBe('watch');
    expect(closest('abrot', verbs)).toBe('abort');
  });

  it('is case-insensitive on the input', () => {
    expect(closest('SNED', verbs)).toBe('send');
  });

  it('treats a prefix of two or more characters as a near match', () => {
    expect(closest('sess', verbs)).toBe('sessions');
    expect(closest('unw', verbs)).toBe('unwatch');
  });

  it('suggests nothing beyond the tolerance', () => {
    expect(closest('deploy', verbs)).toBeUndefined();
    expect(closest('xyz', verbs)).toBeUndefined();
    // Short words tolerate one edit only.
    expect(closest('nwe', ['new'])).toBe('new');
    expect(closest('xxw', ['new'])).toBeUndefined();
    // Tolerance is a third of the longer word: 'agent' (5) tolerates one edit, not two.
    expect(closest('agnet', ['agent'])).toBe('agent');
    expect(closest('bgnet', ['agent'])).toBeUndefined();
  });

  it('suggests nothing without candidates or for an empty input', () => {
    expect(closest('send', [])).toBeUndefined();
    expect(closest('', ['send', 'new'])).toBeUndefined();
  });

  it('prefers the nearest candidate, and the first among equals', () => {
    expect(closest('lst', ['last', 'list'])).toBe('last');
    expect(closest('lst', ['list', 'last'])).toBe('list');
    expect(closest('kumo', ['kuma', 'kumo'])).toBe('kumo');
  });

  it('only ever returns one of the candidates, within a third of the length (at least one edit)', () => {
    const word = fc.string({ minLength: 0, maxLength: 10 });
    fc.assert(
      fc.property(word, fc.array(word, { maxLength: 6 }), (input, candidates) => {
        const found = closest(input, candidates);
        if (found === undefined) return;
        assert.ok(candidates.includes(found));
        const needle = input.toLowerCase();
        const prefix = needle.length >= 2 && found.startsWith(needle);
        if (!prefix) assert.ok(editDistance(needle, found) <= Math.max(1, Math.floor(Math.max(needle.length, found.length) / 3)));
      }),
      { numRuns: 300 },
    );
  });

  it('bounds the work for huge inputs', () => {
    expect(closest('s'.repeat(100_000), verbs)).toBeUndefined();
  });
});
