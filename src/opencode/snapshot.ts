import type { OpencodeClient } from './client.js';
import type { Message, PermissionRequest, QuestionRequest, Todo } from './schemas.js';

/** Busy, idle, or retrying; plus what the agent is waiting on. */
export interface SessionSnapshot {
  state: 'busy' | 'idle' | 'retry';
  retry?: { attempt?: number; message?: string };
  todos: Todo[];
  messages: Message[];
  permissions: PermissionRequest[];
  questions: QuestionRequest[];
}

/**
 * Reads everything `status` and the monitor need about one session, in parallel. Status, permissions and
 * questions are per directory instance, so the session's directory is always passed.
 */
export async function readSnapshot(
  client: OpencodeClient,
  sessionId: string,
  directory: string,
  options: { messageLimit?: number } = {},
): Promise<SessionSnapshot> {
  const [statusMap, todos, messages, permissions, questions] = await Promise.all([
    client.status(directory),
    client.todo(sessionId),
    client.messages(sessionId, { limit: options.messageLimit ?? 20 }),
    client.permissions(directory),
    client.questions(directory),
  ]);
  const status = statusMap[sessionId];
  const state = status?.type === 'busy' ? 'busy' : status?.type === 'retry' ? 'retry' : 'idle';
  const snapshot: SessionSnapshot = {
    state,
    todos,
    messages,
    permissions: permissions.filter((p) => p.sessionID === sessionId),
    questions: questions.filter((q) => q.sessionID === sessionId),
  };
  if (status?.type === 'retry') {
    const detail = status as { attempt?: unknown; message?: unknown };
    snapshot.retry = {
      ...(typeof detail.attempt === 'number' ? { attempt: detail.attempt } : {}),
      ...(typeof detail.message === 'string' ? { message: detail.message } : {}),
    };
  }
  return snapshot;
}
