import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { branchProblem, checkBranch, generatedBranch, siteOf } from '../../src/worktrees/index.js';
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
