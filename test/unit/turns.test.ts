import { describe, expect, it } from 'vitest';
import { firstLine } from '../../src/core/format.js';
import {
  activeTodo,
  assistantText,
  countTodos,
  describeError,
  finalOutput,
  formatTodoList,
  latestAssistantText,
  latestTurn,
  summarize,
  todoFraction,
} from '../../src/opencode/turns.js';
import { assistantMessage, textPart, todo, toolPart, userMessage } from './helpers/messages.js';

describe('latestTurn', () => {
  it('is undefined without a user message', () => {
    expect(latestTurn([])).toBeUndefined();
    expect(latestTurn([assistantMessage('hi', { created: 1, completed: 2 })])).toBeUndefined();
  });

  it('starts at the last user message and collects the assistant replies after it', () => {
    const old = userMessage('first', 1);
    const oldReply = assistantMessage('old answer', { created: 2, completed: 3, finish: 'stop' });
    const current = userMessage('second', 10);
    const step = assistantMessage(undefined, { created: 11, completed: 12, finish: 'tool-calls', parts: [toolPart('bash', 'completed')] });
    const answer = assistantMessage('  new answer \n', { created: 13, completed: 14, finish: 'stop' });
    const turn = latestTurn([old, oldReply, current, step, answer])!;
    expect(turn.userMessageId).toBe(current.info.id);
    expect(turn.assistant).toEqual([step, answer]);
    expect(turn.text).toBe('new answer');
    expect(turn.completed).toBe(true);
    expect(turn.finish).toBe('stop');
    expect(turn.error).toBeUndefined();
  });

  it('is not completed while no assistant message has completed or failed', () => {
    const turn = latestTurn([userMessage('go', 1), assistantMessage('thinking', { created: 2 })])!;
    expect(turn.completed).toBe(false);
    expect(turn.finish).toBeUndefined();
    expect(latestTurn([userMessage('go', 1)])).toMatchObject({ completed: false, assistant: [], text: '' });
  });

  it('carries the first error and counts a failed message as completed', () => {
    const error = { name: 'APIError', data: { message: 'context too long' } };
    const turn = latestTurn([userMessage('go', 1), assistantMessage(undefined, { created: 2, error })])!;
    expect(turn.completed).toBe(true);
    expect(turn.error).toEqual(error);
  });

  it('takes finish from the last assistant message', () => {
    const turn = latestTurn([
      userMessage('go', 1),
      assistantMessage('a', { created: 2, completed: 3, finish: 'stop' }),
      assistantMessage('b', { created: 4, completed: 5, finish: 'length' }),
    ])!;
    expect(turn.finish).toBe('length');
  });
});

describe('assistant text', () => {
  it('joins text parts, skipping synthetic, blank and non-text parts', () => {
    const message = assistantMessage(undefined, {
      created: 1,
      parts: [textPart(' one '), textPart('hidden', { synthetic: true }), toolPart('bash', 'running'), textPart('   '), textPart('two')],
    });
    expect(assistantText([message])).toBe('one\n\ntwo');
  });

  it('latestAssistantText finds the newest message with text', () => {
    const messages = [
      userMessage('q', 1),
      assistantMessage('older text', { created: 2, completed: 3 }),
      assistantMessage(undefined, { created: 4, parts: [toolPart('edit', 'running')] }),
    ];
    expect(latestAssistantText(messages)).toBe('older text');
    expect(latestAssistantText([userMessage('q', 1)])).toBeUndefined();
  });
});

describe('finalOutput', () => {
  it('is the text of the last assistant message that has any', () => {
    const turn = latestTurn([
      userMessage('go', 1),
      assistantMessage('draft', { created: 2, completed: 3 }),
      assistantMessage('final words', { created: 4, completed: 5 }),
      assistantMessage(undefined, { created: 6, completed: 7, parts: [toolPart('bash', 'completed')] }),
    ])!;
    expect(finalOutput(turn)).toBe('final words');
  });

  it('is undefined when the turn has no text', () => {
    expect(finalOutput(latestTurn([userMessage('go', 1)])!)).toBeUndefined();
  });
});

describe('todos', () => {
  const todos = [
    todo('read the code', 'completed'),
    todo('write the fix', 'in_progress'),
    todo('run the tests', 'pending'),
    todo('rewrite in rust', 'cancelled'),
    todo('something new', 'blocked'),
  ];

  it('countTodos counts each status, unknown ones as pending', () => {
    expect(countTodos(todos)).toEqual({ total: 5, completed: 1, inProgress: 1, pending: 2, cancelled: 1 });
    expect(countTodos([])).toEqual({ total: 0, completed: 0, inProgress: 0, pending: 0, cancelled: 0 });
  });

  it('formatTodoList marks ✅ 🔄 🔲 ❌ (unknown: 🔲)', () => {
    expect(formatTodoList(todos)).toBe(
      ['✅ read the code', '🔄 write the fix', '🔲 run the tests', '❌ rewrite in rust', '🔲 something new'].join('\n'),
    );
    expect(formatTodoList([])).toBe('');
  });

  it('todoFraction counts completed over all but the cancelled', () => {
    expect(todoFraction(todos)).toBe('1/4');
    expect(todoFraction([todo('a', 'completed'), todo('b', 'cancelled')])).toBe('1/1');
    expect(todoFraction([])).toBe('0/0');
  });

  it('activeTodo is the first in-progress item', () => {
    expect(activeTodo(todos)).toEqual(todo('write the fix', 'in_progress'));
    expect(activeTodo([todo('x', 'pending')])).toBeUndefined();
  });
});

describe('summarize', () => {
  it('keeps a short first paragraph whole, with whitespace collapsed', () => {
    expect(summarize('  Fixed   the\nflaky test.\n\nDetails follow.')).toBe('Fixed the flaky test.');
    expect(summarize('')).toBe('');
  });

  it('cuts a long paragraph at a word boundary and adds …', () => {
    const words = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    const result = summarize(words, 50);
    expect(result.endsWith('…')).toBe(true);
    expect(result.length).toBeLessThanOrEqual(51);
    const body = result.slice(0, -1);
    expect(words.startsWith(body)).toBe(true);
    // It ends on a whole word.
    expect(words[body.length]).toBe(' ');
  });

  it('cuts hard when there is no space late enough', () => {
    expect(summarize('x'.repeat(400), 100)).toBe(`${'x'.repeat(100)}…`);
    expect(summarize(`ab ${'y'.repeat(400)}`, 100)).toBe(`ab ${'y'.repeat(97)}…`);
  });
});

describe('describeError and firstLine', () => {
  it('describes errors', () => {
    expect(describeError({ name: 'MessageAbortedError', data: { message: 'Aborted' } })).toBe('aborted');
    expect(describeError({ name: 'APIError', data: { message: 'rate limited' } })).toBe('APIError: rate limited');
    expect(describeError({ name: 'UnknownError' })).toBe('UnknownError');
  });

  it('firstLine keeps the first line, bounded', () => {
    expect(firstLine('  fix it\nthen more')).toBe('fix it');
    expect(firstLine('z'.repeat(200), 10)).toBe(`${'z'.repeat(9)}…`);
  });
});
