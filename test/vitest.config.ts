import { defineConfig } from 'vitest/config';
import { SlowFirst } from './sequencer.js';

// Lives in test/ so the top level stays as DESIGN.md draws it. End-to-end files start real binaries
// (opencode, claude, sshd, tmux), so the timeouts are generous; each test still waits on queues, never sleeps.
export default defineConfig({
  root: new URL('..', import.meta.url).pathname,
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 3,
    sequence: { sequencer: SlowFirst },
    reporters: ['default'],
  },
});
