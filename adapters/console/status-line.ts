import { replyToPlainText, type Reply } from '../../src/core/reply.js';

/**
 * Live cards on a terminal. On a TTY the newest live card is one status line kept just above the prompt and
 * redrawn in place; ordinary output is printed above it. On a pipe, a card prints one line when its state
 * changes (a new phase, a todo ticked), never because only its clock moved, so a log of a script stays short.
 */
export interface StatusLine {
  /** What to write before ordinary output: clears the prompt line and, on a TTY, the status line above it. */
  clear(): string;
  /** What to write after ordinary output, so the status line is back above the prompt. */
  redraw(): string;
  /** A card's new state: the text to write now ('' when there is nothing worth a line). */
  update(messageId: string, reply: Reply, final: boolean): string;
  /** A message was printed whole: should it be a card, its later edits compare with this state. */
  posted(messageId: string, reply: Reply): void;
}

/** Elapsed times move every second; they are not a change of state. */
const DURATION = /\b\d+(?:h|m|s|ms)\b/g;
/** Messages whose state is remembered on a pipe: cards are edited soon after they are posted. */
const REMEMBERED = 200;

const stateOf = (line: string) => line.replace(DURATION, '').replace(/\s+/g, ' ');

function headline(reply: Reply): string {
  return replyToPlainText(reply).split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}

export function createStatusLine(interactive: boolean): StatusLine {
  const live = new Map<string, string>();
  const printed = new Map<string, string>();
  let shown = false;

  const current = () => {
    const lines = [...live.values()];
    const newest = lines.at(-1);
    if (newest === undefined) return undefined;
    return lines.length > 1 ? `${newest}   (+${lines.length - 1} more running)` : newest;
  };

  return {
    clear() {
      if (!interactive) return '';
      const wipe = shown ? '\r\x1b[K\x1b[1A\r\x1b[K' : '\r\x1b[K';
      shown = false;
      return wipe;
    },
    redraw() {
      const line = interactive ? current() : undefined;
      if (line === undefined) return '';
      shown = true;
      return `${line}\n`;
    },
    update(messageId, reply, final) {
      const line = headline(reply);
      if (interactive) {
        live.delete(messageId);
        if (!final) live.set(messageId, line);
        // The last state stays in the scrollback; a live one only in the status line.
        return final ? `${line}\n` : '';
      }
      const state = stateOf(line);
      if (printed.get(messageId) === state) return '';
      if (final) printed.delete(messageId);
      else printed.set(messageId, state);
      return `${line}\n`;
    },
    posted(messageId, reply) {
      if (interactive) return;
      printed.set(messageId, stateOf(headline(reply)));
      if (printed.size > REMEMBERED) printed.delete(printed.keys().next().value!);
    },
  };
}
