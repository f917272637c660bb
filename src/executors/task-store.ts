// Why this file is long: it is the one owner of the executor_tasks and executor_task_attempts tables: the schema, the
// row types and every statement over them (~17 prepared queries) stay together so no other module writes
// them; the typed row mapping is most of its length. Splitting by query family is planned with issue 15.
import type { Db, Migration } from '../sessions/database.js';
import type { PendingAction } from './classify.js';
import type { Usage } from './claude-events.js';
import type { TaskKind } from './protocol/task-files.js';

/**
 * Tasks and their attempts in SQLite. The prompt text is not stored here (the core keeps prompts once, in its
 * own table); a task directory on the host holds what the wrapper needs.
 *
 * A *run* is a start or a follow-up (`send`); it may take several *attempts* (automatic resumes after a crash
 * or hang). Each run ends with one completion record, stored on its last attempt together with the state of
 * its webhook delivery, so the record is made and delivered once per (task, attempt).
 */

export type TaskStatus =
  | 'queued'
  | 'running'
  | 'needs_attention'
  | 'retrying'
  | 'stopping'
  | 'succeeded'
  | 'failed'
  | 'killed'
  | 'abandoned';

/** Statuses that hold one of the executor's maxConcurrent slots. */
export const ACTIVE_STATUSES: readonly TaskStatus[] = ['running', 'needs_attention', 'retrying', 'stopping'];
export const FINAL_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'killed', 'abandoned'];

