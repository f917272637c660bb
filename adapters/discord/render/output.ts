import { splitOnLines } from '../../../src/core/split.js';
import { inertMentions, openFenceAfter } from './markdown.js';

/** Room for closing a code block at the end of a piece ("\n```") and reopening it in the next ("```lang\n"). */
const FENCE_OVERHEAD = 4 + 3 + 20 + 1;

/**
 * Agent markdown as pieces of at most `limit` characters, split on line boundaries, with mentions made inert.
 * Formatting still renders; a code block cut by a piece boundary is closed at the end of one piece and reopened
 * (same language) at the start of the next, so both halves still read as code. Nothing is dropped.
 */
export function outputPieces(markdown: string, limit: number): string[] {
  const rendered = inertMentions(markdown);
  const raw = splitOnLines(rendered, Math.max(1, limit - FENCE_OVERHEAD));
  let open: { lang: string } | undefined;
  return raw.map((piece) => {
    const startsOpen = open;
    open = openFenceAfter(piece, startsOpen);
    const head = startsOpen ? `\`\`\`${startsOpen.lang}\n` : '';
    const tail = open ? `${piece.endsWith('\n') ? '' : '\n'}\`\`\`` : '';
    return `${head}${piece}${tail}`;
  });
}
