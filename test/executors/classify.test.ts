import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { classify, describeExit, looksLikeInputPrompt, type ClassifyPolicy, type ClassifyTask } from '../../src/executors/classify.js';
import { parseClaudeEvents, type AttemptSummary } from '../../src/executors/claude-events.js';
import { emptyProbe, type TaskProbe } from '../../src/executors/protocol/probe.js';

const NOW = 1_000_000;
const policy: ClassifyPolicy = { staleMs: 60_000, toolStaleMs: 600_000, attentionMs: 20_000, startGraceMs: 15_000, killGraceMs: 5_000 };
const fixture = (name: string) => readFileSync(new URL(`./fixtures/stream-${name}.jsonl`, import.meta.url), 'utf8');
const events = (name: string): AttemptSummary => parseClaudeEvents(fixture(name)).attempts[0]!;

function task(overrides: Partial<ClassifyTask> = {}): ClassifyTask {
  return { kind: 'claude', attempt: 1, attemptStartedAt: NOW - 120_000, deadlineAt: null, pending: null, ...overrides };
}
const alive = { pid: 10, state: 'S', alive: true };
const dead = { pid: 10, state: null, alive: false };
const zombie = { pid: 10, state: 'Z', alive: false };

/** A probe of a running task: wrapper and child alive, events written `eventsAgo` ms ago. */
function running(overrides: Partial<TaskProbe> = {}, eventsAgo = 1_000): TaskProbe {
  return {
    ...emptyProbe(NOW),
    attempt: 1,
    child: alive,
    wrapper: alive,
    events: { size: 100, mtimeMs: NOW - eventsAgo },
    output: { size: 10, mtimeMs: NOW - eventsAgo },
    pane: { dead: false, pid: 9, deadStatus: null, deadSignal: null },
    ...overrides,
  };
}
/** A probe after the wrapper wrote its outcome. */
function finished(exitCode: number, overrides: Partial<TaskProbe> = {}): TaskProbe {
  return running({ child: dead, wrapper: dead, pane: { dead: true, pid: 9, deadStatus: exitCode, deadSignal: null }, done: 1, exitCode, ...overrides });
}
const verdict = (t: ClassifyTask, probe: TaskProbe, summary: AttemptSummary | null = null) => classify({ task: t, probe, events: summary, now: NOW, policy });

