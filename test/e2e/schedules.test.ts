import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { localClaudeExecutorYaml } from '../helpers/claude-env.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { killTmuxServer } from '../helpers/tmux.js';

/**
 * Schedules end to end: the real bot process (console adapter), the real `opencode` with the scripted LLM and
 * the real `claude` with the scripted Messages API. Seconds-level crons (`schedules.minInterval` lowered to 2s)
 * keep it quick; every wait is for something the terminal shows.
 */
let api: FakeAnthropic;
let root: string;
let bot: ConsoleBot;
const socket = `sb-sched-${process.pid}`;

function count(haystack: string, pattern: RegExp): number {
  return haystack.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))?.length ?? 0;
}

/** Prompts the LLM was asked to answer (title requests aside) whose text has `marker`. */
function asked(marker: string): number {
  return world.llm.requests.filter((r) => r.tools && r.tools.length > 0 && !r.afterToolResult && r.lastUserText.includes(marker)).length;
}

/** switchboard.yaml: the server, a local Claude executor, 2s minimum; `member: false` drops the console's role. */
function writeConfig(member = true): void {
  writeFileSync(
    join(root, 'switchboard.yaml'),
    [
      'servers:',
      '  - name: lab',
      `    url: ${world.server.url}`,
      'schedules:',
      '  minInterval: 2s',
      'access:',
      '  consoleIsAdmin: false',
      `  members: [${member ? 'console:tester' : ''}]`,
      '  viewers: [console:tester]',
      ...localClaudeExecutorYaml({ baseUrl: api.baseUrl, root, socket }),
    ].join('\n'),
  );
}

async function restart(member = true): Promise<void> {
  await bot.end();
  writeConfig(member);
  bot = await startConsoleBot({ cwd: root });
}

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
    root = mkdtempSync(join(tmpdir(), 'sb-schedules-'));
    mkdirSync(join(root, 'work'));
    writeConfig();
    bot = await startConsoleBot({ cwd: root });
    await bot.exec('new kumo lab --agent build', /Send it work/);
  },
  { hookTimeoutMs: 120_000 },
);

