import type { Message, MessageError, Todo } from './schemas.js';

/**
 * Pure readings of a session's messages and todos: what the latest turn said, whether it is finished,
 * how it ended. Shared by the commands (`last`, `status`) and the monitor.
 */

export interface Turn {
  /** The user message that started the turn (the last one, when prompts were queued into one loop). */
  userMessageId: string;
  assistant: Message[];
  /** Text parts of every assistant message of the turn, in order. */
  text: string;
  /** Some assistant message completed, or failed with an error, after the user message. */
  completed: boolean;
  error?: MessageError;
  finish?: string;
}

export function latestTurn(messages: readonly Message[]): Turn | undefined {
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.info.role === 'user') {
      lastUser = i;
      break;
    }
  }
  if (lastUser < 0) return undefined;
  const user = messages[lastUser]!;
  const assistant = messages.slice(lastUser + 1).filter((m) => m.info.role === 'assistant');
  const last = assistant[assistant.length - 1];
  const error = assistant.find((m) => m.info.error)?.info.error;
  const turn: Turn = {
    userMessageId: user.info.id,
    assistant,
    text: assistantText(assistant),
    completed: assistant.some((m) => m.info.time.completed !== undefined || m.info.error !== undefined),
  };
  if (error) turn.error = error;
  if (last?.info.finish) turn.finish = last.info.finish;
  return turn;
}

export function assistantText(messages: readonly Message[]): string {
  return messages
    .flatMap((m) => m.parts)
    .filter((part) => part.type === 'text' && !part.synthetic && typeof part.text === 'string')
    .map((part) => part.text!.trim())
    .filter((value) => value.length > 0)
    .join('\n\n');
}

/** The newest assistant text anywhere in the history (for `last` when the newest turn has none yet). */
export function latestAssistantText(messages: readonly Message[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.info.role !== 'assistant') continue;
    const value = assistantText([message]);
    if (value) return value;
  }
  return undefined;
}

export function describeError(error: MessageError): string {
  if (error.name === 'MessageAbortedError') return 'aborted';
  const message = error.data?.message;
  return message ? `${error.name}: ${message}` : error.name;
}

export interface TodoCounts {
  total: number;
  completed: number;
  inProgress: number;
  pending: number;
  cancelled: number;
}

export function countTodos(todos: readonly Todo[]): TodoCounts {
  const counts: TodoCounts = { total: todos.length, completed: 0, inProgress: 0, pending: 0, cancelled: 0 };
  for (const todo of todos) {
    if (todo.status === 'completed') counts.completed++;
    else if (todo.status === 'in_progress') counts.inProgress++;
    else if (todo.status === 'cancelled') counts.cancelled++;
    else counts.pending++;
  }
  return counts;
}

/** The checklist marks, one per todo status (the `todo` verb and the run card). */
export const TODO_MARK: Readonly<Record<string, string>> = { completed: '✅', in_progress: '🔄', pending: '🔲', cancelled: '❌' };

export function formatTodoList(todos: readonly Todo[]): string {
  return todos.map((todo) => `${TODO_MARK[todo.status] ?? '🔲'} ${todo.content}`).join('\n');
}

/** "todo 2/4" counts completed over all that are not cancelled. */
export function todoFraction(todos: readonly Todo[]): string {
  const counts = countTodos(todos);
  return `${counts.completed}/${counts.total - counts.cancelled}`;
}

export function activeTodo(todos: readonly Todo[]): Todo | undefined {
  return todos.find((todo) => todo.status === 'in_progress');
}

/** One paragraph: the first paragraph of the text, cut at a word boundary. */
export function summarize(value: string, max = 280): string {
  const paragraph = value.trim().split(/\n\s*\n/)[0]?.replace(/\s+/g, ' ').trim() ?? '';
  if (paragraph.length <= max) return paragraph;
  const cut = paragraph.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The final output of a turn: the text of its last assistant message that has any. */
export function finalOutput(turn: Turn): string | undefined {
  for (let i = turn.assistant.length - 1; i >= 0; i--) {
    const value = latestAssistantText([turn.assistant[i]!]);
    if (value) return value;
  }
  return undefined;
}
