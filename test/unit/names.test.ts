import { describe, expect, it } from 'vitest';
import { SwitchboardError } from '../../src/errors.js';
import { assertValidName, NAME_PATTERN, pickFreeName } from '../../src/sessions/names.js';

/** A deterministic random in [0, 1): a linear congruential generator. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Plays back the given values, then repeats the last. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

const CVCV = /^[bcdfghjklmnprstvz][aeiou][bcdfghjklmnprstvz][aeiou]$/;

describe('the name pattern', () => {
  it('accepts short lowercase names with digits and dashes', () => {
    for (const name of ['kumo', 'a', '0', 'auth-fix', '9lives', 'a-', 'x'.repeat(32), 'a--b']) {
      expect(NAME_PATTERN.test(name)).toBe(true);
      expect(assertValidName(name)).toBe(name);
    }
  });

  it('refuses hostile and malformed names', () => {
    const hostile = [
      '',
      '../x',
      '..',
      'a/b',
      '$(id)',
      '`id`',
      ';rm',
      'a;rm -rf /',
      'Kumo',
      'KUMO',
      'x'.repeat(33),
      '-kumo',
      '-',
      'ku mo',
      'kumo\n',
      '\nkumo',
      'ku_mo',
      'kumo.',
      'kümo',
      'ku\u0000mo',
      'ku\u200bmo',
      '--help',
    ];
    for (const name of hostile) {
      expect(NAME_PATTERN.test(name), JSON.stringify(name)).toBe(false);
      let caught: unknown;
      try {
        assertValidName(name);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(name)).toBeInstanceOf(SwitchboardError);
      expect((caught as SwitchboardError).code).toBe('invalid_name');
    }
  });

  it('shows the bad name (quoted, bounded) and what a name may be', () => {
    try {
      assertValidName('$(id)');
      expect.unreachable();
    } catch (error) {
      const e = error as SwitchboardError;
      expect(e.message).toBe('invalid name "$(id)": a name is 1–32 characters of a–z, 0–9 and -, starting with a letter or digit');
      expect(e.hint).toContain('kumo');
    }
    try {
      assertValidName('Y'.repeat(500));
      expect.unreachable();
    } catch (error) {
      expect((error as SwitchboardError).message).toContain(`"${'Y'.repeat(40)}…"`);
      expect((error as SwitchboardError).message.length).toBeLessThan(200);
    }
  });
});

describe('pickFreeName', () => {
  it('picks a pronounceable consonant-vowel-consonant-vowel name', () => {
    const random = seeded(42);
    for (let i = 0; i < 200; i++) {
      const name = pickFreeName(() => false, random);
      expect(name).toMatch(CVCV);
      expect(NAME_PATTERN.test(name)).toBe(true);
    }
  });

  it('is deterministic for an injected random', () => {
    expect(pickFreeName(() => false, sequence(0))).toBe('baba');
    expect(pickFreeName(() => false, sequence(0.9999))).toBe('zuzu');
    // bcdfghjklmnprstvz: k is index 7, m index 9; aeiou: u is 4, o is 3 (mid-bucket values avoid rounding).
    expect(pickFreeName(() => false, sequence(7.5 / 17, 4.5 / 5, 9.5 / 17, 3.5 / 5))).toBe('kumo');
    expect(pickFreeName(() => false, seeded(7))).toBe(pickFreeName(() => false, seeded(7)));
  });

  it('copes with a random that returns 1 (out of contract) without producing undefined letters', () => {
    expect(pickFreeName(() => false, () => 1)).toBe('baba');
  });

  it('skips names that are taken', () => {
    const taken = new Set(['baba']);
    const asked: string[] = [];
    const name = pickFreeName((n) => {
      asked.push(n);
      return taken.has(n);
    }, sequence(0, 0, 0, 0, 0.9999));
    expect(name).toBe('zuzu');
    expect(asked).toEqual(['baba', 'zuzu']);
  });

  it('never returns a taken name, whatever is taken', () => {
    const random = seeded(1);
    const taken = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const name = pickFreeName((n) => taken.has(n), random);
      expect(taken.has(name)).toBe(false);
      taken.add(name);
    }
    expect(taken.size).toBe(500);
  });

  it('widens the space with a numeric suffix when the short names keep colliding', () => {
    const taken = new Set(['baba', 'baba-2']);
    let calls = 0;
    const name = pickFreeName((n) => {
      calls++;
      return n.length === 4 || taken.has(n);
    }, sequence(0));
    expect(name).toBe('baba-3');
    expect(NAME_PATTERN.test(name)).toBe(true);
    // 200 short attempts, then baba-2 (taken), then baba-3.
    expect(calls).toBe(202);
  });
});
