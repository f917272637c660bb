/**
 * Splits text into pieces of at most `max` characters, on line boundaries where possible, never dropping a
 * character. A line longer than `max` is cut at a space if there is one late enough, else hard.
 */
export function splitOnLines(text: string, max: number): string[] {
  if (max < 1) throw new RangeError('max must be positive');
  if (text.length <= max) return [text];
  const pieces: string[] = [];
  let current = '';
  const flush = () => {
    if (current.length) pieces.push(current);
    current = '';
  };
  for (const line of text.split(/(?<=\n)/)) {
    if (current.length + line.length <= max) {
      current += line;
      continue;
    }
    flush();
    let rest = line;
    while (rest.length > max) {
      const window = rest.slice(0, max);
      const space = window.lastIndexOf(' ');
      let cut = space > max * 0.5 ? space + 1 : max;
      // Never split a surrogate pair: half an emoji shows as a broken character.
      if (cut > 1 && /[\uD800-\uDBFF]/.test(rest[cut - 1]!)) cut--;
      pieces.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    current = rest;
  }
  flush();
  return pieces;
}

/** Adds "(1/3)" markers when a message had to be split, so readers know more is coming. */
export function numberPieces(pieces: string[]): string[] {
  if (pieces.length <= 1) return pieces;
  return pieces.map((piece, index) => `(${index + 1}/${pieces.length})\n${piece}`);
}
