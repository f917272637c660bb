import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { localClaudeExecutorYaml } from '../helpers/claude-env.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { killTmuxServer } from '../helpers/tmux.js';

/**
 * Budgets end to end: the real bot process (console adapter), the real `opencode` with the scripted LLM (which
 * prices its tokens, so runs report tokens and cost) and the real `claude` with the scripted Messages API. One
 * server and one bot for the file; every assertion is on what the terminal shows.
 */
let api: FakeAnthropic;
let root: string;
let bot: ConsoleBot;
const socket = `sb-budget-${process.pid}`;

const world = useOpencodeWorld(
  async (_world, keep) => {
    api = await startFakeAnthropic();
    // Stopped before the server: the bot, its executor's tmux server, the Messages API, the files.
    keep({
      async stop() {
        await bot?.end().catch(() => undefined);
        killTmuxServer(socket);
        await api.close();
        if (root) rmSync(root, { recursive: true, force: true });
      },
    });
    root = mkdtempSync(join(tmpdir(), 'sb-budgets-'));
    mkdirSync(join(root, 'work'));
    writeFileSync(
      join(root, 'switchboard.yaml'),
      [
        'servers:',
        '  - name: lab',
        `    url: ${world.server.url}`,
        ...localClaudeExecutorYaml({ baseUrl: api.baseUrl, root, socket }),
        // The executor's default: each task run there may cost at most 0.0001 USD (claude also gets --max-budget-usd).
        '    budget:',
        '      cost: 0.0001',
      ].join('\n'),
    );
    bot = await startConsoleBot({ cwd: root });
    await bot.exec('new tick lab --agent build', /Send it work/);
    await bot.exec('new toke lab --agent build', /Send it work/);
  },
  { hookTimeoutMs: 120_000 },
);

describe('budgets, end to end', { timeout: 60_000 }, () => {
  it('a time budget stops a slow OpenCode run that reports nothing, with the limit and the use', async () => {
    expect(await bot.exec('budget tick --time 3s', /budget of \*\*tick\*\* set.*/)).toContain('💰 budget of **tick** set: 3s for each run, the current one included');
    // Each LLM request is answered 30 s late: the agent reports nothing until the beat stops it. (Under load the
    // first look can come after the limit and its abort before the turn has begun; the stop is sent again 5 s on.)
    await bot.exec('send tick SLOW WAIT:30000 a slow run', /^SLOW WAIT:30000 a slow run$/m);
    const final = await bot.waitFor(/^❌ tick stopped: budget 3s reached \(.*\)\n📋 \*\*tick\*\* failed.*/m, 30_000);
    expect(final).toMatch(/^❌ tick stopped: budget 3s reached \((\d+\.\d+ USD, )?\d+ tokens, \d+s\)$/m);
    // The card ends failed (on a pipe the console prints a card's head line per state).
    await bot.waitFor(/⚙️ \*\*tick\*\* · failed ❌/, 15_000);
    expect(bot.stdout().match(/^❌ tick stopped: budget/gm)).toHaveLength(1);
    expect(await bot.exec('budget tick', /no run under way now|current run.*/)).toContain('💰 budget of **tick**: 3s for each run (set for tick)');
  });

  it('a token budget stops an OpenCode run whose reported usage passes it', async () => {
    await bot.exec('budget toke --tokens 10', /budget of \*\*toke\*\* set: 10 tokens/);
    // A first step (a todo list, 15 tokens by the fake's usage) and then a wait that never ends by itself.
    await bot.exec('send toke TODOTWICE:budget-tokens count the tokens', /^TODOTWICE:budget-tokens count the tokens$/m);
    try {
      const final = await bot.waitFor(/^❌ toke stopped: budget 10 tokens reached \(.*\)\n📋 \*\*toke\*\* failed.*/m, 30_000);
      expect(final).toMatch(/^❌ toke stopped: budget 10 tokens reached \(\d+\.\d+ USD, \d+ tokens, \d+s\)$/m);
      await bot.waitFor(/⚙️ \*\*toke\*\* · failed ❌/, 15_000);
      // The run was stopped while held: the second step never got its answer out.
      expect(bot.stdout()).not.toMatch(/Done: TODOTWICE:budget-tokens/);
    } finally {
      world.llm.release('budget-tokens');
    }
    // `off` lifts every limit: the next run goes to its end.
    expect(await bot.exec('budget toke off', /is off.*/)).toContain('no limits at all');
    await bot.exec('send toke an unlimited run', /^an unlimited run$/m);
    await bot.waitFor(/📋 \*\*toke\*\* finished[^\n]*\n[^\n]*Done: an unlimited run/, 30_000);
  });

  it('a cost budget on a Claude task: claude stops at --max-budget-usd and the final says which limit', async () => {
    await bot.exec(`start local --name spend --workspace "${join(root, 'work')}" BASH: echo spent`, /🤖 task \*\*spend\*\* started/);
    const final = await bot.waitFor(/^❌ spend stopped: budget 0\.0001 USD reached \(.*\)\n📋 \*\*spend\*\* failed.*/m, 45_000);
    expect(final).toMatch(/^❌ spend stopped: budget 0\.0001 USD reached \(0\.\d+ USD, \d+ tokens, \d+s\)$/m);
    await bot.waitFor(/⚙️ \*\*spend\*\* · failed ❌/, 15_000);
    // The card was posted whole first, with the limit on its budget line (claude reports cost only at the end).
    expect(bot.stdout()).toMatch(/⚙️ \*\*spend\*\* · [^\n]*\n(?:[^\n]*\n)*?budget \$\? \/ \$0\.0001/);
    // Claude stopped itself after the first answer: the Bash result never went back to the API.
    const asked = api.requests.filter((r) => r.userTexts.some((t) => t.includes('echo spent')));
    expect(asked.map((r) => r.step)).toEqual([0]);
    expect(await bot.exec('budget spend', /budget of \*\*spend\*\*.*/)).toContain('0.0001 USD for each run (the defaults of its executor local)');
  });

  it('a time budget kills a Claude task with its process tree, and its final says so', async () => {
    await bot.exec('budget spend --cost 100 --time 2s', /budget of \*\*spend\*\* set: 100\.00 USD · 2s/);
    // A follow-up whose Bash call sleeps 30 s: only the kill ends it early.
    await bot.exec('send spend HANG:30', /^HANG:30$/m);
    const final = await bot.waitFor(/^❌ spend stopped: budget 2s reached \(.*\)\n📋 \*\*spend\*\* failed.*/m, 30_000);
    expect(final).toMatch(/^❌ spend stopped: budget 2s reached \((?:\d+\.\d+ USD, )?\d+ tokens, \d+s\)$/m);
    expect(await bot.exec('tasks', /spend .*/)).toMatch(/spend +· claude on local · killed/);
    // Nothing it started is left: pgrep finds no sleeper (status 1).
    expect(spawnSync('pgrep', ['-f', 'time.sleep\\(30\\)']).status).toBe(1);
  });
});
