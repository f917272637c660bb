import type { Clock } from '../core/clock.js';
import type { Db, Migration } from '../sessions/database.js';

export const worktreeMigrations: Migration[] = [
  {
    id: 'worktrees-1',
    up(db) {
      db.exec(`
        -- The git worktrees Switchboard made, so cleanup and \`tasks --worktrees\` survive a restart.
        CREATE TABLE worktrees (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          name        TEXT NOT NULL,
          executor    TEXT NOT NULL,
          kind        TEXT NOT NULL CHECK (kind IN ('task', 'session')),
          -- On the host that runs git (this machine for a container executor).
          repo        TEXT NOT NULL,
          path        TEXT NOT NULL,
          -- Where the work runs, as the executor sees it (inside a container: its mounted path).
          workdir     TEXT NOT NULL,
          branch      TEXT NOT NULL,
          created_branch INTEGER NOT NULL,
          created_at  INTEGER NOT NULL,
          removed_at  INTEGER
        );
        -- One live worktree per name.
        CREATE UNIQUE INDEX worktrees_live_name ON worktrees(name) WHERE removed_at IS NULL;
      `);
    },
  },
];

export interface WorktreeRow {
  id: number;
  name: string;
  executor: string;
  kind: 'task' | 'session';
  repo: string;
  path: string;
  workdir: string;
  branch: string;
  createdBranch: boolean;
  createdAt: number;
}

interface RawRow {
  id: number;
  name: string;
  executor: string;
  kind: 'task' | 'session';
  repo: string;
  path: string;
  workdir: string;
  branch: string;
  created_branch: number;
  created_at: number;
}

function fromRaw(raw: RawRow): WorktreeRow {
  return {
    id: raw.id,
    name: raw.name,
    executor: raw.executor,
    kind: raw.kind,
    repo: raw.repo,
    path: raw.path,
    workdir: raw.workdir,
    branch: raw.branch,
    createdBranch: raw.created_branch === 1,
    createdAt: raw.created_at,
  };
}

export type WorktreeStore = ReturnType<typeof createWorktreeStore>;

export function createWorktreeStore(db: Db, clock: Clock) {
  return {
    insert(row: Omit<WorktreeRow, 'id' | 'createdAt'>): WorktreeRow {
      const createdAt = clock.now();
      const result = db
        .prepare(
          `INSERT INTO worktrees (name, executor, kind, repo, path, workdir, branch, created_branch, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(row.name, row.executor, row.kind, row.repo, row.path, row.workdir, row.branch, row.createdBranch ? 1 : 0, createdAt);
      return { ...row, id: Number(result.lastInsertRowid), createdAt };
    },
    /** The live worktree of a name. */
    live(name: string): WorktreeRow | null {
      const raw = db.prepare('SELECT * FROM worktrees WHERE name = ? AND removed_at IS NULL').get(name) as RawRow | undefined;
      return raw ? fromRaw(raw) : null;
    },
    list(): WorktreeRow[] {
      return (db.prepare('SELECT * FROM worktrees WHERE removed_at IS NULL ORDER BY id').all() as RawRow[]).map(fromRaw);
    },
    removed(id: number): void {
      db.prepare('UPDATE worktrees SET removed_at = ? WHERE id = ?').run(clock.now(), id);
    },
  };
}
