import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Long files first. Without a cache of earlier runs (a fresh clone, as CI has) vitest orders files by size, and
 * the matrix files are small but run for minutes, so they started last and the suite waited on them alone.
 * Coarse weights from measured runs; within a weight the default order stays.
 */
const WEIGHTS: ReadonlyArray<[RegExp, number]> = [
  [/\/test\/matrix\//, 0],
  [/\/test\/e2e\/(secrets-end-to-end|monitor|console-opencode|deploy|cli|console-questions|schedules|budgets)\.test\.ts$/, 1],
  [/\/test\/(executors\/ssh|opencode-host\/[^/]+|offload\/[^/]+)\.e2e\.test\.ts$/, 1],
  [/\/test\/(e2e|executors|offload|opencode-host|slack|discord|worktrees|web)\//, 2],
];

function weightOf(path: string): number {
  return WEIGHTS.find(([pattern]) => pattern.test(path))?.[1] ?? 3;
}

export class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted
      .map((spec, index) => ({ spec, index, weight: weightOf(spec.moduleId) }))
      .sort((a, b) => a.weight - b.weight || a.index - b.index)
      .map(({ spec }) => spec);
  }
}
