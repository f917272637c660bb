import { describe, expect, it } from 'vitest';
import { assess, START_GRACE_MS, turnForPrompt, type AssessInput, type Observation } from '../../src/monitor/assess.js';
import { promptDigest } from '../../src/sessions/registry.js';
import type { Watch } from '../../src/monitor/watch-store.js';
import type { PermissionRequest, QuestionRequest } from '../../src/opencode/schemas.js';
import { assistantMessage, todo, userMessage } from './helpers/messages.js';

const SENT = 1_700_000_000_000;
const PROMPT = 'fix the flaky auth test';

function watchOf(extra: Partial<Watch> = {}): Watch {
  return { name: 'kumo', interval: '5m', lastActivityAt: SENT, stallNoticed: false, asked: [], nextTickAt: SENT + 300_000, createdAt: SENT, ...extra };
}

function observation(extra: Partial<Observation> = {}): Observation {
  return { state: 'idle', todos: [], messages: [], permissions: [], questions: [], ...extra };
}

function input(extra: Partial<AssessInput> = {}): AssessInput {
  return {
    name: 'kumo',
    watch: watchOf(),
    observation: observation(),
    prompt: { digest: promptDigest(PROMPT), sentAt: SENT },
    now: SENT + 60_000,
    stallAfterMs: 600_000,
    idleStreak: 1,
    ...extra,
  };
}

const permission = (id: string): PermissionRequest => ({ id, sessionID: 'ses_1', permission: 'bash', patterns: ['rm -rf build'] });
const question = (id: string): QuestionRequest => ({
  id,
  sessionID: 'ses_1',
  questions: [{ question: 'Which colour?', options: [{ label: 'Blue' }, { label: 'Red' }] }],
});

