import { describe, expect, it } from 'vitest';
import { replyToPlainText } from '../../src/core/reply.js';
import { createScrubber } from '../../src/core/scrub.js';
import {
  formatCost,
  formatTokens,
  queueLine,
  renderCard,
  todoLines,
  usageFacts,
  usageLine,
  type CardState,
  type CardTodo,
} from '../../src/monitor/card.js';

const T0 = Date.UTC(2030, 0, 1, 8, 0, 0);
const todos: CardTodo[] = [
  { content: 'Write the tests', status: 'completed' },
  { content: 'Fix the parser bug', status: 'in_progress' },
  { content: 'Update the docs', status: 'pending' },
  { content: 'Release notes', status: 'pending' },
];

const card = (state: Partial<CardState>, now = T0 + 134_000) =>
  replyToPlainText(renderCard({ name: 'kumo', phase: 'working', startedAt: T0, todos: [], ...state }, now));

describe('renderCard', () => {
  it('draws the issue’s picture: state, elapsed, checklist, active tool, newest text, usage and queue', () => {
    const text = card({
      todos,
      tool: { tool: 'bash', argument: 'npm test' },
      text: 'The parser now handles empty input; running the suite…\n\nDetails follow.',
      usage: { input: 41_000, output: 3_200, cached: 28_000, costUsd: 0.42, contextTokens: 62_000, contextLimit: 200_000 },
      queued: [{ actor: 'bob' }],
    });
    expect(text).toBe(
      [
        '⚙️ **kumo** · working · 2m 14s · todo 1/4',
        '✅ Write the tests',
        '🔄 Fix the parser bug   🔧 bash: npm test',
        '🔲 Update the docs',
        '🔲 Release notes',
        '💬 The parser now handles empty input; running the suite…',
        'tokens 41k in · 3.2k out · 28k cached · $0.42 · context 31%',
        '1 prompt queued (bob)',
      ].join('\n'),
    );
  });

  it('is one line for a run that has only just started', () => {
    expect(card({}, T0)).toBe('⚙️ **kumo** · working · 0s');
  });

  it.each([
    ['queued', 'queued ⏸️', 'info'],
    ['approval', 'waiting for approval 🔐', 'warning'],
    ['question', 'asking a question ❓', 'warning'],
    ['stalled', 'stalled ⏳', 'warning'],
    ['retrying', 'retrying ↻', 'warning'],
  ] as const)('names the %s state in its header, with a %s tone', (phase, words, tone) => {
    const rendered = renderCard({ name: 'kumo', phase, startedAt: T0, todos }, T0 + 5_000);
    expect(replyToPlainText(rendered).split('\n')[0]).toBe(`⚙️ **kumo** · ${words} · 5s · todo 1/4`);
    expect(rendered.tone).toBe(tone);
    expect(rendered.data).toEqual({ card: 'kumo', phase });
  });

  it('shows what a retry or a stall is about', () => {
    expect(card({ phase: 'retrying', detail: 'rate limited, next try in 4s' })).toBe('⚙️ **kumo** · retrying ↻ · 2m 14s\n↳ rate limited, next try in 4s');
  });

  it('ends with the final state and the elapsed time of the run, whatever the clock says later', () => {
    const done = card({ phase: 'finished', endedAt: T0 + 362_000, todos: todos.map((t) => ({ ...t, status: 'completed' })), tool: { tool: 'bash' }, text: 'All done' }, T0 + 999_000);
    expect(done.split('\n')[0]).toBe('⚙️ **kumo** · finished ✅ 6m 02s · todo 4/4');
    // The final output is its own message: the card keeps the checklist, not the text or the last tool.
    expect(done).not.toContain('💬');
    expect(done).not.toContain('🔧');
    const failed = renderCard({ name: 'kumo', phase: 'failed', startedAt: T0, endedAt: T0 + 63_000, todos, detail: 'APIError: overloaded' }, T0 + 70_000);
    expect(replyToPlainText(failed)).toBe(
      ['⚙️ **kumo** · failed ❌ 1m 03s · todo 1/4', '✅ Write the tests', '🔄 Fix the parser bug', '🔲 Update the docs', '🔲 Release notes', '❌ APIError: overloaded'].join('\n'),
    );
    expect(failed.tone).toBe('error');
  });

  it('puts the last tool on its own line when no item is in progress', () => {
    expect(card({ tool: { tool: 'read', argument: 'src/parser.ts' } })).toBe('⚙️ **kumo** · working · 2m 14s\n🔧 read: src/parser.ts');
  });

  it('shows a shell task’s elapsed time and its newest output line', () => {
    expect(card({ lastLine: '  PASS test/parser.test.ts (3 tests)  ' }, T0 + 14_000)).toBe('⚙️ **kumo** · working · 14s\n▸ PASS test/parser.test.ts (3 tests)');
  });

  it('cuts a long tool argument to one short line', () => {
    const argument = `npm run test -- ${'--reporter verbose '.repeat(20)}\nsecond line`;
    const line = card({ tool: { tool: 'bash', argument } }).split('\n')[1]!;
    expect(line.startsWith('🔧 bash: npm run test -- --reporter verbose')).toBe(true);
    expect(line.endsWith('…')).toBe(true);
    expect(line).not.toContain('second line');
    expect(line.length).toBeLessThanOrEqual('🔧 bash: '.length + 60);
  });

  it('scrubs secrets in the tool argument before cutting it, so half a token never shows', () => {
    const token = `ghp_${'a1B2'.repeat(10)}`;
    const text = card({ tool: { tool: 'bash', argument: `curl -H "Authorization: Bearer ${token}" https://api.github.com/user` }, text: `I used ${token}` });
    expect(text).not.toMatch(/ghp_/);
    expect(text).not.toContain('a1B2a1B2');
    expect(text).toContain('[redacted]');
  });

  it('scrubs the configured secrets it is given, in every field', () => {
    const scrub = createScrubber(['hunter2-server-password']);
    const state: CardState = {
      name: 'kumo',
      phase: 'working',
      startedAt: T0,
      todos: [{ content: 'log in with hunter2-server-password', status: 'in_progress' }],
      tool: { tool: 'bash', argument: 'echo hunter2-server-password' },
      text: 'the password is hunter2-server-password',
      lastLine: 'hunter2-server-password',
    };
    const text = replyToPlainText(renderCard(state, T0, { scrub }));
    expect(text).not.toContain('hunter2');
    expect(text.match(/\[redacted\]/g)).toHaveLength(4);
  });

  it('summarizes a long assistant text to one short paragraph', () => {
    const long = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    const line = card({ text: long }).split('\n')[1]!;
    expect(line.startsWith('💬 word0 word1')).toBe(true);
    expect(line.endsWith('…')).toBe(true);
    expect(line.length).toBeLessThanOrEqual(210);
  });

  it('cuts a very long todo item', () => {
    const text = card({ todos: [{ content: `Refactor ${'x'.repeat(300)}`, status: 'pending' }] });
    const item = text.split('\n')[1]!;
    expect(item.length).toBeLessThanOrEqual('🔲 '.length + 100);
    expect(item.endsWith('…')).toBe(true);
  });

  it('keeps a very long todo list to one screen, around the active item, and counts what it leaves out', () => {
    const many: CardTodo[] = Array.from({ length: 60 }, (_, i) => ({
      content: `step ${i + 1}`,
      status: i < 30 ? 'completed' : i === 30 ? 'in_progress' : i === 45 ? 'cancelled' : 'pending',
    }));
    const text = card({ todos: many, tool: { tool: 'edit', argument: 'src/a.ts' } });
    const lines = text.split('\n');
    expect(lines[0]).toBe('⚙️ **kumo** · working · 2m 14s · todo 30/59');
    expect(lines.slice(1)).toEqual([
      '… 28 earlier (✅ 28)',
      '✅ step 29',
      '✅ step 30',
      '🔄 step 31   🔧 edit: src/a.ts',
      '🔲 step 32',
      '🔲 step 33',
      '🔲 step 34',
      '🔲 step 35',
      '🔲 step 36',
      '🔲 step 37',
      '🔲 step 38',
      '… 22 more (🔲 21 · ❌ 1)',
    ]);
  });

  it('shows the end of a long list when everything before it is done, and the start when nothing is', () => {
    const limits = { maxTodos: 5, todoChars: 100 };
    const done = Array.from({ length: 8 }, (_, i) => ({ content: `s${i}`, status: i < 7 ? 'completed' : 'pending' }));
    expect(todoLines(done, limits)).toEqual(['… 4 earlier (✅ 4)', '✅ s4', '✅ s5', '✅ s6', '🔲 s7']);
    const fresh = Array.from({ length: 8 }, (_, i) => ({ content: `s${i}`, status: 'pending' }));
    expect(todoLines(fresh, limits)).toEqual(['🔲 s0', '🔲 s1', '🔲 s2', '🔲 s3', '… 4 more (🔲 4)']);
    const finished = Array.from({ length: 8 }, (_, i) => ({ content: `s${i}`, status: 'completed' }));
    expect(todoLines(finished, limits)).toEqual(['… 4 earlier (✅ 4)', '✅ s4', '✅ s5', '✅ s6', '✅ s7']);
  });

  it('never grows past the item limit, however long the list', () => {
    for (const length of [13, 50, 500, 5_000]) {
      const list = Array.from({ length }, (_, i) => ({ content: `t${i}`, status: i % 3 === 0 ? 'completed' : 'pending' }));
      expect(todoLines(list, { maxTodos: 12, todoChars: 100 }).length).toBe(12);
    }
  });

  it('renders the same state the same way, so an unchanged card is not edited', () => {
    const state: CardState = { name: 'kumo', phase: 'working', startedAt: T0, todos, usage: { input: 1, output: 2, cached: 0 } };
    expect(renderCard(state, T0 + 1_000)).toEqual(renderCard({ ...state }, T0 + 1_000));
  });
});

