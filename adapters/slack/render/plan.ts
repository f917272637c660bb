import type { Block, Reply } from '../../../src/core/reply.js';
import { slug } from '../../shared/file-names.js';
import { attributionBlock, blockChars, choiceBlocks, context, preformatted, proseSections, section, type SlackBlock } from './blocks.js';
import { SLACK_RENDER_LIMITS, type RenderLimits } from './limits.js';
import { FENCE_OVERHEAD, markdownToMrkdwn, proseToMrkdwn } from './mrkdwn.js';
import { fitPieces } from './pieces.js';

/**
 * A Reply as the Slack calls that will carry it: one or more messages (in order), then any files. Pure: the
 * same Reply always gives the same plan, which is what lets a delivery that failed half-way resume where it
 * stopped instead of posting the first half twice.
 */
export interface MessageDraft {
  /** The notification text Slack shows in alerts; the blocks are what the channel reads. */
  text: string;
  blocks: SlackBlock[];
}

export interface FileDraft {
  filename: string;
  title: string;
  /** The exact text, byte for byte. */
  content: string;
}

export interface DeliveryPlan {
  messages: MessageDraft[];
  files: FileDraft[];
}

export interface PlanOptions {
  limits?: RenderLimits;
  /** The Slack user id of the person whose command this answers ("requested by …"). */
  attributeTo?: string;
  /** Files cannot be ephemeral, so private replies spread long text over messages instead. */
  allowFiles: boolean;
  /** What the reply is about (the name), for file names. */
  subject?: string;
}

/** An indivisible run of blocks: a section, or a whole choice (its question belongs with its buttons). */
interface Part {
  blocks: SlackBlock[];
  chars: number;
}

export function planReply(reply: Reply, options: PlanOptions): DeliveryPlan {
  const limits = options.limits ?? SLACK_RENDER_LIMITS;
  const parts: Part[] = [];
  const files: FileDraft[] = [];
  const add = (blocks: SlackBlock[]) => parts.push({ blocks, chars: blocks.reduce((sum, b) => sum + blockChars(b), 0) });

  for (const block of reply.blocks) {
    switch (block.type) {
      case 'text':
        for (const s of proseSections(block.text, limits)) add([s]);
        break;
      case 'verbatim': {
        if (block.title) add([section(`*${proseToMrkdwn(block.title)}*`)]);
        if (block.text === '') {
          add([context('_(no text)_')]);
          break;
        }
        const pieces = fitPieces(block.text, limits.preformattedChars, (p) => p.length);
        if (pieces.length === 1) {
          add([preformatted(block.text)]);
          break;
        }
        // Over several blocks the text no longer copies as one (Slack puts breaks between blocks), so the
        // exact text goes along as a file. Private replies cannot carry files: there the blocks are all.
        if (!options.allowFiles) {
          for (const piece of pieces) add([preformatted(piece)]);
          break;
        }
        const file = fileFor(block, options.subject, files.length, 'txt');
        files.push(file);
        if (block.text.length > limits.messageChars) {
          add([section(attachedNote(block.text.length, file.filename, 'one message'))]);
          break;
        }
        for (const piece of pieces) add([preformatted(piece)]);
        add([context(`📎 the exact text is attached as \`${file.filename}\`: it is split over ${pieces.length} blocks above`)]);
        break;
      }
      case 'output': {
        if (block.title) add([section(`*${proseToMrkdwn(block.title)}*`)]);
        const pieces = outputPieces(block.text, limits);
        if (options.allowFiles && total(pieces) > limits.outputFileChars) {
          const file = fileFor(block, options.subject, files.length, 'md');
          files.push(file);
          add([section(attachedNote(block.text.length, file.filename, 'a few messages'))]);
        } else {
          for (const piece of pieces) add([section(piece)]);
        }
        break;
      }
      case 'choices':
        add(choiceBlocks(block, limits));
        break;
    }
  }

  const groups = pack(parts, limits);
  const fallback = fallbackText(reply, limits);
  const attribution = options.attributeTo ? attributionBlock(options.attributeTo) : undefined;
  const messages = groups.map((blocks, index): MessageDraft => {
    const numbered = groups.length > 1;
    const marker = `(${index + 1}/${groups.length})`;
    return {
      text: numbered ? `${marker} ${fallback}` : fallback,
      blocks: [
        ...(numbered ? [context(marker)] : []),
        ...blocks,
        ...(index === 0 && attribution ? [attribution] : []),
      ],
    };
  });
  return { messages, files };
}

/** Agent markdown in section-sized pieces; a code fence cut by a piece boundary is closed and reopened. */
function outputPieces(markdown: string, limits: RenderLimits): string[] {
  const budget = Math.max(1, limits.sectionChars - FENCE_OVERHEAD);
  const raw = fitPieces(markdown, budget, (p) => markdownToMrkdwn(p).text.length);
  let inFence = false;
  return raw.map((piece) => {
    const rendered = markdownToMrkdwn(piece, inFence);
    inFence = rendered.endsInFence;
    return rendered.text;
  }).filter((text) => text.trim() !== '');
}

/** Greedy packing in order: a new message starts when the next part would break the block or text budget. */
function pack(parts: Part[], limits: RenderLimits): SlackBlock[][] {
  const groups: SlackBlock[][] = [];
  let current: SlackBlock[] = [];
  let chars = 0;
  for (const part of parts) {
    const overBlocks = current.length + part.blocks.length > limits.blocksPerMessage;
    const overChars = chars + part.chars > limits.messageChars;
    if (current.length > 0 && (overBlocks || overChars)) {
      groups.push(current);
      current = [];
      chars = 0;
    }
    current.push(...part.blocks);
    chars += part.chars;
  }
  if (current.length > 0 || groups.length === 0) groups.push(current.length > 0 ? current : [section(' ')]);
  return groups;
}

function total(pieces: string[]): number {
  return pieces.reduce((sum, p) => sum + p.length, 0);
}

function attachedNote(length: number, filename: string, fits: string): string {
  return `📎 The full text (${length.toLocaleString('en-US')} characters) is attached as \`${filename}\`: it is longer than ${fits}.`;
}

function fileFor(block: Extract<Block, { type: 'verbatim' | 'output' }>, subject: string | undefined, index: number, ext: string): FileDraft {
  const base = slug(block.title ?? subject ?? 'switchboard') || 'switchboard';
  const kind = block.type === 'verbatim' ? 'text' : 'output';
  const filename = `${base}-${kind}${index > 0 ? `-${index + 1}` : ''}.${ext}`;
  return { filename, title: block.title ?? `${subject ?? 'Switchboard'} ${kind}`, content: block.text };
}

/**
 * Slack shows `text` in notifications and screen readers when blocks are present. Built from our own prose
 * (never from verbatim text), escaped, and short: the blocks carry everything.
 */
function fallbackText(reply: Reply, limits: RenderLimits): string {
  const first = reply.blocks.find((b) => b.type === 'text' || b.type === 'choices');
  const raw = first?.type === 'text' ? first.text : first?.type === 'choices' ? first.prompt : 'Switchboard';
  const line = raw.split('\n')[0]!.replace(/\*\*/g, '');
  const cut = line.length > limits.fallbackChars ? `${line.slice(0, limits.fallbackChars - 1)}…` : line;
  return proseToMrkdwn(cut) || 'Switchboard';
}
