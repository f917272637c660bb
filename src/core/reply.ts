/**
 * What the core says, independent of any platform. Handlers return a Reply; the monitor posts Replies; the
 * outbox stores them as JSON; each adapter renders them in its own format and within its own limits.
 */
export type Block =
  /** Switchboard's own prose. May use **bold** and `code`; adapters translate or strip. */
  | { type: 'text'; text: string }
  /** Exact bytes shown exactly: prompt echoes, logs. Rendered so that nothing inside comes alive. */
  | { type: 'verbatim'; text: string; title?: string }
  /** Text an agent wrote (markdown). Formatting may render, but mentions and links never come alive. */
  | { type: 'output'; text: string; title?: string }
  /** A choice the user makes by pressing a button or, on the console, typing a number or a label. */
  | { type: 'choices'; choiceId: string; prompt: string; options: ChoiceOption[] };

export interface ChoiceOption {
  label: string;
  description?: string;
  style?: 'primary' | 'danger';
}

export type Tone = 'info' | 'success' | 'error' | 'warning';

export interface Reply {
  blocks: Block[];
  tone?: Tone;
  /** Machine-readable form of the same answer, for `switchboard … --json`. */
  data?: unknown;
  /** Only the person who asked sees it (their own link), as with a refusal: a private reply where the platform has one. */
  privately?: boolean;
}

export const text = (value: string): Block => ({ type: 'text', text: value });
export const verbatim = (value: string, title?: string): Block =>
  title === undefined ? { type: 'verbatim', text: value } : { type: 'verbatim', text: value, title };
export const output = (value: string, title?: string): Block =>
  title === undefined ? { type: 'output', text: value } : { type: 'output', text: value, title };

export function reply(blocks: Block[] | string, extra: Omit<Reply, 'blocks'> = {}): Reply {
  return { blocks: typeof blocks === 'string' ? [text(blocks)] : blocks, ...extra };
}

/** Plain-text rendering, used by the console, logs and `--json`-less CLI output. */
export function replyToPlainText(value: Reply): string {
  return value.blocks
    .map((block) => {
      switch (block.type) {
        case 'text':
          return block.text;
        case 'verbatim':
        case 'output':
          return block.title ? `${block.title}\n${block.text}` : block.text;
        case 'choices':
          return [
            block.prompt,
            ...block.options.map(
              (option, index) => `  ${index + 1}) ${option.label}${option.description ? ` — ${option.description}` : ''}`,
            ),
          ].join('\n');
      }
    })
    .join('\n');
}
