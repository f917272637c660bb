import { SwitchboardError } from '../errors.js';

/** The branch a worktree gets when none is named: `sb/<name>`. */
export function generatedBranch(name: string): string {
  return `sb/${name}`;
}

/**
 * Why `branch` is not a branch name git would accept, or null when it is: git check-ref-format's rules for
 * `refs/heads/<branch>`, plus no leading `-` (it would read as an option) and at most 200 characters. The same
 * check runs again on the host (`git check-ref-format --branch`); this one answers before anything is reached.
 */
export function branchProblem(branch: string): string | null {
  if (branch === '') return 'it is empty';
  if (branch.length > 200) return 'it is longer than 200 characters';
  if (branch.startsWith('-')) return 'it starts with `-`';
  if (branch === 'HEAD' || branch === '@') return `\`${branch}\` is reserved`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(branch)) return 'it holds a space, a control character or one of ~ ^ : ? * [ \\';
  if (branch.includes('..')) return 'it holds `..`';
  if (branch.includes('@{')) return 'it holds `@{`';
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//')) return 'it starts or ends with `/`, or holds `//`';
  if (branch.endsWith('.')) return 'it ends with `.`';
  for (const part of branch.split('/')) {
    if (part.startsWith('.')) return 'a part of it starts with `.`';
    if (part.endsWith('.lock')) return 'a part of it ends with `.lock`';
  }
  return null;
}

/** The branch, or a usage error that says what is wrong with it. */
export function checkBranch(branch: string): string {
  const problem = branchProblem(branch);
  if (problem === null) return branch;
  throw new SwitchboardError('usage', `\`${branch.slice(0, 80)}\` is not a branch name git accepts: ${problem}`, {
    hint: 'Use letters, digits and - _ . / (e.g. `--worktree=fix/login`), or `--worktree` alone for sb/<name>.',
  });
}
