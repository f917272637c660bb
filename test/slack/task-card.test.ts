import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { localClaudeExecutorYaml } from '../helpers/claude-env.js';
import { killTmuxServer } from '../helpers/tmux.js';
import type { SlackMessage } from '../twins/slack/index.js';
import { ALICE, WORK, startHarness, type Harness } from './harness.js';

/**
 * A Claude Code task's run card in Slack, end to end: the real `claude` CLI in tmux on a local executor against
 * the scripted Messages API. Its stream-json gives the card its last tool call and tokens as the run goes, and
 * its `result` the final tokens and cost.
 */
let api: FakeAnthropic;
let root: string;
let h: Harness;
const socket = `sb-slack-card-${process.pid}`;

beforeAll(async () => {
  api = await startFakeAnthropic();
  root = mkdtempSync(join(tmpdir(), 'sb-slack-card-'));
  mkdirSync(join(root, 'work'));
  h = await startHarness({
    mode: 'http',
    env: { HOME: process.env.HOME ?? root },
    yaml: localClaudeExecutorYaml({ baseUrl: api.baseUrl, root, socket }).join('\n'),
  });
}, 120_000);

afterAll(async () => {
  await h?.stop();
  killTmuxServer(socket);
  await api?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const shown = (m: SlackMessage) => decodeEntities(m.visibleText);

describe('a Claude task’s card in Slack', { timeout: 150_000 }, () => {
  it('shows the last tool call and the tokens while it runs, ends in its final state, and one final output carries tokens and cost', async () => {
    const at = h.mark();
    await h.sb(ALICE, `start local --name bake --workspace ${join(root, 'work')} HANG:4 bake the bread`);
    await h.botMessage(at, { text: /task \*bake\* started/ });
    const cards = () => h.slack.messages({ channel: WORK, text: /⚙️ \*bake\* ·/ });
    const live = await h.slack.waitUntil(() => cards().find((m) => /🔧 Bash: python3 -c/.test(shown(m)) && /tokens \d+ in/.test(shown(m))), {
      timeoutMs: 90_000,
      description: 'the card with the running tool and the tokens so far',
    });
    expect(shown(live)).toMatch(/⚙️ \*bake\* · working · \d+s/);

    const final = await h.botMessage(at, { text: /📋 \*bake\* finished · ✅/, timeoutMs: 90_000 });
    expect(shown(final)).toMatch(/📋 \*bake\* finished · ✅ · \d+s · \d+ tokens · \$\d+\.\d+/);
    expect(shown(final)).toContain('Done: HANG:4 bake the bread');
    const done = await h.slack.waitUntil(() => cards().find((m) => /finished ✅/.test(shown(m))), { timeoutMs: 30_000, description: 'the card’s final state' });
    expect(shown(done)).toMatch(/tokens \d+ in · \d+ out · \$\d+\.\d+/);
    expect(shown(done)).not.toContain('🔧');
    // One card, edited in place (at least: the tool and tokens, then the final state); exactly one final output.
    expect(cards()).toHaveLength(1);
    expect(done.ts).toBe(live.ts);
    expect(done.edits.length).toBeGreaterThanOrEqual(2);
    expect(h.slack.messages({ channel: WORK, text: /📋 \*bake\*/ })).toHaveLength(1);
  });
});
