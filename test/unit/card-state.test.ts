import { describe, expect, it } from 'vitest';
import type { CompletionRecord, TaskRecord } from '../../src/executors/index.js';
import { assess, type AssessInput, type Observation } from '../../src/monitor/assess.js';
import { cardTool, claudeUsage, lastOpencodeTool, opencodeUsage, toolArgument } from '../../src/monitor/card-facts.js';
import { createOpencodeCards, opencodeCardKey, opencodeCardState } from '../../src/monitor/card-opencode.js';
import type { NameRecord } from '../../src/sessions/registry.js';
import { createRunCards } from '../../src/monitor/card-runs.js';
import { finishedTaskCard, taskCardKey, taskCardState } from '../../src/monitor/card-task.js';
import type { CardUpdate } from '../../src/notify/card-sink.js';
import { replyToPlainText } from '../../src/core/reply.js';
import { promptDigest } from '../../src/sessions/registry.js';
import type { Message, Part } from '../../src/opencode/schemas.js';
import { assistantMessage, todo, userMessage } from './helpers/messages.js';

const SENT = 1_700_000_000_000;
const PROMPT = 'fix the parser';

const tool = (name: string, input: Record<string, unknown>, status = 'completed'): Part => ({ id: `prt_${name}_${status}`, type: 'tool', tool: name, state: { status, input } });
const step = (created: number, tokens: { input: number; output: number; reasoning?: number; read?: number; write?: number }, cost: number, parts: Part[] = []): Message => {
  const message = assistantMessage(undefined, { created, parts });
  message.info.tokens = { input: tokens.input, output: tokens.output, reasoning: tokens.reasoning ?? 0, cache: { read: tokens.read ?? 0, write: tokens.write ?? 0 } };
  message.info.cost = cost;
  message.info.providerID = 'fake';
  message.info.modelID = 'fake-model';
  return message;
};

describe('card facts', () => {
  it('takes the argument that says what a tool call does', () => {
    expect(toolArgument({ command: 'npm test', description: 'Run the tests' })).toBe('npm test');
    expect(toolArgument({ filePath: '/w/src/parser.ts', content: '…' })).toBe('/w/src/parser.ts');
    expect(toolArgument({ file_path: '/w/a.ts' })).toBe('/w/a.ts');
    expect(toolArgument({ pattern: 'TODO' })).toBe('TODO');
    expect(toolArgument({ todos: [1, 2, 3] })).toBe('3 todos');
    expect(toolArgument({ other: 1 })).toBeUndefined();
    expect(toolArgument(undefined)).toBeUndefined();
  });

  it('leaves the todo tools out: the checklist already shows them', () => {
    expect(cardTool('todowrite', { todos: [] })).toBeUndefined();
    expect(cardTool('TodoWrite', { todos: [] })).toBeUndefined();
    expect(cardTool('bash', { command: 'ls' })).toEqual({ tool: 'bash', argument: 'ls' });
    expect(cardTool('webfetch', {})).toEqual({ tool: 'webfetch' });
  });

  it('finds the newest OpenCode tool call across the steps of a run', () => {
    const messages = [step(1, { input: 1, output: 1 }, 0, [tool('read', { filePath: 'a.ts' })]), step(2, { input: 1, output: 1 }, 0, [tool('bash', { command: 'npm test' }, 'running'), tool('todowrite', { todos: [] })])];
    expect(lastOpencodeTool(messages)).toEqual({ tool: 'bash', argument: 'npm test' });
    expect(lastOpencodeTool([])).toBeUndefined();
  });

  it('sums the tokens and cost of every step, and measures the context at the newest one', () => {
    const steps = [step(1, { input: 10_000, output: 500, read: 2_000 }, 0.1), step(2, { input: 30_000, output: 2_700, reasoning: 300, read: 26_000, write: 1_000 }, 0.32)];
    const usage = opencodeUsage(steps, 200_000)!;
    expect(usage.costUsd).toBeCloseTo(0.42, 10);
    expect({ ...usage, costUsd: 0 }).toEqual({
      input: 40_000,
      output: 3_500,
      cached: 28_000,
      costUsd: 0,
      contextTokens: 30_000 + 2_700 + 300 + 26_000 + 1_000,
      contextLimit: 200_000,
    });
    expect(opencodeUsage(steps)?.contextLimit).toBeUndefined();
    expect(opencodeUsage([assistantMessage('no usage reported', { created: 1 })])).toBeUndefined();
  });

  it('reads Claude’s usage: cache writes are input, cache reads are cached', () => {
    expect(claudeUsage({ input_tokens: 100, output_tokens: 40, cache_creation_input_tokens: 50, cache_read_input_tokens: 900 }, 0.0123)).toEqual({
      input: 150,
      output: 40,
      cached: 900,
      costUsd: 0.0123,
    });
    expect(claudeUsage(null, null)).toBeUndefined();
    expect(claudeUsage(undefined, 0.5)).toEqual({ input: 0, output: 0, cached: 0, costUsd: 0.5 });
  });
});