describe('card pieces', () => {
  it.each([
    [0, '0'],
    [950, '950'],
    [1_000, '1k'],
    [3_200, '3.2k'],
    [9_960, '10k'],
    [41_000, '41k'],
    [999_499, '999k'],
    [1_200_000, '1.2M'],
    [118_400, '118k'],
  ])('formatTokens(%i) = %s', (n, expected) => {
    expect(formatTokens(n)).toBe(expected);
  });

  it.each([
    [0, '$0.00'],
    [0.0042, '$0.0042'],
    [0.42, '$0.42'],
    [1.069, '$1.07'],
  ])('formatCost(%d) = %s', (usd, expected) => {
    expect(formatCost(usd)).toBe(expected);
  });

  it('leaves out what it does not know: no cache, no cost, no context limit', () => {
    expect(usageLine({ input: 10, output: 5, cached: 0 })).toBe('tokens 10 in · 5 out');
    expect(usageLine({ input: 10, output: 5, cached: 0, contextTokens: 15 })).toBe('tokens 10 in · 5 out');
    expect(usageLine({ input: 10, output: 5, cached: 0, contextTokens: 300, contextLimit: 200 })).toBe('tokens 10 in · 5 out · context 100%');
  });

  it('counts queued prompts and names each sender once', () => {
    expect(queueLine([])).toBeUndefined();
    expect(queueLine([{ actor: 'bob' }, { actor: 'alice' }, { actor: 'bob' }])).toBe('3 prompts queued (bob, alice)');
  });

  it('gives the final output’s header its token total and cost', () => {
    expect(usageFacts(undefined)).toEqual([]);
    expect(usageFacts({ input: 80_000, output: 10_000, cached: 28_000, costUsd: 1.07 })).toEqual(['118k tokens', '$1.07']);
    expect(usageFacts({ input: 0, output: 0, cached: 0 })).toEqual([]);
  });
});
