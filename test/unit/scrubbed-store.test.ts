import { describe, expect, it } from 'vitest';
import { createScrubber } from '../../src/core/scrub.js';
import { scrubbingTaskStore } from '../../src/executors/scrubbed-store.js';
import { createTaskStore, taskMigrations, type CompletionRecord } from '../../src/executors/task-store.js';
import { openDatabase } from '../../src/sessions/database.js';

// A token shape assembled from parts, so secret scanners leave this file alone.
const TOKEN = ['gh', 'p_', 'Zq7Xw2Lm9Kp4Rt6Yv8Bn3Cs5Df1Gh0Jk2Ll4'].join('');

describe('the task store, scrubbed', () => {
  it('writes no token a task printed: result, log tail, reasons, attempt detail, completion record', () => {
    const db = openDatabase(':memory:', taskMigrations);
    const store = scrubbingTaskStore(createTaskStore(db), createScrubber([]));
    const task = store.insert({
      id: 't1', name: 'leak', executor: 'local', kind: 'claude', status: 'running', workspace: '/w', model: null,
      maxTurns: null, sessionId: null, session: 'sb-t1', actor: 'console:me', channel: '{}', createdAt: 1,
    });
    expect(task.name).toBe('leak');
    store.startAttempt('t1', 1, 'start', 2);
    expect(store.update('t1', { result: `found ${TOKEN}`, logTail: `cat .env\nKEY=${TOKEN}`, reason: `died: ${TOKEN}`, terminalReason: TOKEN })).toBe(true);
    store.endAttempt('t1', 1, { finishedAt: 3, exitCode: 0, outcome: 'succeeded', detail: `last line ${TOKEN}`, costUsd: null, usage: null });
    const record: CompletionRecord = {
      task_id: 't1', name: 'leak', executor: 'local', type: 'claude', status: 'succeeded', exit_code: 0, attempts: 1, attempt: 1,
      session_id: null, result: `found ${TOKEN}`, terminal_reason: null, reason: null, total_cost_usd: 0.5, usage: null,
      started_at: null, finished_at: '2026-01-01T00:00:00.000Z',
    };
    expect(store.recordCompletion('t1', 1, record, null, 4)).toBe(true);

    const everything = JSON.stringify([db.prepare('SELECT * FROM executor_tasks').all(), db.prepare('SELECT * FROM executor_task_attempts').all()]);
    expect(everything).not.toContain(TOKEN);
    expect(store.get('t1')).toMatchObject({ result: 'found [redacted]', logTail: 'cat .env\nKEY=[redacted]', status: 'running' });
    expect(store.completion('t1')!.record).toEqual({ ...record, result: 'found [redacted]' });
    db.close();
  });
});
