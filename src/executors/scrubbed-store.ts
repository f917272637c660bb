import { scrubData, type Scrubber } from '../core/scrub.js';
import type { CompletionRecord, TaskPatch, TaskStore } from './task-store.js';

/** The task fields an agent's output or an error's text reaches (a result, the kept log tail, reasons). */
const TEXT_FIELDS = ['result', 'logTail', 'reason', 'terminalReason'] as const;

/**
 * The task store with secrets kept out: what a task printed (a token in its result or log tail) is scrubbed
 * before it is written, as for every other table. The completion record is scrubbed whole, so the webhook
 * that carries it gets the same text the channel does.
 */
export function scrubbingTaskStore(store: TaskStore, scrub: Scrubber): TaskStore {
  return {
    ...store,
    update(id, patch, whenStatus) {
      const clean: TaskPatch = { ...patch };
      for (const field of TEXT_FIELDS) {
        const value = clean[field];
        if (typeof value === 'string') clean[field] = scrub(value);
      }
      return store.update(id, clean, whenStatus);
    },
    endAttempt(taskId, attempt, end) {
      store.endAttempt(taskId, attempt, { ...end, detail: end.detail === null ? null : scrub(end.detail) });
    },
    recordCompletion(taskId, attempt, record, webhookUrl, now) {
      return store.recordCompletion(taskId, attempt, scrubData(record, scrub) as CompletionRecord, webhookUrl, now);
    },
  };
}
