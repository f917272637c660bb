import { isRecord } from './limits.js';
import type { Block } from './types.js';

/**
 * Renders Block Kit as the plain text a person would read, for `visibleText` and transcripts. When a message has
 * blocks Slack shows them and uses `text` only for notifications, so the rendering prefers blocks.
 * Buttons render as `[Label]` so a transcript shows what can be clicked.
 */
export function renderVisibleText(text: string, blocks: readonly Block[] | undefined): string {
  if (!blocks || blocks.length === 0) return text;
  return blocks.map(renderBlock).filter((line) => line !== '').join('\n');
}

export function renderBlock(block: Block): string {
  switch (block.type) {
    case 'section': {
      const parts = [textOf(block['text'])];
      if (Array.isArray(block['fields'])) parts.push(block['fields'].map(textOf).join(' | '));
      const accessory = renderElement(block['accessory']);
      if (accessory) parts.push(accessory);
      return parts.filter((p) => p !== '').join(' ');
    }
    case 'header':
      return `# ${textOf(block['text'])}`;
    case 'markdown':
      return typeof block['text'] === 'string' ? block['text'] : '';
    case 'divider':
      return '---';
    case 'context':
    case 'actions':
      return asArray(block['elements']).map(renderElement).filter((p) => p !== '').join(' ');
    case 'image':
      return `[image: ${String(block['alt_text'] ?? '')}]`;
    case 'rich_text':
      return richText(block['elements']);
    default:
      return `[${block.type}]`;
  }
}

function renderElement(element: unknown): string {
  if (!isRecord(element)) return '';
  switch (element['type']) {
    case 'button':
      return `[${textOf(element['text'])}]`;
    case 'image':
      return `[image: ${String(element['alt_text'] ?? '')}]`;
    case 'plain_text':
    case 'mrkdwn':
      return textOf(element);
    default:
      return typeof element['type'] === 'string' ? `[${element['type']}]` : '';
  }
}

function textOf(value: unknown): string {
  if (isRecord(value) && typeof value['text'] === 'string') return value['text'];
  return '';
}

/**
 * rich_text nests sections, lists and quotes; flatten to the words in order. A preformatted element shows as
 * Slack draws it, a code block: fenced here, its text exactly as sent (Slack parses nothing inside).
 */
function richText(value: unknown): string {
  if (!Array.isArray(value)) return '';
  return value
    .map((el) => {
      if (!isRecord(el)) return '';
      if (el['type'] === 'rich_text_preformatted') return `\`\`\`${richText(el['elements'])}\`\`\``;
      if (typeof el['text'] === 'string') return el['text'];
      if (el['type'] === 'user') return `<@${String(el['user_id'])}>`;
      if (el['type'] === 'link') return String(el['text'] ?? el['url'] ?? '');
      if (el['type'] === 'emoji') return `:${String(el['name'])}:`;
      return richText(el['elements']);
    })
    .join('');
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