export function isFinal(status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** Why an attempt was launched. */
export type AttemptReason = 'start' | 'followup' | 'crash' | 'hung' | 'api_error';

export interface TaskRecord {
  id: string;
  name: string;
  executor: string;
  kind: TaskKind;
  status: TaskStatus;
  /** A human sentence: why it failed, why it waits, what it is doing about it. */
  reason: string | null;
  workspace: string | null;
  model: string | null;
  maxTurns: number | null;
  /** Claude's session uuid (fixed at launch with --session-id; every resume uses --resume with it). */
  sessionId: string | null;
  /** The task directory on the executor host (null once cleaned up). */
  remoteDir: string | null;
  /** The current (or last) attempt number, counting every run. */
  attempt: number;
  /** Automatic resumes within the current run. */
  retries: number;
  exitCode: number | null;
  terminalReason: string | null;
  result: string | null;
  /** Of the current run, summed over its attempts. */
  totalCostUsd: number | null;
  usage: Usage | null;
  /** Opaque strings from the core: who started it and where to report. */
  actor: string;
  channel: string;
  /** 1-based position in its executor's queue when queued. */
  queuePosition: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  deadlineAt: number | null;
}

/** Fields only the executor layer uses. */
export interface TaskRow extends TaskRecord {
  session: string;
  claudePath: string | null;
  runFirstAttempt: number;
  attemptStartedAt: number | null;
  resumeAt: number | null;
  resumeReason: AttemptReason | null;
  pending: PendingAction | null;
  progressKey: string | null;
  queueSeq: number | null;
  logTail: string | null;
  /** Claude's running total for the session, as last reported (a resume continues from it). */
  sessionCostUsd: number | null;
  /** That total when the current run began. */
  runCostBase: number | null;
}

export interface CompletionRecord {
  task_id: string;
  name: string;
  executor: string;
  type: TaskKind;
  status: 'succeeded' | 'failed' | 'killed' | 'abandoned';
  exit_code: number | null;
  /** Attempts in this run; `attempt` is the last one's number (the idempotency key with task_id). */
  attempts: number;
  attempt: number;
  session_id: string | null;
  result: string | null;
  terminal_reason: string | null;
  reason: string | null;
  total_cost_usd: number | null;
  usage: Usage | null;
  started_at: string | null;
  finished_at: string;
}

/** The record without the executor layer's own bookkeeping. */
export function toTaskRecord(task: TaskRow): TaskRecord {
  return {
    id: task.id,
    name: task.name,
    executor: task.executor,
    kind: task.kind,
    status: task.status,
    reason: task.reason,
    workspace: task.workspace,
    model: task.model,
    maxTurns: task.maxTurns,
    sessionId: task.sessionId,
    remoteDir: task.remoteDir,
    attempt: task.attempt,
    retries: task.retries,
    exitCode: task.exitCode,
    terminalReason: task.terminalReason,
    result: task.result,
    totalCostUsd: task.totalCostUsd,
    usage: task.usage,
    actor: task.actor,
    channel: task.channel,
    queuePosition: task.queuePosition,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    deadlineAt: task.deadlineAt,
  };
}

export interface PendingDelivery {
  taskId: string;
  attempt: number;
  body: string;
  url: string;
  tries: number;
}

export const taskMigrations: Migration[] = [
  {
    id: 'tasks-001-executor-tasks',
    up(db: Db) {
      db.exec(`
        CREATE TABLE executor_tasks (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          executor TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('claude', 'shell')),
          status TEXT NOT NULL,
          reason TEXT,
          workspace TEXT,
          model TEXT,
          max_turns INTEGER,
          session_id TEXT,
          claude_path TEXT,
          remote_dir TEXT,
          session TEXT NOT NULL,
          attempt INTEGER NOT NULL DEFAULT 0,
          run_first_attempt INTEGER NOT NULL DEFAULT 1,
          retries INTEGER NOT NULL DEFAULT 0,
          exit_code INTEGER,
          terminal_reason TEXT,
          result TEXT,
          total_cost_usd REAL,
          session_cost_usd REAL,
          run_cost_base REAL,
          usage TEXT,
          actor TEXT NOT NULL,
          channel TEXT NOT NULL,
          queue_seq INTEGER,
          created_at INTEGER NOT NULL,
          started_at INTEGER,
          attempt_started_at INTEGER,
          finished_at INTEGER,
          deadline_at INTEGER,
          resume_at INTEGER,
          resume_reason TEXT,
          pending TEXT,
          progress_key TEXT,
          log_tail TEXT,
          cleaned_at INTEGER
        );
        CREATE INDEX executor_tasks_by_executor ON executor_tasks (executor, status);
        CREATE TABLE executor_task_attempts (
          task_id TEXT NOT NULL REFERENCES executor_tasks (id) ON DELETE CASCADE,
          attempt INTEGER NOT NULL,
          reason TEXT NOT NULL,
          started_at INTEGER NOT NULL,
          finished_at INTEGER,
          exit_code INTEGER,
          outcome TEXT,
          detail TEXT,
          cost_usd REAL,
          usage TEXT,
          record TEXT,
          webhook_url TEXT,
          webhook_state TEXT NOT NULL DEFAULT 'none',
          webhook_tries INTEGER NOT NULL DEFAULT 0,
          webhook_next_at INTEGER,
          webhook_error TEXT,
          delivered_at INTEGER,
          PRIMARY KEY (task_id, attempt)
        );
      `);
    },
  },
];

interface RawRow {
  id: string;
  name: string;
  executor: string;
  kind: TaskKind;
  status: TaskStatus;
  reason: string | null;
  workspace: string | null;
  model: string | null;
  max_turns: number | null;
  session_id: string | null;
  claude_path: string | null;
  remote_dir: string | null;
  session: string;
  attempt: number;
  run_first_attempt: number;
  retries: number;
  exit_code: number | null;
  terminal_reason: string | null;
  result: string | null;
  total_cost_usd: number | null;
  session_cost_usd: number | null;
  run_cost_base: number | null;
  usage: string | null;
  actor: string;
  channel: string;
  queue_seq: number | null;
  created_at: number;
  started_at: number | null;
  attempt_started_at: number | null;
  finished_at: number | null;
  deadline_at: number | null;
  resume_at: number | null;
  resume_reason: AttemptReason | null;
  pending: string | null;
  progress_key: string | null;
  log_tail: string | null;
  queue_position?: number | null;
}

const COLUMNS: Record<string, string> = {
  status: 'status',
  reason: 'reason',
  workspace: 'workspace',
  model: 'model',
  maxTurns: 'max_turns',
  sessionId: 'session_id',
  claudePath: 'claude_path',
  remoteDir: 'remote_dir',
  attempt: 'attempt',
  runFirstAttempt: 'run_first_attempt',
  retries: 'retries',
  exitCode: 'exit_code',
  terminalReason: 'terminal_reason',
  result: 'result',
  totalCostUsd: 'total_cost_usd',
  sessionCostUsd: 'session_cost_usd',
  runCostBase: 'run_cost_base',
  usage: 'usage',
  queueSeq: 'queue_seq',
  startedAt: 'started_at',
  attemptStartedAt: 'attempt_started_at',
  finishedAt: 'finished_at',
  deadlineAt: 'deadline_at',
  resumeAt: 'resume_at',
  resumeReason: 'resume_reason',
  pending: 'pending',
  progressKey: 'progress_key',
  logTail: 'log_tail',
};

export type TaskPatch = Partial<Omit<TaskRow, 'id' | 'name' | 'executor' | 'kind' | 'actor' | 'channel' | 'createdAt' | 'session' | 'queuePosition'>>;

export interface NewTask {
  id: string;
  name: string;
  executor: string;
  kind: TaskKind;
  status: TaskStatus;
  workspace: string | null;
  model: string | null;
  maxTurns: number | null;
  sessionId: string | null;
  session: string;
  actor: string;
  channel: string;
  createdAt: number;
}

export interface TaskStore {
  insert(task: NewTask): TaskRow;
  get(id: string): TaskRow | null;
  byName(name: string): TaskRow | null;
  list(filter?: { status?: TaskStatus | readonly TaskStatus[]; executor?: string }): TaskRow[];
  /** Updates the task; with `whenStatus`, only if it is still in that status (false otherwise). */
  update(id: string, patch: TaskPatch, whenStatus?: TaskStatus | readonly TaskStatus[]): boolean;
  delete(id: string): void;
  countActive(executor: string): number;
  nextQueueSeq(): number;
  /** Queued tasks of an executor, oldest first. */
  queued(executor: string): TaskRow[];
  startAttempt(taskId: string, attempt: number, reason: AttemptReason, startedAt: number): void;
  endAttempt(taskId: string, attempt: number, end: { finishedAt: number; exitCode: number | null; outcome: string; detail: string | null; costUsd: number | null; usage: Usage | null }): void;
  attempts(taskId: string): AttemptRow[];
  /** Stores the run's completion record on its last attempt, once; false if one is already there. */
  recordCompletion(taskId: string, attempt: number, record: CompletionRecord, webhookUrl: string | null, now: number): boolean;
  /** The record of that attempt, or (no attempt given) of the task's latest finished run. */
  completion(taskId: string, attempt?: number): { record: CompletionRecord; webhookState: string; webhookTries: number } | null;
  dueDeliveries(now: number): PendingDelivery[];
  markDelivery(taskId: string, attempt: number, outcome: { delivered: true; at: number } | { delivered: false; error: string; nextAt: number | null }): void;
  /** Runs fn in one SQLite transaction (the fleet groups a task update with its attempt and record). */
  transaction<T>(fn: () => T): T;
}

export interface AttemptRow {
  attempt: number;
  reason: AttemptReason;
  startedAt: number;
  finishedAt: number | null;
  exitCode: number | null;
  outcome: string | null;
  detail: string | null;
  costUsd: number | null;
  usage: Usage | null;
}

const SELECT = `SELECT t.*, CASE WHEN t.status = 'queued' THEN
  (SELECT COUNT(*) FROM executor_tasks q WHERE q.executor = t.executor AND q.status = 'queued' AND q.queue_seq <= t.queue_seq)
  END AS queue_position FROM executor_tasks t`;

export function createTaskStore(db: Db): TaskStore {
  const toRow = (raw: RawRow): TaskRow => ({
    id: raw.id,
    name: raw.name,
    executor: raw.executor,
    kind: raw.kind,
    status: raw.status,
    reason: raw.reason,
    workspace: raw.workspace,
    model: raw.model,
    maxTurns: raw.max_turns,
    sessionId: raw.session_id,
    remoteDir: raw.remote_dir,
    attempt: raw.attempt,
    retries: raw.retries,
    exitCode: raw.exit_code,
    terminalReason: raw.terminal_reason,
    result: raw.result,
    totalCostUsd: raw.total_cost_usd,
    usage: raw.usage ? (JSON.parse(raw.usage) as Usage) : null,
    actor: raw.actor,
    channel: raw.channel,
    queuePosition: raw.queue_position ?? null,
    createdAt: raw.created_at,
    startedAt: raw.started_at,
    finishedAt: raw.finished_at,
    deadlineAt: raw.deadline_at,
    session: raw.session,
    claudePath: raw.claude_path,
    runFirstAttempt: raw.run_first_attempt,
    attemptStartedAt: raw.attempt_started_at,
    resumeAt: raw.resume_at,
    resumeReason: raw.resume_reason,
    pending: raw.pending ? (JSON.parse(raw.pending) as PendingAction) : null,
    progressKey: raw.progress_key,
    queueSeq: raw.queue_seq,
    logTail: raw.log_tail,
    sessionCostUsd: raw.session_cost_usd,
    runCostBase: raw.run_cost_base,
  });

  const encode = (key: string, value: unknown): unknown => {
    if (value === undefined) return null;
    if (key === 'usage' || key === 'pending') return value === null ? null : JSON.stringify(value);
    return value;
  };

  const statusList = (s: TaskStatus | readonly TaskStatus[]) => (typeof s === 'string' ? [s] : [...s]);

  return {
    insert(task) {
      db.prepare(
        `INSERT INTO executor_tasks (id, name, executor, kind, status, workspace, model, max_turns, session_id, session,
           actor, channel, created_at) VALUES (@id, @name, @executor, @kind, @status, @workspace, @model, @maxTurns,
           @sessionId, @session, @actor, @channel, @createdAt)`,
      ).run(task);
      return this.get(task.id)!;
    },

    get(id) {
      const raw = db.prepare(`${SELECT} WHERE t.id = ?`).get(id) as RawRow | undefined;
      return raw ? toRow(raw) : null;
    },

    byName(name) {
      const raw = db.prepare(`${SELECT} WHERE t.name = ?`).get(name) as RawRow | undefined;
      return raw ? toRow(raw) : null;
    },

    list(filter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.status !== undefined) {
        const statuses = statusList(filter.status);
        where.push(`t.status IN (${statuses.map(() => '?').join(', ')})`);
        params.push(...statuses);
      }
      if (filter.executor !== undefined) {
        where.push('t.executor = ?');
        params.push(filter.executor);
      }
      const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY t.created_at, t.id`;
      return (db.prepare(sql).all(...params) as RawRow[]).map(toRow);
    },

    update(id, patch, whenStatus) {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [key, value] of Object.entries(patch)) {
        const column = COLUMNS[key];
        if (!column) throw new Error(`task store: unknown field ${key}`);
        sets.push(`${column} = ?`);
        params.push(encode(key, value));
      }
      if (sets.length === 0) return true;
      let sql = `UPDATE executor_tasks SET ${sets.join(', ')} WHERE id = ?`;
      params.push(id);
      if (whenStatus !== undefined) {
        const statuses = statusList(whenStatus);
        sql += ` AND status IN (${statuses.map(() => '?').join(', ')})`;
        params.push(...statuses);
      }
      return db.prepare(sql).run(...params).changes === 1;
    },

    delete(id) {
      db.prepare('DELETE FROM executor_tasks WHERE id = ?').run(id);
    },

    countActive(executor) {
      const statuses = ACTIVE_STATUSES;
      const row = db
        .prepare(`SELECT COUNT(*) AS n FROM executor_tasks WHERE executor = ? AND status IN (${statuses.map(() => '?').join(', ')})`)
        .get(executor, ...statuses) as { n: number };
      return row.n;
    },

    nextQueueSeq() {
      const row = db.prepare('SELECT COALESCE(MAX(queue_seq), 0) + 1 AS n FROM executor_tasks').get() as { n: number };
      return row.n;
    },

    queued(executor) {
      return (db.prepare(`${SELECT} WHERE t.executor = ? AND t.status = 'queued' ORDER BY t.queue_seq`).all(executor) as RawRow[]).map(toRow);
    },

    startAttempt(taskId, attempt, reason, startedAt) {
      db.prepare(
        `INSERT INTO executor_task_attempts (task_id, attempt, reason, started_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (task_id, attempt) DO UPDATE SET reason = excluded.reason, started_at = excluded.started_at`,
      ).run(taskId, attempt, reason, startedAt);
    },

    endAttempt(taskId, attempt, end) {
      db.prepare(
        `UPDATE executor_task_attempts SET finished_at = ?, exit_code = ?, outcome = ?, detail = ?, cost_usd = ?, usage = ?
         WHERE task_id = ? AND attempt = ? AND finished_at IS NULL`,
      ).run(end.finishedAt, end.exitCode, end.outcome, end.detail, end.costUsd, end.usage ? JSON.stringify(end.usage) : null, taskId, attempt);
    },

    attempts(taskId) {
      const rows = db.prepare('SELECT * FROM executor_task_attempts WHERE task_id = ? ORDER BY attempt').all(taskId) as Array<{
        attempt: number;
        reason: AttemptReason;
        started_at: number;
        finished_at: number | null;
        exit_code: number | null;
        outcome: string | null;
        detail: string | null;
        cost_usd: number | null;
        usage: string | null;
      }>;
      return rows.map((r) => ({
        attempt: r.attempt,
        reason: r.reason,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        exitCode: r.exit_code,
        outcome: r.outcome,
        detail: r.detail,
        costUsd: r.cost_usd,
        usage: r.usage ? (JSON.parse(r.usage) as Usage) : null,
      }));
    },

    recordCompletion(taskId, attempt, record, webhookUrl, now) {
      const result = db
        .prepare(
          `UPDATE executor_task_attempts SET record = ?, webhook_url = ?, webhook_state = ?, webhook_next_at = ?
           WHERE task_id = ? AND attempt = ? AND record IS NULL`,
        )
        .run(JSON.stringify(record), webhookUrl, webhookUrl ? 'pending' : 'none', webhookUrl ? now : null, taskId, attempt);
      return result.changes === 1;
    },

    completion(taskId, attempt) {
      const row = db
        .prepare(
          `SELECT record, webhook_state, webhook_tries FROM executor_task_attempts
           WHERE task_id = ? AND (? IS NULL OR attempt = ?) AND record IS NOT NULL ORDER BY attempt DESC LIMIT 1`,
        )
        .get(taskId, attempt ?? null, attempt ?? null) as { record: string; webhook_state: string; webhook_tries: number } | undefined;
      return row ? { record: JSON.parse(row.record) as CompletionRecord, webhookState: row.webhook_state, webhookTries: row.webhook_tries } : null;
    },

    dueDeliveries(now) {
      const rows = db
        .prepare(
          `SELECT task_id, attempt, record, webhook_url, webhook_tries FROM executor_task_attempts
           WHERE webhook_state = 'pending' AND webhook_next_at <= ? ORDER BY webhook_next_at`,
        )
        .all(now) as Array<{ task_id: string; attempt: number; record: string; webhook_url: string; webhook_tries: number }>;
      return rows.map((r) => ({ taskId: r.task_id, attempt: r.attempt, body: r.record, url: r.webhook_url, tries: r.webhook_tries }));
    },

    markDelivery(taskId, attempt, outcome) {
      if (outcome.delivered) {
        db.prepare(
          `UPDATE executor_task_attempts SET webhook_state = 'delivered', delivered_at = ?, webhook_tries = webhook_tries + 1,
           webhook_error = NULL WHERE task_id = ? AND attempt = ?`,
        ).run(outcome.at, taskId, attempt);
      } else {
        db.prepare(
          `UPDATE executor_task_attempts SET webhook_state = ?, webhook_error = ?, webhook_next_at = ?, webhook_tries = webhook_tries + 1
           WHERE task_id = ? AND attempt = ?`,
        ).run(outcome.nextAt === null ? 'failed' : 'pending', outcome.error, outcome.nextAt, taskId, attempt);
      }
    },

    transaction(fn) {
      return db.transaction(fn)();
    },
  };
}