describe('classify', () => {
  test('exit 0 with a successful result: succeeded', () => {
    expect(verdict(task(), finished(0), events('todo'))).toEqual({ kind: 'succeeded', exitCode: 0 });
  });

  test('exit 137 WITH a done file is a crash, not a completion (the wrapper outlived a SIGKILLed claude)', () => {
    expect(verdict(task(), finished(137), events('todo'))).toMatchObject({ kind: 'crashed', cause: 'crash', exitCode: 137, reason: 'claude ended with exit 137 (SIGKILL)' });
  });

  test('is_error:true with subtype "success" (an API error) is a resumable crash, not a success', () => {
    expect(verdict(task(), finished(1), events('fail500'))).toMatchObject({ kind: 'crashed', cause: 'api_error', reason: expect.stringContaining('API error 500') });
    // …even if claude exited 0.
    expect(verdict(task(), finished(0), events('fail500'))).toMatchObject({ kind: 'crashed', cause: 'api_error' });
  });

  test('max turns is a failure with its terminal reason (resuming would only hit it again)', () => {
    expect(verdict(task(), finished(1), events('maxturns'))).toMatchObject({ kind: 'failed', terminalReason: 'max_turns', exitCode: 1 });
  });

  test('exit 0 without a result event is a crash; exit 127 without one is a failure (not found)', () => {
    expect(verdict(task(), finished(0), null)).toMatchObject({ kind: 'crashed', reason: 'claude exited 0 without a result event' });
    expect(verdict(task(), finished(127), null)).toMatchObject({ kind: 'failed', reason: expect.stringContaining('command not found') });
  });

  test('a done file from an earlier attempt does not count', () => {
    expect(verdict(task({ attempt: 2 }), running({ attempt: 2, done: 1, exitCode: 137 }), null)).toMatchObject({ kind: 'running' });
  });

  test('a zombie is dead (kill -0 would say alive): no done file → crashed', () => {
    const probe = running({ child: zombie, wrapper: zombie, pane: { dead: true, pid: 9, deadStatus: null, deadSignal: 9 } });
    expect(verdict(task(), probe, events('todo'))).toMatchObject({ kind: 'crashed', cause: 'crash', reason: expect.stringContaining('exit 137 (SIGKILL)') });
  });

  test('wrapper and claude dead without done, the tmux session gone: crashed (claude) / failed (shell, never re-run)', () => {
    const probe = running({ child: dead, wrapper: dead, pane: null });
    expect(verdict(task(), probe)).toMatchObject({ kind: 'crashed', reason: 'its processes died before writing an outcome' });
    expect(verdict(task({ kind: 'shell' }), probe)).toMatchObject({ kind: 'failed', terminalReason: 'crashed' });
  });

  test('just launched, nothing visible yet: starting, until the start grace is over', () => {
    const probe = { ...emptyProbe(NOW), attempt: 1 };
    expect(verdict(task({ attemptStartedAt: NOW - 1_000 }), probe)).toEqual({ kind: 'starting' });
    expect(verdict(task({ attemptStartedAt: NOW - 60_000 }), probe)).toMatchObject({ kind: 'crashed', reason: 'its tmux session is gone' });
  });

  test('shell outcomes: 0 succeeded; 3 failed; a signal is a failure too (a command is never re-run by itself)', () => {
    expect(verdict(task({ kind: 'shell' }), finished(0))).toEqual({ kind: 'succeeded', exitCode: 0 });
    expect(verdict(task({ kind: 'shell' }), finished(3))).toMatchObject({ kind: 'failed', exitCode: 3, reason: 'exit 3' });
    expect(verdict(task({ kind: 'shell' }), finished(143))).toMatchObject({ kind: 'failed', reason: 'exit 143 (SIGTERM)' });
  });

  test('silence: hung only past the staleness window, and a longer one while a tool call is open', () => {
    const noTool = { ...events('todo'), result: null };
    expect(verdict(task(), running({}, 30_000), noTool)).toMatchObject({ kind: 'running' });
    expect(verdict(task(), running({}, 61_000), noTool)).toMatchObject({ kind: 'hung', reason: 'no new event for 61 s with no tool call open' });
    const toolOpen = { ...noTool, openToolCalls: ['toolu_1'] };
    expect(verdict(task(), running({}, 61_000), toolOpen)).toMatchObject({ kind: 'running' });
    expect(verdict(task({ attemptStartedAt: NOW - 3_600_000 }), running({}, 601_000), toolOpen)).toMatchObject({ kind: 'hung', reason: expect.stringContaining('1 tool call(s) open') });
  });

  test('a fresh attempt is not hung because of an old events file', () => {
    expect(verdict(task({ attemptStartedAt: NOW - 2_000 }), running({}, 3_600_000), null)).toMatchObject({ kind: 'running' });
  });

  test('shell tasks are never hung for being quiet (builds are quiet)', () => {
    expect(verdict(task({ kind: 'shell' }), running({}, 3_600_000))).toMatchObject({ kind: 'running' });
  });

  test('a prompt in the pane and no output for a while: needs attention', () => {
    const asking = running({ paneTail: 'Copying files\nOverwrite config.yaml? (y/N) ' }, 30_000);
    expect(verdict(task({ kind: 'shell' }), asking)).toMatchObject({ kind: 'needs_attention', paneTail: asking.paneTail });
    // Output still flowing: not yet.
    expect(verdict(task({ kind: 'shell' }), { ...asking, output: { size: 10, mtimeMs: NOW - 1_000 } })).toMatchObject({ kind: 'running' });
  });

  test('past the deadline: abandoned', () => {
    expect(verdict(task({ deadlineAt: NOW - 1 }), running())).toEqual({ kind: 'abandoned', reason: 'it ran past its deadline' });
  });

  test('what Switchboard asked for decides how an ending reads', () => {
    const since = NOW - 1_000;
    expect(verdict(task({ pending: { action: 'kill', since } }), finished(143), events('todo'))).toEqual({ kind: 'killed', exitCode: 143 });
    expect(verdict(task({ pending: { action: 'kill', since } }), running())).toEqual({ kind: 'stopping', overdue: false });
    expect(verdict(task({ pending: { action: 'kill', since: NOW - 10_000 } }), running())).toEqual({ kind: 'stopping', overdue: true });
    expect(verdict(task({ pending: { action: 'hang', since, reason: 'hung: quiet' } }), finished(143))).toMatchObject({ kind: 'crashed', cause: 'hung', reason: 'hung: quiet' });
    expect(verdict(task({ pending: { action: 'abandon', since, reason: 'deadline' } }), finished(143))).toEqual({ kind: 'abandoned', reason: 'deadline' });
  });

  test('the task directory vanished: abandoned (or killed, when that was asked for)', () => {
    expect(verdict(task(), { ...emptyProbe(NOW), gone: true })).toMatchObject({ kind: 'abandoned' });
    expect(verdict(task({ pending: { action: 'kill', since: NOW } }), { ...emptyProbe(NOW), gone: true })).toMatchObject({ kind: 'killed' });
  });

  test('containers: liveness from the runtime', () => {
    const inContainer = { ...emptyProbe(NOW), attempt: 1, events: { size: 1, mtimeMs: NOW } };
    expect(verdict(task(), { ...inContainer, container: { running: true, status: 'running', exitCode: 0 } })).toMatchObject({ kind: 'running' });
    expect(verdict(task(), { ...inContainer, container: { running: false, status: 'exited', exitCode: 137 } })).toMatchObject({
      kind: 'crashed',
      reason: 'its container exited (exit 137) before the task wrote its outcome',
    });
  });
});

describe('input prompts and exits', () => {
  test.each([
    ['Overwrite file? (y/N) ', true],
    ['Continue? [Y/n]', true],
    ['Do you want to use this API key?', true],
    ['Enter passphrase for key /root/.ssh/id_ed25519: ', true],
    ['❯ 1. Yes, I trust this folder', true],
    ['compiling 34 files', false],
    ['Tests: 12 passed', false],
  ])('%j → %s', (line, expected) => {
    expect(looksLikeInputPrompt(`some output\n${line}`)).toBe(expected);
  });

  test('only the last lines count', () => {
    expect(looksLikeInputPrompt('Overwrite? (y/N) y\nwrote a\nwrote b\nwrote c\ndone')).toBe(false);
  });

  test('exit codes name their signal', () => {
    expect(describeExit(137)).toBe('exit 137 (SIGKILL)');
    expect(describeExit(2)).toBe('exit 2');
  });
});
