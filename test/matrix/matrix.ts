import { describe, expect, it } from 'vitest';
import { allCommands } from '../../src/commands/index.js';

/**
 * The proof matrix: every verb of the verb table through one adapter, one `it` per cell, in the order given (a
 * cell may use what an earlier one made: `status` reads the name `new` created). Each adapter file hands over a
 * cell for every verb; the first test compares them with the verb table, so a verb added later without a cell
 * fails. Cells record each kind of post they asserted on; the last test requires every kind the adapter must show.
 */

/** Every kind of thing the bot posts, as a person sees it. */
export const POST_KINDS = [
  'echo',
  'card',
  'final ✅',
  'final ❌',
  'permission buttons',
  'question buttons',
  'stall',
  'unreachable',
  'back',
  'task finished',
  'task failed',
  'offload progress',
  'schedule fired',
] as const;
export type PostKind = (typeof POST_KINDS)[number];

export interface CellContext {
  /** Records that this cell asserted on a post of this kind. */
  saw(kind: PostKind): void;
}

export type Cell = (cx: CellContext) => Promise<void>;

export const VERBS: readonly string[] = allCommands.map((command) => command.verb);

export function verbMatrix(adapter: string, cells: Record<string, Cell>, options: { kinds: readonly PostKind[]; timeoutMs?: number }): void {
  const seen = new Set<PostKind>();
  const cx: CellContext = { saw: (kind) => seen.add(kind) };
  describe(`every verb through ${adapter}`, () => {
    it('has one cell for every verb of the verb table, and none for a verb that is not there', () => {
      expect(Object.keys(cells).sort()).toEqual([...VERBS].sort());
    });
    for (const [verb, cell] of Object.entries(cells)) {
      it(`${adapter} × ${verb}`, { timeout: options.timeoutMs ?? 90_000 }, () => cell(cx));
    }
    it(`showed every kind of post through ${adapter}`, () => {
      expect(POST_KINDS.filter((kind) => options.kinds.includes(kind) && !seen.has(kind))).toEqual([]);
      // The list itself may not shrink to nothing.
      expect(options.kinds.length).toBeGreaterThan(0);
    });
  });
}

/** Escapes text for use inside a RegExp. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
