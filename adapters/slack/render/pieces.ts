import { splitOnLines } from '../../../src/core/split.js';

/**
 * Splits `raw` into pieces whose *rendered* form fits `limit`, on line boundaries where possible, losing no
 * character. Escaping makes text longer (`<` becomes `&lt;`), so a piece that fits raw may not fit rendered;
 * such a piece is split again with a proportionally smaller budget until it fits. Cuts never fall inside a
 * surrogate pair, so an emoji is never broken in two.
 */
export function fitPieces(raw: string, limit: number, measure: (piece: string) => number, max = limit): string[] {
  const out: string[] = [];
  for (const piece of keepSurrogatesTogether(splitOnLines(raw, Math.max(1, max)))) {
    const size = measure(piece);
    if (size <= limit || piece.length <= 1) {
      out.push(piece);
      continue;
    }
    const smaller = Math.max(1, Math.min(piece.length - 1, Math.floor((piece.length * limit) / size)));
    out.push(...fitPieces(piece, limit, measure, smaller));
  }
  return out;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Moves a trailing high surrogate onto the front of the next piece. */
function keepSurrogatesTogether(pieces: string[]): string[] {
  const out = [...pieces];
  for (let i = 0; i < out.length - 1; i++) {
    const piece = out[i]!;
    if (piece.length > 1 && isHighSurrogate(piece.charCodeAt(piece.length - 1))) {
      out[i] = piece.slice(0, -1);
      out[i + 1] = piece.slice(-1) + out[i + 1]!;
    }
  }
  return out;
}
