import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { killTmuxServer } from '../helpers/tmux.js';

/**
 * A run's live card on the console through the real bot process on a pipe: a shell task on the local executor
 * (real tmux) draws its card as it goes; the pipe gets a line when the card's state changes, never one per tick
 * of its clock, and the final output comes once, as its own message.
 */
let root: string;
let bot: ConsoleBot;
const socket = `sb-cards-${process.pid}`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sb-console-cards-'));
  writeFileSync(
    join(root, 'switchboard.yaml'),
    `cards:
  minEditInterval: 2s
executors:
  - name: local
    type: local
    tmuxSocket: ${socket}
    tasksDir: ${join(root, 'tasks')}
`,
  );
  bot = await startConsoleBot({ cwd: root });
}, 120_000);

afterAll(async () => {
  await bot?.end().catch(() => undefined);
  killTmuxServer(socket);
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('console: a run\'s live card on a pipe', () => {
  it('prints the card, a line per change of state, and the final output once', async () => {
    await bot.exec(`run local --name ticker -- sh -c 'for i in 1 2 3 4 5 6; do echo "step $i"; sleep 1; done'`, /ticker/);
    await bot.waitFor(/\*\*ticker\*\* · finished/, 60_000);
    const lines = bot.stdout().split('\n');
    const cardLines = lines.filter((line) => /^⚙️ \*\*ticker\*\* · /.test(line));
    const states = cardLines.map((line) => line.replace(/\b\d+(?:h|m|s)\b/g, '').trim());
    // Six seconds of work, a clock in every state: each printed line is a new state, never the same one later.
    expect(states.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < states.length; i++) expect(states[i]).not.toBe(states[i - 1]);
    expect(states.at(-1)).toMatch(/finished ✅/);
    expect(lines.filter((line) => /^📋 \*\*ticker\*\* finished/.test(line))).toHaveLength(1);
    expect(lines.filter((line) => line === 'step 6')).toHaveLength(1);
  });
});
