import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numberPieces, splitOnLines } from '../../src/core/split.js';

/**
 * Any UTF-16 text up to 400 code units, lone surrogates included. (Built from code units because
 * `fc.string({ unit: 'binary', maxLength })` is slow to generate at this size.)
 */
const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 400 }).map((codes) => String.fromCharCode(...codes));

describe('splitOnLines', () => {
  it('returns short text whole', () => {
    expect(splitOnLines('hello', 10)).toEqual(['hello']);
    expect(splitOnLines('', 10)).toEqual(['']);
    expect(splitOnLines('x'.repeat(10), 10)).toEqual(['x'.repeat(10)]);
  });

  it('refuses a max below 1', () => {
    expect(() => splitOnLines('abc', 0)).toThrow(RangeError);
  });

  it('prefers line boundaries, keeping each newline with its line', () => {
    const text = 'line one\nline two\nline three\n';
    expect(splitOnLines(text, 20)).toEqual(['line one\nline two\n', 'line three\n']);
  });

  it('packs as many whole lines as fit', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `${i}`.repeat(9)); // 9 chars + newline = 10 each
    const text = lines.map((l) => `${l}\n`).join('');
    const pieces = splitOnLines(text, 30);
    expect(pieces).toHaveLength(4);
    for (const piece of pieces.slice(0, 3)) expect(piece).toHaveLength(30);
    for (const piece of pieces) expect(piece.endsWith('\n')).toBe(true);
  });

  it('cuts an over-long line at a late space', () => {
    const pieces = splitOnLines('aaaa bbbb cccc dddd', 10);
    expect(pieces).toEqual(['aaaa bbbb ', 'cccc dddd']);
  });

  it('cuts hard when there is no space in the second half of the window', () => {
    expect(splitOnLines('ab cdefghijklmnop', 10)).toEqual(['ab cdefghi', 'jklmnop']);
    expect(splitOnLines('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('never loses a character, and every piece fits', () => {
    const text = fc.oneof(
      codeUnits,
      fc.array(fc.oneof(fc.constantFrom('\n', ' ', '\n\n', '  '), fc.string({ maxLength: 40 })), { maxLength: 60 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 80 }), (value, max) => {
        // node:assert rather than expect() inside properties: expect() is slow over thousands of runs.
        const pieces = splitOnLines(value, max);
        assert.equal(pieces.join(''), value);
        assert.deepEqual(pieces.filter((piece) => piece.length > max), []);
        if (value.length > 0) assert.deepEqual(pieces.filter((piece) => piece.length === 0), []);
      }),
      { numRuns: 500 },
    );
  });

  it('only breaks inside a line when that line alone is too long', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 0, maxLength: 15 }).map((s) => s.replace(/\n/g, '')), { minLength: 1, maxLength: 30 }), (lines) => {
        const text = lines.map((l) => `${l}\n`).join('');
        // Every line with its newline fits in 16, so no piece may end mid-line.
        assert.deepEqual(splitOnLines(text, 16).filter((piece) => !piece.endsWith('\n')), []);
      }),
      { numRuns: 300 },
    );
  });

  it('never cuts a character in two (a surrogate pair split across messages is lost)', () => {
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    expect(splitOnLines('😀'.repeat(10), 5).some((piece) => loneSurrogate.test(piece))).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.integer({ min: 2, max: 40 }), (value, max) => {
        fc.pre(!loneSurrogate.test(value));
        const pieces = splitOnLines(value, max);
        assert.equal(pieces.join(''), value);
        assert.deepEqual(pieces.filter((piece) => loneSurrogate.test(piece)), []);
      }),
      { numRuns: 300 },
    );
  });

  it('handles a 100 000-character line', () => {
    const line = 'word '.repeat(20_000);
    const pieces = splitOnLines(line, 4_000);
    expect(pieces.join('')).toBe(line);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(4_000);
    expect(pieces.length).toBe(25);
  });
});

describe('numberPieces', () => {
  it('leaves a single piece alone', () => {
    expect(numberPieces(['only'])).toEqual(['only']);
    expect(numberPieces([])).toEqual([]);
  });

  it('adds (i/n) markers on their own line', () => {
    expect(numberPieces(['a', 'b', 'c'])).toEqual(['(1/3)\na', '(2/3)\nb', '(3/3)\nc']);
  });
});
