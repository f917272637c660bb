import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatDuration } from '../../src/core/format.js';
import { replyToPlainText } from '../../src/core/reply.js';
import {
  backNotice,
  failureOf,
  finalReport,
  goneNotice,
  permissionAsk,
  questionAsk,
  unreachableNotice,
} from '../../src/monitor/reports.js';
import { todo } from './helpers/messages.js';
import { usageFacts } from '../../src/monitor/card.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [-5_000, '0s'],
    [499, '0s'],
    [500, '1s'],
    [59_000, '59s'],
    [59_500, '1m 00s'],
    [61_000, '1m 01s'],
    [65_000, '1m 05s'],
    [3_599_000, '59m 59s'],
    [3_600_000, '1h 00m'],
    [3_661_000, '1h 01m'],
    [26 * 3_600_000 + 5 * 60_000, '26h 05m'],
  ])('%i ms → %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});

describe('failureOf', () => {
  it('names the reason a turn failed, or nothing when it succeeded', () => {
    expect(failureOf(undefined, undefined)).toBeUndefined();
    expect(failureOf(undefined, 'stop')).toBeUndefined();
    expect(failureOf(undefined, 'end_turn')).toBeUndefined();
    expect(failureOf(undefined, 'end-turn')).toBeUndefined();
    expect(failureOf(undefined, 'length')).toBe('the output hit the model’s length limit');
    expect(failureOf(undefined, 'tool-calls')).toBe('it stopped after a tool call (a permission was denied?)');
    expect(failureOf(undefined, 'content-filter')).toBe('it ended with “content-filter”');
    expect(failureOf({ name: 'MessageAbortedError', data: { message: 'Aborted' } }, 'stop')).toBe('aborted');
    expect(failureOf({ name: 'APIError', data: { message: 'overloaded' } }, undefined)).toBe('APIError: overloaded');
  });
});

describe('finalReport', () => {
  const todos = [todo('a', 'completed'), todo('b', 'completed'), todo('c', 'pending')];

  it('a success: ✅ headline with todo and time, then the output', () => {
    const result = finalReport({ name: 'kumo', ok: true, output: 'All green.', todos, elapsedMs: 65_000 });
    expect(result.blocks).toEqual([
      { type: 'text', text: '📋 **kumo** finished · ✅ · todo 2/3 · 1m 05s' },
      { type: 'output', text: 'All green.' },
    ]);
    expect(result.tone).toBe('success');
    expect(result.data).toEqual({ name: 'kumo', ok: true, output: 'All green.' });
  });

  it('a success with usage: the header ends with the run’s tokens and cost', () => {
    const result = finalReport({ name: 'kumo', ok: true, output: 'ok', todos, elapsedMs: 362_000, facts: usageFacts({ input: 80_000, output: 10_000, cached: 28_000, costUsd: 1.07 }) });
    expect(result.blocks[0]).toEqual({ type: 'text', text: '📋 **kumo** finished · ✅ · todo 2/3 · 6m 02s · 118k tokens · $1.07' });
  });

  it('a success without text says so', () => {
    const result = finalReport({ name: 'kumo', ok: true, todos: [] });
    expect(result.blocks).toEqual([
      { type: 'text', text: '📋 **kumo** finished · ✅' },
      { type: 'text', text: '(no text output)' },
    ]);
    expect(result.data).toEqual({ name: 'kumo', ok: true, output: null });
  });

  it('a failure: ❌ headline, the partial output and a ❌ line with the reason', () => {
    const result = finalReport({ name: 'kumo', ok: false, output: 'partial', finish: 'length', todos, elapsedMs: 5_000 });
    expect(result.blocks).toEqual([
      { type: 'text', text: '📋 **kumo** failed · ❌ · todo 2/3 · 5s' },
      { type: 'output', text: 'partial' },
      { type: 'text', text: '❌ the output hit the model’s length limit' },
    ]);
    expect(result.tone).toBe('error');
  });

  it('an explicit problem wins over the error', () => {
    const result = finalReport({
      name: 'kumo',
      ok: false,
      problem: 'the prompt never started',
      error: { name: 'APIError', data: { message: 'x' } },
      todos: [],
    });
    expect(replyToPlainText(result)).toBe('📋 **kumo** failed · ❌\n❌ the prompt never started');
  });

  it('a failure from an error carries its description', () => {
    const result = finalReport({ name: 'kumo', ok: false, error: { name: 'MessageAbortedError' }, todos: [] });
    expect(result.blocks.at(-1)).toEqual({ type: 'text', text: '❌ aborted' });
    expect(result.blocks).toHaveLength(2);
  });
});

describe('asks and notices', () => {
  it('permissionAsk shows the permission with its patterns and who may answer', () => {
    const ask = permissionAsk('kumo', { id: 'per_1', sessionID: 's', permission: 'bash', patterns: ['rm -rf build', 'git push'] }, 'slack:U1');
    expect(ask.prompt).toBe('🔐 **kumo** asks permission: `bash rm -rf build git push`');
    expect(ask.note).toBe('Answer with `approve kumo [once|always]` or `deny kumo [message]`; only slack:U1 or an admin may answer.');
    expect(permissionAsk('kumo', { id: 'p', sessionID: 's', permission: 'edit', patterns: [] }, undefined)).toEqual({
      prompt: '🔐 **kumo** asks permission: `edit`',
      note: 'Answer with `approve kumo [once|always]` or `deny kumo [message]`.',
    });
  });

  it('questionAsk lists each question with its options', () => {
    const ask = questionAsk('kumo', {
      id: 'que_1',
      sessionID: 's',
      questions: [
        { question: 'Which colour?', options: [{ label: 'Blue' }, { label: 'Red' }] },
        { question: 'Why?', options: [] },
      ],
    });
    expect(ask.prompt).toBe('❓ **kumo** asks: Which colour? (Blue / Red)\nWhy?');
    expect(ask.note).toBe('Answer with `answer kumo <first> | <second>` (one answer a question, in order), or `deny kumo` to decline.');
  });

  it('notices', () => {
    expect(replyToPlainText(unreachableNotice('lab', 'refused', ['kumo', 'hetc']))).toBe(
      '⚠️ server lab is unreachable (refused); watching kumo, hetc resumes when it is back.',
    );
    expect(replyToPlainText(backNotice('lab', ['kumo']))).toBe('✅ server lab is back; watching kumo again.');
    expect(replyToPlainText(goneNotice('kumo', 'ses_1', 'lab'))).toContain('ses_1 of **kumo** was deleted on lab');
  });
});
