import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createClaudeEventsParser, parseClaudeEvents, renderTranscript } from '../../src/executors/claude-events.js';
import { FAKE_TODOS } from '../fakes/anthropic/fake-anthropic.js';

// Fixtures are stream-json recorded from the real claude 2.1.330 against the fake API (host paths scrubbed).
const fixture = (name: string) => readFileSync(new URL(`./fixtures/stream-${name}.jsonl`, import.meta.url), 'utf8');
const marker = (attempt: number, at = 1_000 * attempt) => `${JSON.stringify({ type: 'switchboard', subtype: 'attempt', attempt, kind: 'claude', at })}\n`;

describe('claude stream-json events', () => {
  test('TodoWrite: the latest list, the final text, the result with cost and usage', () => {
    const state = parseClaudeEvents(marker(1) + fixture('todo'));
    expect(state.todos).toEqual(FAKE_TODOS);
    expect(state.sessionId).toBe('11111111-2222-3333-4444-555555555555');
    expect(state.lastAssistantText).toBe('Done: TODO fix the parser');
    const attempt = state.attempts[0]!;
    expect(attempt).toMatchObject({ attempt: 1, startedAt: 1000, model: 'claude-opus-5-5', openToolCalls: [], apiRetries: 0 });
    expect(attempt.result).toMatchObject({
      subtype: 'success',
      isError: false,
      terminalReason: 'completed',
      result: 'Done: TODO fix the parser',
      totalCostUsd: 0.0016,
      numTurns: 2,
      usage: { input_tokens: 200, output_tokens: 40, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  });

  test('the newest top-level tool call is kept for the run card; the todo tool counts as one', () => {
    expect(parseClaudeEvents(fixture('bash')).lastTool).toMatchObject({ name: 'Bash', input: { command: 'echo hi' } });
    expect(parseClaudeEvents(marker(1) + fixture('todo')).lastTool?.name).toBe('TodoWrite');
    expect(parseClaudeEvents(marker(1)).lastTool).toBeNull();
  });

  test("TaskCreate/TaskUpdate (this CLI's default task list) become todos, ids taken from the tool results", () => {
    const state = parseClaudeEvents(fixture('tasks'));
    expect(state.todos).toEqual([
      { content: 'Write the parser', status: 'completed', activeForm: 'Writing the parser' },
      { content: 'Test the parser', status: 'in_progress', activeForm: 'Testing the parser' },
    ]);
  });

  test('an API error is is_error with subtype "success": the trap is kept visible in the result', () => {
    const attempt = parseClaudeEvents(fixture('fail500')).attempts[0]!;
    expect(attempt.apiRetries).toBe(1);
    expect(attempt.result).toMatchObject({ subtype: 'success', isError: true, terminalReason: 'api_error', apiErrorStatus: 500 });
  });

  test('max turns', () => {
    expect(parseClaudeEvents(fixture('maxturns')).attempts[0]!.result).toMatchObject({ subtype: 'error_max_turns', isError: true, terminalReason: 'max_turns' });
  });

  test('a tool call without its result is open; a new attempt starts with none open and its own usage', () => {
    const lines = fixture('bash').split('\n').filter(Boolean);
    const toolUse = lines.findIndex((l) => l.includes('"tool_use"'));
    const parser = createClaudeEventsParser();
    parser.feed(marker(1) + lines.slice(0, toolUse + 1).join('\n') + '\n');
    expect(parser.attempt(1).openToolCalls).toHaveLength(1);
    expect(parser.attempt(1).usage.input_tokens).toBe(100);
    expect(parser.attempt(1).result).toBeNull();

    parser.feed(marker(2) + lines.join('\n') + '\n');
    expect(parser.attempt(1).openToolCalls).toHaveLength(1);
    expect(parser.attempt(2).openToolCalls).toEqual([]);
    expect(parser.attempt(2).result?.terminalReason).toBe('completed');
    expect(parser.attempt(2).usage.input_tokens).toBe(200);
  });

  test('one assistant message repeated per content block counts its usage once', () => {
    // tasks.jsonl has messages with two tool_use blocks, emitted as two events with the same message id.
    const attempt = parseClaudeEvents(fixture('tasks')).attempts[0]!;
    expect(attempt.usage.input_tokens).toBe(300);
  });

  test('fed in arbitrary chunks (even inside a UTF-8 character) it reads the same', () => {
    const text = marker(1) + fixture('todo').replaceAll('Done: TODO fix the parser', 'Done: é 🚀');
    const bytes = Buffer.from(text, 'utf8');
    const parser = createClaudeEventsParser();
    for (let i = 0; i < bytes.length; i += 7) parser.feed(bytes.subarray(i, i + 7));
    expect(parser.state().lastAssistantText).toBe('Done: é 🚀');
    expect(parser.state().badLines).toBe(0);
    expect(parser.attempt(1).result?.result).toBe('Done: é 🚀');
  });

  test('a partial last line waits for the rest; garbage lines are counted, not fatal', () => {
    const parser = createClaudeEventsParser();
    parser.feed('not json\n{"type":"system","subtype":"init","session_id":"abc","model":"m"');
    expect(parser.state().sessionId).toBeNull();
    parser.feed('}\n');
    expect(parser.state()).toMatchObject({ sessionId: 'abc', badLines: 1 });
  });

  test('the transcript shows attempts, tool calls, text and outcome', () => {
    const lines = renderTranscript(marker(1) + fixture('bash'));
    expect(lines[0]).toBe('── attempt 1 ──');
    expect(lines).toContain('▸ Bash $ echo hi');
    expect(lines).toContain('Done: BASH: echo hi');
    expect(lines[lines.length - 1]).toBe('[result: success, completed $0.0016]');
  });
});