describe('assess: finishing', () => {
  it('idle with a completed reply → finished ok, with the output and the elapsed time', () => {
    const ours = userMessage(PROMPT, SENT + 100);
    const result = assess(
      input({
        observation: observation({
          messages: [ours, assistantMessage('Fixed: the token was cached.', { created: SENT + 200, completed: SENT + 42_000, finish: 'stop' })],
        }),
      }),
    );
    expect(result.finished).toEqual({
      userMessageId: ours.info.id,
      ok: true,
      output: 'Fixed: the token was cached.',
      finish: 'stop',
      elapsedMs: 42_000,
    });
    expect(result.asks).toEqual([]);
    expect(result.stall).toBe(false);
  });

  it('info.error → finished, not ok, carrying the error', () => {
    const error = { name: 'APIError', data: { message: 'context too long' } };
    const result = assess(
      input({ observation: observation({ messages: [userMessage(PROMPT, SENT), assistantMessage(undefined, { created: SENT + 10, error })] }) }),
    );
    expect(result.finished).toMatchObject({ ok: false, error });
    expect(result.finished!.output).toBeUndefined();
  });

  it.each([
    ['length', false],
    ['tool-calls', false],
    ['content-filter', false],
    ['stop', true],
    ['end_turn', true],
  ])('finish %s → ok %s', (finish, ok) => {
    const result = assess(
      input({
        observation: observation({
          messages: [userMessage(PROMPT, SENT), assistantMessage('partial', { created: SENT + 1, completed: SENT + 2, finish })],
        }),
      }),
    );
    expect(result.finished).toMatchObject({ ok, finish, output: 'partial' });
  });

  it('idle with our prompt recorded but no reply yet, within the grace period → not finished', () => {
    const result = assess(
      input({
        now: SENT + START_GRACE_MS - 1,
        idleStreak: 5,
        observation: observation({ messages: [userMessage(PROMPT, SENT)] }),
      }),
    );
    expect(result.finished).toBeUndefined();
  });

  it('idle with our prompt not recorded yet, within the grace period → not finished', () => {
    expect(assess(input({ now: SENT + 1_000, idleStreak: 3 })).finished).toBeUndefined();
  });

  it('idle with no reply after the grace period, seen idle twice → finished with a problem', () => {
    const ours = userMessage(PROMPT, SENT);
    const messages = [ours];
    const now = SENT + START_GRACE_MS;
    expect(assess(input({ now, idleStreak: 1, observation: observation({ messages }) })).finished).toBeUndefined();
    const result = assess(input({ now, idleStreak: 2, observation: observation({ messages }) }));
    expect(result.finished).toEqual({
      userMessageId: ours.info.id,
      ok: false,
      problem: 'the agent went idle without replying',
      elapsedMs: START_GRACE_MS,
    });
  });

  it('an unfinished reply that went idle after the grace period → finished, saying the run stopped', () => {
    const result = assess(
      input({
        now: SENT + 120_000,
        idleStreak: 2,
        observation: observation({ messages: [userMessage(PROMPT, SENT), assistantMessage('half way', { created: SENT + 10 })] }),
      }),
    );
    expect(result.finished).toMatchObject({ ok: false, output: 'half way', problem: 'the run stopped before it completed (was the server restarted?)' });
  });

  it('a prompt that never appears → finished with "the prompt never started" after the grace period', () => {
    const result = assess(input({ now: SENT + START_GRACE_MS, idleStreak: 2 }));
    expect(result.finished).toEqual({ userMessageId: `missing:${SENT}`, ok: false, problem: 'the prompt never started', elapsedMs: START_GRACE_MS });
  });

  it('a session error → finished, not ok, describing it (even within the grace period)', () => {
    const sessionError = { name: 'UnknownError', data: { message: 'Model not found: fake/nope.' } };
    const missing = assess(input({ now: SENT + 500, sessionError }));
    expect(missing.finished).toMatchObject({ ok: false, problem: 'UnknownError: Model not found: fake/nope.' });
    const recorded = assess(input({ now: SENT + 500, sessionError, observation: observation({ messages: [userMessage(PROMPT, SENT)] }) }));
    expect(recorded.finished).toMatchObject({ ok: false, problem: 'UnknownError: Model not found: fake/nope.' });
  });

  it('finds our turn by its exact text even when the server clock is far behind', () => {
    const ours = userMessage(PROMPT, SENT - 10 * 60_000);
    const result = assess(
      input({ observation: observation({ messages: [ours, assistantMessage('done', { created: SENT - 599_000, completed: SENT - 590_000 })] }) }),
    );
    expect(result.finished).toMatchObject({ userMessageId: ours.info.id, ok: true, output: 'done' });
  });

  it('finds our turn by exact text when a later prompt was queued into the same loop', () => {
    const ours = userMessage(PROMPT, SENT);
    const queued = userMessage('also update the docs', SENT + 1_000);
    const result = assess(
      input({
        observation: observation({
          messages: [
            userMessage('an older prompt', SENT - 3_600_000),
            assistantMessage('older answer', { created: SENT - 3_590_000, completed: SENT - 3_500_000 }),
            ours,
            queued,
            assistantMessage('tests fixed and docs updated', { created: SENT + 2_000, completed: SENT + 30_000 }),
          ],
        }),
      }),
    );
    expect(result.finished).toMatchObject({ userMessageId: queued.info.id, ok: true, output: 'tests fixed and docs updated' });
  });

  it('an earlier completed turn with other text is not taken for ours before our prompt is recorded', () => {
    // The previous prompt was sent 30 s before ours and has finished; ours is not in the history yet.
    const result = assess(
      input({
        now: SENT + 2_000,
        observation: observation({
          messages: [userMessage('the previous prompt', SENT - 30_000), assistantMessage('previous answer', { created: SENT - 29_000, completed: SENT - 5_000 })],
        }),
      }),
    );
    expect(result.finished).toBeUndefined();
  });

  it('a prompt refused after acceptance is not reported as the success of the previous turn', () => {
    // prompt_async said 204, then the server emitted session.error and never stored our message.
    const sessionError = { name: 'UnknownError', data: { message: 'Model not found: fake/nope.' } };
    const result = assess(
      input({
        now: SENT + 2_000,
        sessionError,
        observation: observation({
          messages: [userMessage('the previous prompt', SENT - 30_000), assistantMessage('previous answer', { created: SENT - 29_000, completed: SENT - 5_000 })],
        }),
      }),
    );
    expect(result.finished).toMatchObject({ ok: false, problem: 'UnknownError: Model not found: fake/nope.' });
    expect(result.finished!.output).toBeUndefined();
  });

  it('a hand-made watch (no prompt) finishes on the latest completed turn', () => {
    const user = userMessage('whatever', SENT);
    const result = assess(
      input({ prompt: undefined, observation: observation({ messages: [user, assistantMessage('out', { created: SENT + 1, completed: SENT + 2 })] }) }),
    );
    expect(result.finished).toEqual({ userMessageId: user.info.id, ok: true, output: 'out' });
  });

  it('busy is never finished, even with a completed earlier step', () => {
    const result = assess(
      input({
        observation: observation({ state: 'busy', messages: [userMessage(PROMPT, SENT), assistantMessage('step one', { created: SENT + 1, completed: SENT + 2 })] }),
      }),
    );
    expect(result.finished).toBeUndefined();
  });
});

