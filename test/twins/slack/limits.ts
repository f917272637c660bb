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

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