describe('an OpenCode run as a card', () => {
  const base = (observation: Partial<Observation>, extra: Partial<AssessInput> = {}) => {
    const obs: Observation = { state: 'busy', todos: [], messages: [], permissions: [], questions: [], ...observation };
    const input: AssessInput = {
      name: 'kumo',
      watch: { name: 'kumo', interval: '5m', lastActivityAt: SENT, stallNoticed: false, asked: [], nextTickAt: SENT, createdAt: SENT },
      observation: obs,
      prompt: { digest: promptDigest(PROMPT), sentAt: SENT },
      now: SENT + 134_000,
      stallAfterMs: 600_000,
      idleStreak: 0,
      ...extra,
    };
    return opencodeCardState({ name: 'kumo', observation: obs, assessment: assess(input), startedAt: SENT, now: SENT + 134_000, stalled: false, contextLimit: 200_000 });
  };
  const running = [userMessage(PROMPT, SENT), step(SENT + 1, { input: 41_000, output: 3_200, read: 28_000 }, 0.42, [{ id: 'prt_t', type: 'text', text: 'Running the suite.' }, tool('bash', { command: 'npm test' }, 'running')])];

  it('working: todos, the last tool, the newest text and the usage', () => {
    const state = base({ todos: [todo('a', 'completed'), todo('b', 'in_progress')], messages: running });
    expect(state).toMatchObject({ phase: 'working', startedAt: SENT, tool: { tool: 'bash', argument: 'npm test' }, text: 'Running the suite.' });
    expect(state.usage).toMatchObject({ input: 41_000, output: 3_200, cached: 28_000, costUsd: 0.42, contextLimit: 200_000 });
  });

  it.each([
    ['approval', { permissions: [{ id: 'per_1', sessionID: 'ses_1', permission: 'bash', patterns: [] }] }],
    ['question', { questions: [{ id: 'que_1', sessionID: 'ses_1', questions: [] }] }],
    ['retrying', { state: 'retry' as const, retryMessage: 'overloaded' }],
  ])('%s while the session waits on it', (phase, extra) => {
    expect(base({ messages: running, ...extra }).phase).toBe(phase);
  });

  it('stalled while the watchdog’s notice holds, saying how long it has been quiet', () => {
    const obs: Observation = { state: 'busy', todos: [], messages: running, permissions: [], questions: [] };
    const a = { asks: [], stall: true, activityHash: 'h', activityAt: SENT + 10_000 };
    const state = opencodeCardState({ name: 'kumo', observation: obs, assessment: a, startedAt: SENT, now: SENT + 610_000, stalled: true });
    expect(state).toMatchObject({ phase: 'stalled', detail: 'no activity for 10m 00s' });
  });

  it('finished or failed: the elapsed time of the run and why it failed', () => {
    const done = [userMessage(PROMPT, SENT), assistantMessage('All green.', { created: SENT + 1, completed: SENT + 362_000, finish: 'stop' })];
    expect(base({ state: 'idle', messages: done }, { idleStreak: 1 })).toMatchObject({ phase: 'finished', endedAt: SENT + 362_000 });
    const error = { name: 'APIError', data: { message: 'overloaded' } };
    const failed = [userMessage(PROMPT, SENT), assistantMessage(undefined, { created: SENT + 1, completed: SENT + 5_000, error })];
    expect(base({ state: 'idle', messages: failed }, { idleStreak: 1 })).toMatchObject({ phase: 'failed', detail: 'APIError: overloaded' });
  });

  it('is keyed by the prompt that started the run, else by the watch: both survive a restart', () => {
    expect(opencodeCardKey({ name: 'kumo', promptId: 7, createdAt: SENT })).toBe('kumo#p7');
    expect(opencodeCardKey({ name: 'kumo', createdAt: SENT })).toBe(`kumo#w${SENT}`);
  });
});