describe('turnForPrompt', () => {
  it('is the latest turn without a prompt, and undefined without messages', () => {
    expect(turnForPrompt([], { digest: promptDigest(PROMPT), sentAt: SENT })).toBeUndefined();
    const user = userMessage('x', SENT);
    expect(turnForPrompt([user], undefined)?.userMessageId).toBe(user.info.id);
  });

  it('when our message is older than the window read, every turn shown counts', () => {
    const later = userMessage('later', SENT + 10);
    expect(turnForPrompt([later], { digest: promptDigest(PROMPT), sentAt: SENT })?.userMessageId).toBe(later.info.id);
  });
});

describe('assess: the run for its card', () => {
  it('busy: hands over the turn of our prompt (what the card shows), and reports nothing by itself', () => {
    const ours = userMessage(PROMPT, SENT);
    const reply = assistantMessage('Looking at the cache.', { created: SENT + 1 });
    const result = assess(input({ observation: observation({ state: 'busy', todos: [todo('fix', 'in_progress')], messages: [ours, reply] }) }));
    expect(result.turn?.userMessageId).toBe(ours.info.id);
    expect(result.turn?.assistant).toEqual([reply]);
    expect(result.finished).toBeUndefined();
    expect(result.asks).toEqual([]);
  });

  it('no turn before our prompt shows up: the previous prompt’s turn is not ours', () => {
    const older = userMessage('an older prompt', SENT - 60_000);
    const result = assess(input({ observation: observation({ state: 'busy', messages: [older, assistantMessage('old', { created: SENT - 59_000 })] }) }));
    expect(result.turn).toBeUndefined();
  });
});

describe('assess: asks', () => {
  it('permission and question requests not yet asked are asked, once', () => {
    const obs = observation({ state: 'busy', permissions: [permission('per_1'), permission('per_2')], questions: [question('que_1')] });
    const first = assess(input({ observation: obs }));
    expect(first.asks).toEqual([
      { kind: 'permission', request: permission('per_1') },
      { kind: 'permission', request: permission('per_2') },
      { kind: 'question', request: question('que_1') },
    ]);
    const again = assess(input({ observation: obs, watch: watchOf({ asked: ['per_1', 'que_1'] }) }));
    expect(again.asks).toEqual([{ kind: 'permission', request: permission('per_2') }]);
  });
});

describe('assess: stall watchdog', () => {
  const quietObservation = observation({ state: 'busy', todos: [todo('fix', 'in_progress')] });
  const quietHash = assess(input({ observation: quietObservation })).activityHash;
  const quiet = (extra: Partial<Watch> = {}) => watchOf({ activityHash: quietHash, lastActivityAt: SENT, ...extra });

  it('stalls only after stallAfterMs without activity', () => {
    expect(assess(input({ now: SENT + 599_999, observation: quietObservation, watch: quiet() })).stall).toBe(false);
    const stalled = assess(input({ now: SENT + 600_000, observation: quietObservation, watch: quiet() }));
    expect(stalled.stall).toBe(true);
    expect(stalled.activityAt).toBe(SENT);
  });

  it('new activity (a changed observation or a recent event) resets the clock', () => {
    const changed = assess(input({ now: SENT + 700_000, observation: quietObservation, watch: quiet({ activityHash: 'something else' }) }));
    expect(changed.stall).toBe(false);
    expect(changed.activityAt).toBe(SENT + 700_000);
    const evented = assess(input({ now: SENT + 700_000, lastEventAt: SENT + 650_000, observation: quietObservation, watch: quiet() }));
    expect(evented.stall).toBe(false);
    expect(evented.activityAt).toBe(SENT + 650_000);
  });

  it('does not stall while waiting on a permission or a question', () => {
    for (const obs of [
      observation({ ...quietObservation, permissions: [permission('per_1')] }),
      observation({ ...quietObservation, questions: [question('que_1')] }),
    ]) {
      const hash = assess(input({ observation: obs })).activityHash;
      expect(assess(input({ now: SENT + 3_600_000, observation: obs, watch: quiet({ activityHash: hash, asked: ['per_1', 'que_1'] }) })).stall).toBe(false);
    }
  });

  it('does not repeat a stall already noticed', () => {
    expect(assess(input({ now: SENT + 3_600_000, observation: quietObservation, watch: quiet({ stallNoticed: true }) })).stall).toBe(false);
  });

  it('the activity hash follows todos and the last message', () => {
    const a = assess(input({ observation: quietObservation })).activityHash;
    const b = assess(input({ observation: observation({ state: 'busy', todos: [todo('fix', 'completed')] }) })).activityHash;
    const c = assess(input({ observation: observation({ ...quietObservation, messages: [userMessage(PROMPT, SENT)] }) })).activityHash;
    expect(new Set([a, b, c]).size).toBe(3);
    expect(assess(input({ observation: quietObservation, now: SENT + 5 })).activityHash).toBe(a);
  });
});
