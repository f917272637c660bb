import type { ChoiceOption } from '../../../src/core/reply.js';
import type { RenderLimits } from './limits.js';
import { escapeEntities, proseToMrkdwn } from './mrkdwn.js';
import { fitPieces } from './pieces.js';

/** A Block Kit block as plain JSON; the Web API call is where it meets Slack's own types. */
export interface SlackBlock {
  type: string;
  [key: string]: unknown;
}

/** Buttons carry `<choiceId>:<index>`; the action id only has to be unique within its block. */
export const CHOICE_ACTION_PREFIX = 'sb_choice_';

export function section(mrkdwn: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: mrkdwn } };
}

export function context(mrkdwn: string): SlackBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn }] };
}

/**
 * Exact text, shown as is: a rich_text block holding one preformatted element. Slack parses no mrkdwn,
 * entities, mentions or links inside its text elements, so nothing is escaped or inserted and what a person
 * copies from it is the text itself. (The mrkdwn ``` block needed zero-width spaces between backticks.)
 */
export function preformatted(text: string): SlackBlock {
  return { type: 'rich_text', elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'text', text }] }] };
}

/** Prose as one or more sections, each within Slack's section limit after escaping. */
export function proseSections(text: string, limits: RenderLimits): SlackBlock[] {
  return fitPieces(text, limits.sectionChars, (piece) => proseToMrkdwn(piece).length)
    .filter((piece) => piece.trim() !== '')
    .map((piece) => section(proseToMrkdwn(piece)));
}

/** Only ids Slack itself issues (U…/W…) are ever turned into a mention. */
export function attributionBlock(slackUserId: string): SlackBlock | undefined {
  return /^[UW][A-Z0-9]{2,}$/.test(slackUserId) ? context(`requested by <@${slackUserId}>`) : undefined;
}

/**
 * A choice: the question, the options' descriptions (buttons have no room for them), and the buttons. Labels
 * are plain_text, so nothing in an agent's or a server's name can become markup.
 */
export function choiceBlocks(
  block: { choiceId: string; prompt: string; options: ChoiceOption[] },
  limits: RenderLimits,
): SlackBlock[] {
  const blocks = proseSections(block.prompt, limits);
  const label = (text: string) => (text.length <= limits.buttonChars ? text : `${text.slice(0, limits.buttonChars - 1)}…`);
  const explained = block.options.filter((o) => o.description || label(o.label) !== o.label);
  if (explained.length > 0) {
    const lines = block.options.map((o, i) => `${i + 1}. *${escapeEntities(o.label)}*${o.description ? ` — ${escapeEntities(o.description)}` : ''}`);
    for (const piece of fitPieces(lines.join('\n'), limits.sectionChars, (p) => p.length)) blocks.push(section(piece));
  }
  const buttons = block.options.map((option, index) => ({
    type: 'button',
    action_id: `${CHOICE_ACTION_PREFIX}${index}`,
    text: { type: 'plain_text', text: label(option.label), emoji: true },
    value: `${block.choiceId}:${index}`,
    ...(option.style ? { style: option.style } : {}),
  }));
  for (let start = 0; start < buttons.length; start += limits.buttonsPerBlock) {
    blocks.push({
      type: 'actions',
      block_id: `${CHOICE_ACTION_PREFIX}${block.choiceId}_${start / limits.buttonsPerBlock}`,
      elements: buttons.slice(start, start + limits.buttonsPerBlock),
    });
  }
  return blocks;
}

/** How many characters of text a block carries, for the per-message budget. */
export function blockChars(block: SlackBlock): number {
  if (block.type === 'rich_text') return richTextChars(block['elements']);
  const text = block['text'];
  if (text && typeof text === 'object' && typeof (text as { text?: unknown }).text === 'string') {
    return (text as { text: string }).text.length;
  }
  const elements = block['elements'];
  if (Array.isArray(elements)) {
    return elements.reduce<number>((sum, el) => {
      const t = (el as { text?: unknown }).text;
      if (typeof t === 'string') return sum + t.length;
      if (t && typeof t === 'object' && typeof (t as { text?: unknown }).text === 'string') return sum + (t as { text: string }).text.length;
      return sum;
    }, 0);
  }
  return 0;
}

/** rich_text nests its text elements (preformatted, sections, lists); every one counts. */
function richTextChars(value: unknown): number {
  if (!Array.isArray(value)) return 0;
  return value.reduce<number>((sum, el) => {
    const node = el as { text?: unknown; elements?: unknown };
    return sum + (typeof node.text === 'string' ? node.text.length : richTextChars(node.elements));
  }, 0);
}