describe('a task run as a card', () => {
  const task = (extra: Partial<TaskRecord> = {}): TaskRecord => ({
    id: 'tsk_1', name: 'bake', executor: 'box', kind: 'claude', status: 'running', reason: null, workspace: null, model: null, maxTurns: null,
    sessionId: null, remoteDir: '/t', attempt: 3, retries: 1, exitCode: null, terminalReason: null, result: null, totalCostUsd: null, usage: null,
    actor: 'console:alice', channel: '{}', queuePosition: null, createdAt: SENT - 5_000, startedAt: SENT, finishedAt: null, deadlineAt: null, ...extra,
  });

  it('one key per run: the same through resumes, the next run once a queued follow-up starts', () => {
    expect(taskCardKey(task())).toBe('bake#ttsk_1.2');
    expect(taskCardKey(task({ attempt: 4, retries: 2 }))).toBe('bake#ttsk_1.2');
    expect(taskCardKey(task({ status: 'queued', attempt: 4, retries: 2 }))).toBe('bake#ttsk_1.5');
    expect(taskCardKey(task({ status: 'running', attempt: 5, retries: 0 }))).toBe('bake#ttsk_1.5');
  });

  it('shows the claude run’s todos, last tool, text and tokens; a queued one where it waits', () => {
    const view = { todos: [todo('x', 'in_progress')] as never, lastText: 'hi', lastTool: { name: 'Bash', input: { command: 'make' } }, usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } };
    expect(taskCardState(task(), view, 0)).toMatchObject({ phase: 'working', startedAt: SENT, tool: { tool: 'Bash', argument: 'make' }, text: 'hi', usage: { input: 10, output: 5 } });
    expect(taskCardState(task({ status: 'queued', queuePosition: 2 }), undefined, SENT + 9)).toMatchObject({ phase: 'queued', startedAt: SENT + 9, detail: 'waiting for a slot on box (position 2)' });
    expect(taskCardState(task({ status: 'retrying', reason: 'crashed; resuming in 2 s' }), undefined, 0)).toMatchObject({ phase: 'retrying', detail: 'crashed; resuming in 2 s' });
    expect(taskCardState(task({ kind: 'shell' }), { todos: [], lastText: null, lastLine: 'compiling 3/9' }, 0)).toMatchObject({ lastLine: 'compiling 3/9' });
  });

  it('ends with the completion record’s time, tokens and cost', () => {
    const record = { status: 'succeeded', started_at: new Date(SENT).toISOString(), finished_at: new Date(SENT + 362_000).toISOString(), usage: { input_tokens: 1, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 3 }, total_cost_usd: 1.07 } as CompletionRecord;
    expect(finishedTaskCard(task(), record, [], undefined)).toEqual({ name: 'bake', phase: 'finished', startedAt: SENT, endedAt: SENT + 362_000, todos: [], usage: { input: 1, output: 2, cached: 3, costUsd: 1.07 } });
    expect(finishedTaskCard(task(), { ...record, status: 'failed' }, [], 'exit 2')).toMatchObject({ phase: 'failed', detail: 'exit 2' });
  });
});

describe('live cards of a producer', () => {
  it('draws each change, redraws only for the clock after refreshMs, shows the queue, and stops at the final state', () => {
    let now = SENT;
    const updates: CardUpdate[] = [];
    let queue: { actor: string }[] = [];
    const cards = createRunCards({ cards: { update: (u) => updates.push(u) }, clock: { now: () => now }, queuedFor: () => queue, refreshMs: 10_000 });
    const target = { key: 'kumo#p1', origin: { adapter: 'console', channel: 'c' }, threadKey: 'kumo', actor: 'console:alice' };
    cards.show(target, { name: 'kumo', phase: 'working', startedAt: SENT, todos: [] });
    now += 5_000;
    cards.refresh();
    expect(updates).toHaveLength(1);
    queue = [{ actor: 'console:bob' }];
    now += 5_000;
    cards.refresh();
    expect(updates).toHaveLength(2);
    expect(replyToPlainText(updates[1]!.reply)).toBe('⚙️ **kumo** · working · 10s\n1 prompt queued (console:bob)');
    expect(updates[1]).toMatchObject({ key: 'kumo#p1', threadKey: 'kumo', actor: 'console:alice' });
    cards.show(target, { name: 'kumo', phase: 'finished', startedAt: SENT, endedAt: now, todos: [] });
    expect(updates[2]).toMatchObject({ final: true });
    expect(replyToPlainText(updates[2]!.reply)).not.toContain('queued');
    now += 60_000;
    cards.refresh();
    expect(updates).toHaveLength(3);
    expect(cards.get('kumo')).toBeUndefined();
  });
});

describe('the monitor’s cards', () => {
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const record = { name: 'kumo', owner: 'console:alice', origin: { adapter: 'console', channel: 'c' } } as unknown as NameRecord;
  const watch = (promptId: number) => ({ name: 'kumo', interval: '5m', promptId, sender: 'console:bob', lastActivityAt: SENT, stallNoticed: false, asked: [], nextTickAt: SENT, createdAt: SENT });

  it('a new prompt ends the earlier run’s live card, and an unwatched run is left with a note and no more redraws', () => {
    let now = SENT;
    const updates: CardUpdate[] = [];
    const cards = createOpencodeCards({ cards: { update: (u) => updates.push(u) }, clock: { now: () => now }, logger: quiet, refreshMs: 1_000 });
    cards.open(record, watch(1), SENT);
    cards.open(record, watch(1), SENT);
    expect(updates.map((u) => u.key)).toEqual(['kumo#p1']);
    cards.open(record, watch(2), SENT + 5_000);
    expect(updates.slice(1).map((u) => [u.key, u.final ?? false])).toEqual([
      ['kumo#p1', true],
      ['kumo#p2', false],
    ]);
    expect(replyToPlainText(updates[1]!.reply)).toContain('❌ interrupted by a new prompt from console:bob');
    expect(updates[2]).toMatchObject({ actor: 'console:bob', threadKey: 'kumo' });
    cards.leave('kumo', 'no longer watched');
    expect(replyToPlainText(updates[3]!.reply)).toContain('↳ no longer watched');
    now += 60_000;
    cards.refresh();
    expect(updates).toHaveLength(4);
    expect(cards.live('kumo')).toBe(false);
  });
});
