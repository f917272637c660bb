import type { Message, MessageError, Part, Todo } from '../../../src/opencode/schemas.js';

/** Builders for OpenCode messages and todos, shaped as the server sends them (only the fields we read). */

let counter = 0;
const nextId = (prefix: string) => `${prefix}_${String(++counter).padStart(4, '0')}`;

export function userMessage(text: string, created: number, extra: Partial<Message['info']> = {}): Message {
  return {
    info: { id: nextId('msg'), sessionID: 'ses_1', role: 'user', time: { created }, ...extra },
    parts: [{ id: nextId('prt'), type: 'text', text }],
  };
}

export interface AssistantOptions {
  created: number;
  completed?: number;
  finish?: string;
  error?: MessageError;
  parts?: Part[];
}

export function assistantMessage(text: string | undefined, options: AssistantOptions): Message {
  const parts: Part[] = options.parts ?? (text === undefined ? [] : [{ id: nextId('prt'), type: 'text', text }]);
  return {
    info: {
      id: nextId('msg'),
      sessionID: 'ses_1',
      role: 'assistant',
      time: options.completed === undefined ? { created: options.created } : { created: options.created, completed: options.completed },
      ...(options.finish ? { finish: options.finish } : {}),
      ...(options.error ? { error: options.error } : {}),
    },
    parts,
  };
}

export const textPart = (text: string, extra: Partial<Part> = {}): Part => ({ id: nextId('prt'), type: 'text', text, ...extra });
export const toolPart = (tool: string, status: string): Part => ({ id: nextId('prt'), type: 'tool', tool, state: { status } });

export const todo = (content: string, status: string): Todo => ({ content, status });
