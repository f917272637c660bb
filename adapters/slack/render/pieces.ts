import { splitOnLines } from '../../../src/core/split.js';

/**
 * Splits `raw` into pieces whose *rendered* form fits `limit`, on line boundaries where possible, losing no
 * character. Escaping makes text longer (`<` becomes `&lt;`), so a piece that fits raw may not fit rendered;
 * such a piece is split again with a proportionally smaller budget until it fits. (`splitOnLines` never cuts
 * inside a surrogate pair, so an emoji is never broken in two.)
 */
export function fitPieces(raw: string, limit: number, measure: (piece: string) => number, max = limit): string[] {
  const out: string[] = [];
  for (const piece of splitOnLines(raw, Math.max(1, max))) {
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
