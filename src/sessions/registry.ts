import { createHash } from 'node:crypto';
import { SwitchboardError } from '../errors.js';
import { closest } from '../core/closest.js';
import type { Clock } from '../core/clock.js';
import type { Origin } from '../core/origin.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

export interface OpencodeTarget {
  kind: 'opencode';
  /** The configured server name, or the URL itself for an unconfigured server. */
  server: string;
  serverUrl: string;
  sessionId: string;
  directory: string;
}

export interface TaskTarget {
  kind: 'task';
  executor: string;
  taskId: string;
  directory?: string;
}

export interface NameRecord {
  name: string;
  target: OpencodeTarget | TaskTarget;
  agent?: string;
  model?: string;
  owner: string;
  origin: Origin;
  currentTask?: string;
  lastPromptId?: number;
  createdAt: number;
  updatedAt: number;
}

interface NameRow {
  name: string;
  kind: 'opencode' | 'task';
  server: string | null;
  server_url: string | null;
  session_id: string | null;
  directory: string | null;
  agent: string | null;
  model: string | null;
  executor: string | null;
  task_id: string | null;
  owner: string;
  origin: string;
  current_task: string | null;
  last_prompt_id: number | null;
  created_at: number;
  updated_at: number;
}

function fromRow(row: NameRow): NameRecord {
  const target: OpencodeTarget | TaskTarget =
    row.kind === 'opencode'
      ? {
          kind: 'opencode',
          server: row.server ?? '',
          serverUrl: row.server_url ?? '',
          sessionId: row.session_id ?? '',
          directory: row.directory ?? '',
        }
      : {
          kind: 'task',
          executor: row.executor ?? '',
          taskId: row.task_id ?? '',
          ...(row.directory ? { directory: row.directory } : {}),
        };
  return {
    name: row.name,
    target,
    ...(row.agent ? { agent: row.agent } : {}),
    ...(row.model ? { model: row.model } : {}),
    owner: row.owner,
    origin: JSON.parse(row.origin) as Origin,
    ...(row.current_task ? { currentTask: row.current_task } : {}),
    ...(row.last_prompt_id !== null ? { lastPromptId: row.last_prompt_id } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Identifies a prompt's exact text without keeping it (the stored text is scrubbed of secrets). */
export function promptDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface PromptRecord {
  id: number;
  name: string;
  actor: string;
  /** The prompt as stored: scrubbed of secrets. */
  text: string;
  /** sha256 of the prompt exactly as sent, to recognise it in the session's history. */
  digest: string;
  agent?: string;
  sentAt: number;
}

export type Registry = ReturnType<typeof createRegistry>;

/** Names → targets, in SQLite. The one place that knows the `names` and `prompts` tables. */
export function createRegistry(db: Db, clock: Clock, scrub: (text: string) => string = (text) => text) {
  const selectOne = db.prepare<[string], NameRow>('SELECT * FROM names WHERE name = ?');
  const selectAll = db.prepare<[], NameRow>('SELECT * FROM names ORDER BY name');
  const selectNames = db.prepare<[], { name: string }>('SELECT name FROM names');
  const insertName = db.prepare(`
    INSERT INTO names (name, kind, server, server_url, session_id, directory, agent, model, executor, task_id,
                       owner, origin, current_task, created_at, updated_at)
    VALUES (@name, @kind, @server, @server_url, @session_id, @directory, @agent, @model, @executor, @task_id,
            @owner, @origin, @current_task, @now, @now)`);
  const deleteName = db.prepare('DELETE FROM names WHERE name = ?');
  const insertPrompt = db.prepare(
    'INSERT INTO prompts (name, actor, text, digest, agent, sent_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const selectPrompt = db.prepare<[number], { id: number; name: string; actor: string; text: string; digest: string; agent: string | null; sent_at: number }>(
    'SELECT * FROM prompts WHERE id = ?',
  );

  const updates = new Map<string, Statement>();

  function get(name: string): NameRecord | undefined {
    const row = selectOne.get(name);
    return row ? fromRow(row) : undefined;
  }

  return {
    get,
    /** The record, or an `unknown_name` error that suggests the closest known name. */
    require(name: string): NameRecord {
      const found = get(name);
      if (found) return found;
      const suggestion = closest(name, selectNames.all().map((r) => r.name));
      const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
      throw new SwitchboardError(
        'unknown_name',
        `no name \`${shown}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}`,
        { hint: 'type `sessions` to see every name' },
      );
    },
    list(): NameRecord[] {
      return selectAll.all().map(fromRow);
    },
    isTaken(name: string): boolean {
      return selectOne.get(name) !== undefined;
    },
    insert(record: Omit<NameRecord, 'createdAt' | 'updatedAt'>): NameRecord {
      const t = record.target;
      try {
        insertName.run({
          name: record.name,
          kind: t.kind,
          server: t.kind === 'opencode' ? t.server : null,
          server_url: t.kind === 'opencode' ? t.serverUrl : null,
          session_id: t.kind === 'opencode' ? t.sessionId : null,
          directory: t.directory ?? null,
          agent: record.agent ?? null,
          model: record.model ?? null,
          executor: t.kind === 'task' ? t.executor : null,
          task_id: t.kind === 'task' ? t.taskId : null,
          owner: record.owner,
          origin: JSON.stringify(record.origin),
          current_task: record.currentTask ?? null,
          now: clock.now(),
        });
      } catch (error) {
        if (error instanceof Error && /UNIQUE|PRIMARY KEY/.test(error.message)) {
          throw new SwitchboardError('name_taken', `the name \`${record.name}\` is already taken`, {
            cause: error,
            hint: 'pick another name, or `forget` the old one first',
          });
        }
        throw error;
      }
      return get(record.name)!;
    },
    update(
      name: string,
      patch: Partial<{ agent: string; model: string; currentTask: string; lastPromptId: number; origin: Origin; taskId: string }>,
    ): void {
      const columns: string[] = [];
      const values: unknown[] = [];
      const set = (column: string, value: unknown) => {
        columns.push(`${column} = ?`);
        values.push(value);
      };
      if (patch.agent !== undefined) set('agent', patch.agent);
      if (patch.model !== undefined) set('model', patch.model);
      if (patch.currentTask !== undefined) set('current_task', patch.currentTask);
      if (patch.lastPromptId !== undefined) set('last_prompt_id', patch.lastPromptId);
      if (patch.origin !== undefined) set('origin', JSON.stringify(patch.origin));
      if (patch.taskId !== undefined) set('task_id', patch.taskId);
      set('updated_at', clock.now());
      const sql = `UPDATE names SET ${columns.join(', ')} WHERE name = ?`;
      let statement = updates.get(sql);
      if (!statement) updates.set(sql, (statement = db.prepare(sql)));
      statement.run(...values, name);
    },
    remove(name: string): boolean {
      return deleteName.run(name).changes > 0;
    },
    /**
     * Stores a prompt once (audit rows and watches refer to it by id): its text scrubbed of secrets, and the
     * digest of the exact text.
     */
    recordPrompt(prompt: { name: string; actor: string; text: string; agent?: string }): number {
      const result = insertPrompt.run(prompt.name, prompt.actor, scrub(prompt.text), promptDigest(prompt.text), prompt.agent ?? null, clock.now());
      return Number(result.lastInsertRowid);
    },
    prompt(id: number): PromptRecord | undefined {
      const row = selectPrompt.get(id);
      if (!row) return undefined;
      return {
        id: row.id,
        name: row.name,
        actor: row.actor,
        text: row.text,
        digest: row.digest,
        ...(row.agent ? { agent: row.agent } : {}),
        sentAt: row.sent_at,
      };
    },
  };
}
