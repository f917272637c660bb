export { branchProblem, checkBranch, generatedBranch } from './branch.js';
export { createWorktreeStore, worktreeMigrations, type WorktreeRow, type WorktreeStore } from './store.js';
export { createWorktrees, siteOf, type HostOf, type WorktreeListing, type Worktrees, type WorktreeSpec, type WorktreeState } from './worktrees.js';
