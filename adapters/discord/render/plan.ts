import { numberPieces, splitOnLines } from '../../../src/core/split.js';
import { slug } from '../../shared/file-names.js';
import type { Block, Reply } from '../../../src/core/reply.js';
import { choiceRows, listsOptions, type ButtonRow } from './components.js';
import { DISCORD_LIMITS, type RenderLimits } from './limits.js';
import { codeBlock, inertMentions, showsExactly } from './markdown.js';
import { outputPieces } from './output.js';

/**
 * A Reply as the Discord messages that will carry it, in order. Pure: the same Reply always gives the same
 * plan, which is what lets a delivery that failed half-way resume where it stopped instead of posting the
 * first half twice.
 */
export interface FileDraft {
  name: string;
  /** The exact bytes (UTF-8 of the text). */
  data: Buffer;
}

export interface MessageDraft {
  content: string;
  components: ButtonRow[];
  files: FileDraft[];
}

export interface PlanOptions {
  limits?: RenderLimits;
  /** Discord user id of the person whose command this answers: "requested by <@id>" (never a ping). */
  attributeTo?: string;
  /** What the reply is about (the name), for file names. */
  subject?: string;
}

/** An indivisible run of a message: a paragraph, a code block with its file note, a choice with its buttons. */
interface Part {
  text: string;
  rows: ButtonRow[];
  files: FileDraft[];
}

export function planReply(reply: Reply, options: PlanOptions = {}): MessageDraft[] {
  const limits = options.limits ?? DISCORD_LIMITS;
  const budget = limits.contentChars - limits.reserveChars;
  const parts: Part[] = [];
  const fileNames = new Set<string>();
  const add = (text: string, extra: Partial<Omit<Part, 'text'>> = {}) => parts.push({ text, rows: extra.rows ?? [], files: extra.files ?? [] });
  const prose = (text: string) => {
    for (const piece of splitOnLines(inertMentions(text), budget)) if (piece.trim() !== '') add(piece);
  };
  const fileFor = (block: Extract<Block, { type: 'verbatim' | 'output' }>, ext: string) =>
    filesFor(uniqueBase(block, options.subject, fileNames), ext, block.text, limits);

  for (const block of reply.blocks) {
    switch (block.type) {
      case 'text':
        prose(block.text);
        break;
      case 'verbatim': {
        if (block.title) prose(`**${block.title}**`);
        const shown = codeBlock(block.text);
        if (showsExactly(block.text) && shown.length <= budget) {
          add(shown);
          break;
        }
        const files = fileFor(block, 'txt');
        const note = `-# 📎 the exact text is attached as ${fileList(files)}: the block above has invisible separators where Discord would misread it`;
        if (shown.length + 1 + note.length <= budget) add(`${shown}\n${note}`, { files });
        else add(`📎 The full text (${count(block.text)} characters) is attached as ${fileList(files)}: it is longer than one Discord message.`, { files });
        break;
      }
      case 'output': {
        if (block.title) prose(`**${block.title}**`);
        if (block.text.trim() === '') {
          add('-# (no text)');
          break;
        }
        const pieces = outputPieces(block.text, budget);
        if (pieces.length <= limits.outputPieces) {
          for (const piece of pieces) add(piece);
          break;
        }
        const files = fileFor(block, 'md');
        add(`📎 The output (${count(block.text)} characters) is attached as ${fileList(files)}: it is longer than ${limits.outputPieces} Discord messages.`, { files });
        break;
      }
      case 'choices': {
        const rows = choiceRows(block, limits);
        const lines = [inertMentions(block.prompt)];
        if (listsOptions(block, limits)) {
          block.options.forEach((option, index) => {
            lines.push(inertMentions(`\`${index + 1}\` **${option.label}**${option.description ? ` — ${option.description}` : ''}`));
          });
        }
        // The question belongs with its buttons; a very long list of options is shortened to what fits.
        const text = lines.join('\n');
        add(text.length <= budget ? text : `${text.slice(0, budget - 1)}…`, { rows });
        break;
      }
    }
  }

  const groups = pack(parts, budget, limits);
  const contents = numberPieces(groups.map((group) => group.map((p) => p.text).join('\n')));
  return groups.map((group, index) => ({
    content: index === 0 && options.attributeTo ? `${contents[index]}\n-# requested by <@${options.attributeTo}>` : contents[index]!,
    components: group.flatMap((p) => p.rows),
    files: group.flatMap((p) => p.files),
  }));
}

/** Greedy packing in order: a new message starts when the next part would break the text, row or file budget. */
function pack(parts: Part[], budget: number, limits: RenderLimits): Part[][] {
  const groups: Part[][] = [];
  let current: Part[] = [];
  let chars = 0;
  let rows = 0;
  let files = 0;
  for (const part of parts) {
    const grows = (current.length > 0 ? 1 : 0) + part.text.length;
    const full =
      chars + grows > budget || rows + part.rows.length > limits.rowsPerMessage || files + part.files.length > limits.filesPerMessage;
    if (current.length > 0 && full) {
      groups.push(current);
      current = [];
      chars = rows = files = 0;
    }
    chars += (current.length > 0 ? 1 : 0) + part.text.length;
    rows += part.rows.length;
    files += part.files.length;
    current.push(part);
  }
  if (current.length > 0) groups.push(current);
  // Discord refuses an empty message; a reply with nothing to show still says so.
  return groups.length > 0 ? groups : [[{ text: '-# (empty reply)', rows: [], files: [] }]];
}

/** The exact text as one file, or as numbered parts when it is larger than one upload may be. */
function filesFor(base: string, ext: string, text: string, limits: RenderLimits): FileDraft[] {
  // Worst case three UTF-8 bytes per UTF-16 unit, so a part of fileBytes/3 units always fits.
  const chunks = text.length * 3 <= limits.fileBytes ? [text] : splitOnLines(text, Math.floor(limits.fileBytes / 3));
  return chunks.map((chunk, index) => ({
    name: chunks.length === 1 ? `${base}.${ext}` : `${base}-part${index + 1}.${ext}`,
    data: Buffer.from(chunk, 'utf8'),
  }));
}

function uniqueBase(block: Extract<Block, { type: 'verbatim' | 'output' }>, subject: string | undefined, taken: Set<string>): string {
  const stem = `${slug(block.title ?? subject ?? 'switchboard') || 'switchboard'}-${block.type === 'verbatim' ? 'text' : 'output'}`;
  let base = stem;
  for (let n = 2; taken.has(base); n++) base = `${stem}-${n}`;
  taken.add(base);
  return base;
}

function fileList(files: FileDraft[]): string {
  return files.map((f) => `\`${f.name}\``).join(', ');
}

function count(text: string): string {
  return text.length.toLocaleString('en-US');
}

