/**
 * Slack's content limits, enforced the way the Web API reports them. Real Slack silently truncates text past
 * 40 000 chars, but the twin answers `msg_too_long` instead so an adapter that forgets to split fails in CI.
 * Block errors carry Slack-style `[ERROR] … [json-pointer:/blocks/0/text/text]` messages, which web-api logs.
 */
export const SLACK_LIMITS = {
  textChars: 40_000,
  blocksPerMessage: 50,
  sectionTextChars: 3_000,
  sectionFields: 10,
  sectionFieldChars: 2_000,
  headerTextChars: 150,
  markdownBlockChars: 12_000,
  /**
   * Text in one rich_text block. Slack documents no limit; integrators report refusals past about 4 000
   * characters, so the twin refuses there (a renderer that stays under it is safe either way).
   */
  richTextChars: 4_000,
  contextElements: 10,
  actionsElements: 25,
  buttonTextChars: 75,
  buttonValueChars: 2_000,
  actionIdChars: 255,
  blockIdChars: 255,
} as const;

/** Block types Slack accepts in messages. A typo such as `sectoin` is rejected, as Slack would. */
export const MESSAGE_BLOCK_TYPES: ReadonlySet<string> = new Set([
  'actions',
  'context',
  'context_actions',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

export interface LimitViolation {
  readonly error: 'msg_too_long' | 'invalid_blocks' | 'no_text';
  readonly messages: readonly string[];
}

export interface MessageContent {
  readonly text: string | undefined;
  readonly blocks: readonly Record<string, unknown>[] | undefined;
  /** chat.postMessage with files/attachments only is valid without text; callers pass what they have. */
  readonly hasOtherContent?: boolean;
}

export function checkMessageLimits(content: MessageContent): LimitViolation | undefined {
  const { text, blocks } = content;
  const hasText = typeof text === 'string' && text.length > 0;
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  if (!hasText && !hasBlocks && !content.hasOtherContent) {
    return { error: 'no_text', messages: [] };
  }
  if (hasText && text.length > SLACK_LIMITS.textChars) {
    return { error: 'msg_too_long', messages: [] };
  }
  if (blocks) {
    const problems = checkBlocks(blocks);
    if (problems.length > 0) return { error: 'invalid_blocks', messages: problems };
  }
  return undefined;
}

export function checkBlocks(blocks: readonly Record<string, unknown>[]): string[] {
  const problems: string[] = [];
  const err = (message: string, pointer: string): void => {
    problems.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  };
  if (blocks.length > SLACK_LIMITS.blocksPerMessage) {
    err(`no more than ${SLACK_LIMITS.blocksPerMessage} items allowed`, '/blocks');
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const at = `/blocks/${i}`;
    const type = block['type'];
    if (typeof type !== 'string' || !MESSAGE_BLOCK_TYPES.has(type)) {
      err(`unsupported type: ${String(type)}`, `${at}/type`);
      return;
    }
    const blockId = block['block_id'];
    if (typeof blockId === 'string') {
      if (blockId.length > SLACK_LIMITS.blockIdChars) {
        err(`must be less than ${SLACK_LIMITS.blockIdChars + 1} characters`, `${at}/block_id`);
      }
      if (blockIds.has(blockId)) err(`duplicate block_id: ${blockId}`, `${at}/block_id`);
      blockIds.add(blockId);
    }
    switch (type) {
      case 'section':
        checkSection(block, at, err);
        break;
      case 'header':
        checkTextObject(block['text'], `${at}/text`, SLACK_LIMITS.headerTextChars, err, { plainOnly: true });
        break;
      case 'markdown':
        checkString(block['text'], `${at}/text`, SLACK_LIMITS.markdownBlockChars, err);
        break;
      case 'context':
        checkElementCount(block['elements'], `${at}/elements`, SLACK_LIMITS.contextElements, err);
        break;
      case 'actions':
        checkElementCount(block['elements'], `${at}/elements`, SLACK_LIMITS.actionsElements, err);
        asArray(block['elements']).forEach((el, j) => checkInteractive(el, `${at}/elements/${j}`, err));
        break;
      case 'rich_text':
        checkRichText(block, at, err);
        break;
      default:
        break;
    }
  });
  return problems;
}

type Report = (message: string, pointer: string) => void;

function checkSection(block: Record<string, unknown>, at: string, err: Report): void {
  const fields = block['fields'];
  if (block['text'] === undefined && fields === undefined) {
    err('must provide either text or fields', at);
    return;
  }
  if (block['text'] !== undefined) {
    checkTextObject(block['text'], `${at}/text`, SLACK_LIMITS.sectionTextChars, err);
  }
  if (fields !== undefined) {
    checkElementCount(fields, `${at}/fields`, SLACK_LIMITS.sectionFields, err);
    asArray(fields).forEach((f, j) => checkTextObject(f, `${at}/fields/${j}`, SLACK_LIMITS.sectionFieldChars, err));
  }
  if (block['accessory'] !== undefined) checkInteractive(block['accessory'], `${at}/accessory`, err);
}

function checkTextObject(
  value: unknown,
  at: string,
  max: number,
  err: Report,
  options: { plainOnly?: boolean } = {},
): void {
  if (!isRecord(value)) {
    err('must be a text object', at);
    return;
  }
  const type = value['type'];
  if (type !== 'plain_text' && type !== 'mrkdwn') err('must be plain_text or mrkdwn', `${at}/type`);
  else if (options.plainOnly && type !== 'plain_text') err('must be plain_text', `${at}/type`);
  checkString(value['text'], `${at}/text`, max, err);
}

function checkString(value: unknown, at: string, max: number, err: Report): void {
  if (typeof value !== 'string') err('must be a string', at);
  else if (value.length === 0) err('must be more than 0 characters', at);
  else if (value.length > max) err(`must be less than ${max + 1} characters`, at);
}

function checkElementCount(value: unknown, at: string, max: number, err: Report): void {
  if (!Array.isArray(value)) err('must be an array', at);
  else if (value.length > max) err(`no more than ${max} items allowed`, at);
}

function checkInteractive(value: unknown, at: string, err: Report): void {
  if (!isRecord(value) || value['type'] !== 'button') return;
  checkTextObject(value['text'], `${at}/text`, SLACK_LIMITS.buttonTextChars, err, { plainOnly: true });
  const actionId = value['action_id'];
  if (typeof actionId === 'string' && actionId.length > SLACK_LIMITS.actionIdChars) {
    err(`must be less than ${SLACK_LIMITS.actionIdChars + 1} characters`, `${at}/action_id`);
  }
  const buttonValue = value['value'];
  if (typeof buttonValue === 'string' && buttonValue.length > SLACK_LIMITS.buttonValueChars) {
    err(`must be less than ${SLACK_LIMITS.buttonValueChars + 1} characters`, `${at}/value`);
  }
}

/**
 * A rich_text block as Slack's reference describes it: a non-empty list of sections, lists, preformatted blocks
 * and quotes, each holding inline elements (a list holds sections). Preformatted text takes only text and links;
 * styles are bold, italic, strike and code; `border` is 0 or 1. A text element must have text (Slack's own
 * composer never sends an empty one).
 */
function checkRichText(block: Record<string, unknown>, at: string, err: Report): void {
  const elements = block['elements'];
  if (!Array.isArray(elements) || elements.length === 0) {
    err('must provide at least one element', `${at}/elements`);
    return;
  }
  let chars = 0;
  const inline = (value: unknown, where: string, allowed: ReadonlySet<string>): void => {
    if (!Array.isArray(value)) return err('must be an array', where);
    value.forEach((el, k) => {
      const pointer = `${where}/${k}`;
      if (!isRecord(el) || typeof el['type'] !== 'string' || !allowed.has(el['type'])) return err(`unsupported type: ${isRecord(el) ? String(el['type']) : typeof el}`, `${pointer}/type`);
      if (el['type'] === 'text') {
        const text = el['text'];
        if (typeof text !== 'string') err('must be a string', `${pointer}/text`);
        else if (text.length === 0) err('must be more than 0 characters', `${pointer}/text`);
        else chars += text.length;
      }
      if (el['type'] === 'link' && typeof el['url'] !== 'string') err('must be a string', `${pointer}/url`);
      if (el['type'] === 'link' && typeof el['text'] === 'string') chars += el['text'].length;
      const style = el['style'];
      if (style !== undefined) {
        if (!isRecord(style)) err('must be an object', `${pointer}/style`);
        else for (const key of Object.keys(style)) if (!RICH_TEXT_STYLES.has(key)) err(`unsupported style: ${key}`, `${pointer}/style/${key}`);
      }
    });
  };
  const border = (el: Record<string, unknown>, pointer: string): void => {
    if (el['border'] !== undefined && el['border'] !== 0 && el['border'] !== 1) err('must be 0 or 1', `${pointer}/border`);
  };
  elements.forEach((el, j) => {
    const pointer = `${at}/elements/${j}`;
    if (!isRecord(el)) return err('must be an object', pointer);
    switch (el['type']) {
      case 'rich_text_section':
        return inline(el['elements'], `${pointer}/elements`, RICH_TEXT_INLINE);
      case 'rich_text_quote':
        border(el, pointer);
        return inline(el['elements'], `${pointer}/elements`, RICH_TEXT_INLINE);
      case 'rich_text_preformatted':
        border(el, pointer);
        return inline(el['elements'], `${pointer}/elements`, PREFORMATTED_INLINE);
      case 'rich_text_list': {
        if (el['style'] !== 'bullet' && el['style'] !== 'ordered') err('must be bullet or ordered', `${pointer}/style`);
        border(el, pointer);
        const items = el['elements'];
        if (!Array.isArray(items)) return err('must be an array', `${pointer}/elements`);
        return items.forEach((item, k) => {
          if (!isRecord(item) || item['type'] !== 'rich_text_section') return err('must be a rich_text_section', `${pointer}/elements/${k}/type`);
          inline(item['elements'], `${pointer}/elements/${k}/elements`, RICH_TEXT_INLINE);
        });
      }
      default:
        return err(`unsupported type: ${String(el['type'])}`, `${pointer}/type`);
    }
  });
  if (chars > SLACK_LIMITS.richTextChars) err(`must be less than ${SLACK_LIMITS.richTextChars + 1} characters`, `${at}/elements`);
}

const RICH_TEXT_INLINE: ReadonlySet<string> = new Set(['text', 'link', 'emoji', 'user', 'channel', 'usergroup', 'broadcast', 'date', 'color']);
const PREFORMATTED_INLINE: ReadonlySet<string> = new Set(['text', 'link']);
const RICH_TEXT_STYLES: ReadonlySet<string> = new Set(['bold', 'italic', 'strike', 'code']);

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
