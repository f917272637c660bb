import { SwitchboardError } from '../errors.js';

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function assertValidName(name: string): string {
  if (NAME_PATTERN.test(name)) return name;
  const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
  throw new SwitchboardError(
    'invalid_name',
    `invalid name ${shown}: a name is 1–32 characters of a–z, 0–9 and -, starting with a letter or digit`,
    { hint: 'for example `kumo` or `auth-fix`' },
  );
}

const CONSONANTS = 'bcdfghjklmnprstvz';
const VOWELS = 'aeiou';

/**
 * A free, pronounceable four-letter name (consonant-vowel-consonant-vowel, like `kumo` or `hetc` would be
 * too). `random` is injected so tests can make it deterministic.
 */
export function pickFreeName(isTaken: (name: string) => boolean, random: () => number = Math.random): string {
  const pick = (letters: string) => letters[Math.floor(random() * letters.length)] ?? letters[0]!;
  for (let attempt = 0; attempt < 200; attempt++) {
    const name = pick(CONSONANTS) + pick(VOWELS) + pick(CONSONANTS) + pick(VOWELS);
    if (!isTaken(name)) return name;
  }
  // 17·5·17·5 = 7 225 names: after 200 misses the space is nearly full, so widen it deterministically.
  for (let n = 2; ; n++) {
    const name = `${pick(CONSONANTS)}${pick(VOWELS)}${pick(CONSONANTS)}${pick(VOWELS)}-${n}`;
    if (!isTaken(name)) return name;
  }
}