describe('schedules, end to end', { timeout: 180_000 }, () => {
  it('a seconds-level cron fires twice into the channel, each with its card and final; unschedule stops it', async () => {
    const made = await bot.exec('schedule "*/2 * * * * *" send kumo TODO scheduled triage', /unschedule 1` removes it/);
    expect(made).toMatch(/⏰ schedule \*\*#1\*\* · cron `\*\/2 \* \* \* \* \*` \S+ · next .* · runs as tester in this channel:\nsend kumo TODO scheduled triage/);
    // Each fire is the owner's `send`: echo, card, one final.
    await bot.waitFor(/📋 \*\*kumo\*\* finished[^\n]*\n[^\n]*Done: TODO scheduled triage/, 60_000);
    await bot.waitFor(/📋 \*\*kumo\*\* finished[^\n]*\n[^\n]*Done: TODO scheduled triage/, 60_000);
    // (The card's last edit may come after the final: edits are coalesced.)
    await bot.waitFor(/⚙️ \*\*kumo\*\* · finished ✅/, 30_000);
    await bot.exec('unschedule 1', /🗑 schedule \*\*#1\*\* removed/);
    const out = bot.stdout();
    expect(count(out, /📨 \*\*kumo\*\* ← tester/)).toBeGreaterThanOrEqual(2);
    // A card per run (a pipe prints a card's state line as it changes; edits close together may merge).
    expect(count(out, /⚙️ \*\*kumo\*\* · working/)).toBeGreaterThanOrEqual(2);
    expect(count(out, /⚙️ \*\*kumo\*\* · finished ✅/)).toBeGreaterThanOrEqual(1);
    // The list and the audit log say who ran what: the schedule, as its owner.
    const audit = await bot.exec('audit kumo', /send kumo: “TODO scheduled triage”/);
    expect(audit).toContain('console:tester (⏰ schedule #1)');
    // Nothing fires after unschedule. A fire already under way when it was removed goes on (its echo may come
    // just after the removal's answer): at most one more echo, then none; every prompt has its one final.
    const echo = /📨 \*\*kumo\*\* ← tester[^\n]*\nTODO scheduled triage/;
    const before = count(out.slice(0, out.indexOf('🗑 schedule **#1** removed')), echo);
    await bot.exec('schedules', /No schedules\./);
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const settled = count(bot.stdout(), echo);
    expect(settled - before).toBeLessThanOrEqual(1);
    for (let i = 0; count(bot.stdout(), /Done: TODO scheduled triage/) < settled; i++) {
      if (i > 300) throw new Error(`${settled} scheduled prompts, not all with a final in 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(asked('scheduled triage')).toBe(settled);
    expect(count(bot.stdout(), /Done: TODO scheduled triage/)).toBe(settled);
    expect(count(bot.stdout(), echo)).toBe(settled);
  });

  it('no overlap: while a run is busy the fire is skipped, said once, and nothing reaches the agent', async () => {
    await bot.exec('send kumo HOLD:sched-busy a long run', /^HOLD:sched-busy a long run$/m);
    await world.llm.waitForRequest('HOLD:sched-busy', 60_000);
    try {
      await bot.exec('schedule "*/2 * * * * *" send kumo overlap probe', /unschedule 2` removes it/);
      await bot.waitFor(/⏭ schedule #2 skipped a run: \*\*kumo\*\* is still busy with the previous one/, 30_000);
      // A few more slots pass while the run is held: still skipped, and said only once.
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      expect(count(bot.stdout(), /⏭ schedule #2 skipped a run/)).toBe(1);
      expect(asked('overlap probe')).toBe(0);
      await bot.exec('unschedule 2', /🗑 schedule \*\*#2\*\* removed/);
      expect((await bot.exec('schedules', /\S/)).includes('#2')).toBe(false);
    } finally {
      world.llm.release('sched-busy');
    }
    await bot.waitFor(/📋 \*\*kumo\*\* finished[^\n]*\n[^\n]*Done: HOLD:sched-busy/, 60_000);
    expect(asked('overlap probe')).toBe(0);
  });

  it('a named Claude task fires again under its name once the last run is over', async () => {
    await bot.exec(`schedule "*/2 * * * * *" start local --name nightly --workspace "${join(root, 'work')}" summarise the day`, /unschedule 3` removes it/);
    await bot.waitFor(/📋 \*\*nightly\*\* finished[^\n]*\n[^\n]*Done: summarise the day/, 90_000);
    await bot.waitFor(/📋 \*\*nightly\*\* finished[^\n]*\n[^\n]*Done: summarise the day/, 90_000);
    await bot.exec('unschedule 3', /🗑 schedule \*\*#3\*\* removed/);
    expect(count(bot.stdout(), /🤖 task \*\*nightly\*\* started on local/)).toBeGreaterThanOrEqual(2);
    expect(bot.stdout()).not.toMatch(/schedule #3 could not run/);
  });

  it('fires missed while the bot was down: one catch-up run at start', async () => {
    await bot.exec('schedule 2s send kumo HOLD:sched-catch catch up', /unschedule 4` removes it/);
    // Down for several periods.
    await bot.end();
    await new Promise((resolve) => setTimeout(resolve, 4_200));
    writeConfig();
    bot = await startConsoleBot({ cwd: root });
    try {
      await bot.waitFor(/⏰ schedule #4: that was the run due .*, missed while Switchboard was down \(one catch-up run\)/, 30_000);
      await world.llm.waitForRequest('HOLD:sched-catch', 60_000);
      // The run is held: the next slots find kumo busy and skip.
      await bot.waitFor(/⏭ schedule #4 skipped a run/, 30_000);
      expect(asked('HOLD:sched-catch')).toBe(1);
      expect(count(bot.stdout(), /⏰ schedule #4: that was the run due/)).toBe(1);
      await bot.exec('unschedule 4', /🗑 schedule \*\*#4\*\* removed/);
    } finally {
      world.llm.release('sched-catch');
    }
    await bot.waitFor(/📋 \*\*kumo\*\* finished[^\n]*\n[^\n]*Done: HOLD:sched-catch/, 60_000);
  });

  it('an owner who lost the role: the schedule pauses and says so once', async () => {
    await bot.exec('schedule 2s send kumo after the demotion', /unschedule 5` removes it/);
    await restart(false);
    await bot.waitFor(/⏸ schedule #5 is paused: console:tester may not use `send`: it needs the member role\. an admin can add `console:tester` under `access\.members`/, 30_000);
    const listed = await bot.exec('schedules', /#5\*\* · every 2s · ⏸ paused/);
    expect(listed).toContain('`send kumo after the demotion` · tester');
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(count(bot.stdout(), /⏸ schedule #5 is paused/)).toBe(1);
    expect(asked('after the demotion')).toBe(0);
  });
});
