import { text, verbatim, type Block } from './reply.js';
import { formatSize } from '../files/limits.js';

/**
 * The Unicode bidirectional controls. Embeddings, overrides and isolates can make text display in an order
 * other than the one it was typed in ("Trojan Source", CVE-2021-42574); the marks are invisible and can move
 * neutral characters (digits, punctuation) across a run. All are invisible, so an exact echo of them looks the
 * same as a harmless prompt: the echo counts them out loud instead.
 */
const BIDI_CONTROLS: ReadonlyMap<string, string> = new Map([
  ['\u202a', 'left-to-right embedding'],
  ['\u202b', 'right-to-left embedding'],
  ['\u202c', 'pop directional formatting'],
  ['\u202d', 'left-to-right override'],
  ['\u202e', 'right-to-left override'],
  ['\u2066', 'left-to-right isolate'],
  ['\u2067', 'right-to-left isolate'],
  ['\u2068', 'first strong isolate'],
  ['\u2069', 'pop directional isolate'],
  ['\u200e', 'left-to-right mark'],
  ['\u200f', 'right-to-left mark'],
  ['\u061c', 'Arabic letter mark'],
]);

const BIDI_PATTERN = new RegExp(`[${[...BIDI_CONTROLS.keys()].join('')}]`, 'g');

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * One line naming the bidirectional controls in `prompt`, by count, kind and code point, in the order they
 * first appear; null when there are none. Only our own words and numbers: nothing of the prompt is quoted.
 */
export function bidiNotice(prompt: string): string | null {
  const counts = new Map<string, number>();
  for (const [char] of prompt.matchAll(BIDI_PATTERN)) counts.set(char, (counts.get(char) ?? 0) + 1);
  if (counts.size === 0) return null;
  const parts = [...counts].map(([char, n]) => `${n} ${BIDI_CONTROLS.get(char)!} character${n === 1 ? '' : 's'} (${codePoint(char)})`);
  const list = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
  return `⚠️ this prompt contains ${list}: invisible, and able to make the text above display in a different order than it was sent`;
}

/**
 * The echo of a prompt: its exact bytes, and, when it holds bidirectional controls, a line saying so, so the
 * echo cannot read differently from what was sent on any platform.
 */
export function promptEcho(prompt: string, files: readonly EchoedFile[] = []): Block[] {
  const notice = bidiNotice(prompt);
  const blocks = notice === null ? [verbatim(prompt)] : [verbatim(prompt), text(notice)];
  if (files.length > 0) blocks.push(text(filesLine(files)));
  return blocks;
}

/** A file that went with a prompt, as the echo lists it. */
export interface EchoedFile {
  name: string;
  size: number;
  mimeType: string;
}

/** `📎 2 files: a.png (12 KB, image/png) · notes.txt (300 B, text/plain)`; names in code spans, so markup in one shows as typed. */
export function filesLine(files: readonly EchoedFile[]): string {
  const list = files.map((f) => `\`${f.name.replace(/`/g, "'")}\` (${formatSize(f.size)}, ${f.mimeType})`).join(' · ');
  return `📎 ${files.length} file${files.length === 1 ? '' : 's'}: ${list}`;
}
