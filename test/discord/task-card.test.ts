import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { localClaudeExecutorYaml } from '../helpers/claude-env.js';
import { killTmuxServer } from '../helpers/tmux.js';
import { ALICE, WORK, startHarness, type Harness } from './harness.js';

/**
 * A Claude Code task's run card in Discord, end to end and inside the name's thread: the real `claude` CLI in
 * tmux on a local executor against the scripted Messages API, the real discord.js client against the twin. The
 * card shows the last tool call and the tokens as the run goes, then its final state in the same message; the
 * final output is one new message with tokens and cost.
 */
let api: FakeAnthropic;
let root: string;
let h: Harness;
const socket = `sb-discord-card-${process.pid}`;

beforeAll(async () => {
  api = await startFakeAnthropic();
  root = mkdtempSync(join(tmpdir(), 'sb-discord-card-'));
  mkdirSync(join(root, 'work'));
  h = await startHarness({
    env: { DISCORD_THREADS: 'true', HOME: process.env.HOME ?? root },
    yaml: localClaudeExecutorYaml({ baseUrl: api.baseUrl, root, socket }),
  });
}, 120_000);

afterAll(async () => {
  await h?.stop();
  killTmuxServer(socket);
  await api?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('a Claude task’s card in Discord', { timeout: 150_000 }, () => {
  it('lives in the name’s thread: the tool and tokens while it runs, its final state in the same message, one final output with cost', async () => {
    const said = await h.say(ALICE, `!sb start local --name bake --workspace ${join(root, 'work')} HANG:4 bake the bread`);
    const echo = await said.waitForBotReply({ text: /task \*\*bake\*\* started/ });
    expect(echo.channelId).toBe(WORK);
    const bake = await h.discord.channel(WORK).waitForThread({ name: 'bake', timeoutMs: 30_000 });
    const bot = h.discord.botUserId;
    const live = await h.discord.waitForMessage({ channel: bake.id, author: bot, text: /⚙️ \*\*bake\*\* · working[^]*🔧 Bash: python3 -c[^]*tokens \d+ in/, timeoutMs: 90_000 });
    const liveContent = live.content;

    const final = await h.discord.waitForMessage({ channel: bake.id, author: bot, text: /📋 \*\*bake\*\* finished · ✅/, timeoutMs: 90_000 });
    expect(final.content).toMatch(/📋 \*\*bake\*\* finished · ✅ · \d+s · \d+ tokens · \$\d+\.\d+/);
    expect(final.content).toContain('Done: HANG:4 bake the bread');
    const done = await h.discord.waitForMessage({ channel: bake.id, author: bot, text: /⚙️ \*\*bake\*\* · finished ✅/, timeoutMs: 30_000 });
    expect(done.id).toBe(live.id);
    expect(done.content).not.toBe(liveContent);
    expect(done.content).toMatch(/tokens \d+ in · \d+ out · \$\d+\.\d+/);
    expect(done.content).not.toContain('🔧');
    // One card and one final output for the run, both in the thread; nothing of the run in the channel after the echo.
    expect(h.discord.messages({ channel: bake.id, author: bot, text: /⚙️ \*\*bake\*\* ·/ })).toHaveLength(1);
    expect(h.discord.messages({ channel: bake.id, author: bot, text: /📋 \*\*bake\*\*/ })).toHaveLength(1);
    expect(h.discord.messages({ channel: WORK, author: bot, afterId: echo.id })).toEqual([]);
  });
});
