import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLine, slashLayout } from '../../adapters/discord/slash-commands.js';
import { allCommands } from '../../src/commands/index.js';
import { parseCommandLine } from '../../src/commands/grammar.js';
import { openDatabase } from '../../src/sessions/database.js';
import { branchProblem, checkBranch, createWorktreeStore, generatedBranch, siteOf, worktreeMigrations } from '../../src/worktrees/index.js';
import type { ExecutorConfig } from '../../src/executors/index.js';

/** What git itself says of a branch name (the rule the host checks again). */
function gitAccepts(branch: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--branch', branch], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('branch names', () => {
  const good = ['main', 'fix/login', 'sb/kumo', 'feat-1.2', 'a_b', 'release/2026.12', 'ünïcode', '$(id)', '`uname`'];
  const bad = ['', '-x', 'a..b', 'a b', 'a~b', 'a^b', 'a:b', 'a?b', 'a*b', 'a[b', 'a\\b', '/a', 'a/', 'a//b', 'a.', '.a', 'a/.b', 'a.lock', 'a/b.lock/c', 'a@{1}', '@', 'HEAD', 'a\nb', 'a\tb', "x'; rm -rf /", 'x'.repeat(201)];

  // `$(id)` is a branch git accepts: it reaches the host as an argument, never through a shell line.
  it('accepts what git accepts and refuses the rest, each with a reason', () => {
    for (const branch of good) {
      expect(branchProblem(branch), branch).toBeNull();
      expect(gitAccepts(branch), branch).toBe(true);
    }
    for (const branch of bad) {
      expect(branchProblem(branch), JSON.stringify(branch)).not.toBeNull();
    }
    // Where git has an opinion, ours is never looser.
    for (const branch of bad.filter((b) => b !== '' && !b.startsWith('-') && b !== 'HEAD' && b !== '@' && b.length <= 200)) expect(gitAccepts(branch), JSON.stringify(branch)).toBe(false);
  });

  it('a refusal says what is wrong and how to write it', () => {
    expect(() => checkBranch('a..b')).toThrow('`a..b` is not a branch name git accepts: it holds `..`');
    expect(generatedBranch('kumo')).toBe('sb/kumo');
  });
});

describe('where git runs for a container executor', () => {
  const box: ExecutorConfig = {
    type: 'container',
    name: 'box',
    runtime: 'podman',
    image: 'img',
    labels: [],
    maxConcurrent: 1,
    env: {},
    volumes: ['/usr:/usr:ro', '/srv/repos:/work'],
  } as unknown as ExecutorConfig;

  it('maps a workspace under a volume to its source, and the worktree back', () => {
    const site = siteOf(box, '/work/app');
    expect(site.hostWorkspace).toBe('/srv/repos/app');
    expect(site.toExecutor('/srv/repos/app/.git/sb-worktrees/kumo')).toBe('/work/app/.git/sb-worktrees/kumo');
  });

  it('refuses a workspace that is in the image, or relative with no workspace:', () => {
    expect(() => siteOf(box, '/opt/app')).toThrow('is not on any of its volumes');
    expect(() => siteOf(box, 'app')).toThrow(/relative|needs an absolute workspace/);
  });
});

describe('what Switchboard made is remembered', () => {
  it('a worktree recorded before a restart is listed and removable after it; a removed one frees the name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-wt-store-'));
    try {
      const file = join(dir, 'switchboard.db');
      const clock = { now: () => 1_000 };
      const first = openDatabase(file, worktreeMigrations);
      createWorktreeStore(first, clock).insert({ name: 'kumo', executor: 'crib', kind: 'task', repo: '/r', path: '/r/.git/sb-worktrees/kumo', workdir: '/r/.git/sb-worktrees/kumo', branch: 'sb/kumo', createdBranch: true });
      first.close();
      const again = openDatabase(file, worktreeMigrations);
      const store = createWorktreeStore(again, clock);
      expect(store.list()).toMatchObject([{ name: 'kumo', executor: 'crib', branch: 'sb/kumo', createdBranch: true, createdAt: 1_000 }]);
      // One live worktree per name.
      expect(() => store.insert({ ...store.live('kumo')!, branch: 'other' })).toThrow(/UNIQUE/);
      store.removed(store.live('kumo')!.id);
      expect(store.live('kumo')).toBeNull();
      store.insert({ name: 'kumo', executor: 'crib', kind: 'session', repo: '/r', path: '/p', workdir: '/p', branch: 'b', createdBranch: false });
      expect(store.list().map((w) => w.kind)).toEqual(['session']);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Discord slash command writes the branch the way the grammar reads it', () => {
  const layout = slashLayout(allCommands).verbs.get('run')!;
  const line = (worktree: string | boolean | undefined) =>
    commandLine(layout, (option) => ({ executor: 'crib', worktree, command: 'make test' })[option as 'executor' | 'worktree' | 'command']);

  it('`-` or nothing is the option alone; a branch is attached with =', () => {
    expect(line('fix/login')).toBe('run crib --worktree=fix/login -- make test');
    expect(line('-')).toBe('run crib --worktree -- make test');
    expect(line(undefined)).toBe('run crib -- make test');
    expect(parseCommandLine(line('fix/login'), allCommands).options).toEqual({ worktree: 'fix/login' });
    expect(parseCommandLine(line('-'), allCommands).options).toEqual({ worktree: true });
  });
});
