import { Options } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { promptRuns, waitForPromptRun } from '../fakes/llm/fake-llm.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import { warmUp } from '../slack/warm-up.js';
import { ALICE, WORK, startHarness, type Harness } from './harness.js';

/**
 * A RESUME can replay dispatches the bot already had; Switchboard runs each message and interaction once. Real
 * discord.js against the twin, real opencode with the scripted model, so a second run would show as a second
 * echo and a second prompt at the model.
 *
 * discord.js itself skips a replayed MESSAGE_CREATE while that message is still in its cache (200 per channel by
 * default); a busy channel or a sweeper evicts it. The bot here keeps no messages, so the core is what has to
 * recognise the replay. Interactions are never cached: a replayed one reaches the handler either way.
 */
let h: Harness;

const world = useOpencodeWorld(
  async ({ server }, keep) => {
    // Straight at the server: these tests need no monitor, only a first prompt that is not a cold start.
    await warmUp(server.url);
    h = keep(
      await startHarness({
        servers: { lab: server.url },
        clientOptions: { makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }) },
      }),
    );
    const made = await (await h.say(ALICE, '!sb new kumo lab --agent build')).waitForBotReply({ text: /🆕/ });
    expect(made.content).toContain('**kumo**');
  },
  { hookTimeoutMs: 180_000 },
);

function echoes(marker: string): number {
  return h.discord.messages({ channel: WORK, author: 'bot' }).filter((m) => m.content.includes('📨') && m.content.includes(marker)).length;
}


/** Long enough for a second run, had there been one, to reach the model and the channel. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1_500));

describe('dispatches replayed after a RESUME run once', { timeout: 120_000 }, () => {
  it('a `!sb send` MESSAGE_CREATE replayed after RESUME: one echo, one prompt at the model', async () => {
    const before = h.discord.gatewaySequence();
    const asked = await h.say(ALICE, '!sb send kumo REPLAYED-MESSAGE fix the flaky test');
    await asked.waitForBotReply({ text: /📨/ });
    await waitForPromptRun(world.llm, 'REPLAYED-MESSAGE');

    const resumed = await h.discord.dropConnection({ replaySince: before }).waitForResume();
    expect(resumed.replayed).toBeGreaterThan(0);
    await h.discord.waitFor(() => (h.logger.lines.some((l) => l.includes('a repeated delivery was ignored') && l.includes(`discord:message:${asked.id}`)) ? true : undefined), {
      description: 'the replayed message to be recognised',
    });
    await settle();
    expect(echoes('REPLAYED-MESSAGE')).toBe(1);
    expect(promptRuns(world.llm, 'REPLAYED-MESSAGE')).toBe(1);
  });

  it('a `/sb send` INTERACTION_CREATE replayed after RESUME: one echo, one prompt at the model', async () => {
    const before = h.discord.gatewaySequence();
    const slash = await h.slash(ALICE, 'send', { name: 'kumo', prompt: 'REPLAYED-SLASH fix it' });
    await h.answer(slash, /📨/);
    await waitForPromptRun(world.llm, 'REPLAYED-SLASH');

    const resumed = await h.discord.dropConnection({ replaySince: before }).waitForResume();
    expect(resumed.replayed).toBeGreaterThan(0);
    await h.discord.waitFor(() => (h.logger.lines.some((l) => l.includes('a repeated delivery was ignored') && l.includes('discord:interaction:')) ? true : undefined), {
      description: 'the replayed interaction to be recognised',
    });
    await settle();
    expect(echoes('REPLAYED-SLASH')).toBe(1);
    expect(promptRuns(world.llm, 'REPLAYED-SLASH')).toBe(1);
  });
});

describe('a button pressed twice', { timeout: 120_000 }, () => {
  it('runs once; the second press is told privately who chose', async () => {
    const offer = await (await h.say(ALICE, '!sb new lab')).waitForBotReply({ text: /Which agent should/ });
    const name = /should \*\*([a-z]{4})\*\*/.exec(offer.content)![1]!;
    const rows = offer.components as unknown as Array<{ components?: Array<{ custom_id: string }> }>;
    const build = rows.flatMap((row) => row.components ?? [])[0]!.custom_id;

    const alice = h.discord.channel(WORK).user(ALICE);
    await Promise.all([alice.clickButton(offer, build), alice.clickButton(offer, build)]);
    await h.botMessage(offer, { text: new RegExp(`🆕 \\*\\*${name}\\*\\*`) });
    const told = await h.discord.waitForMessage({ channel: WORK, includeEphemeral: true, text: /already chosen/ });
    expect(told.ephemeral).toBe(true);
    expect(told.content).toContain('that choice was already chosen by');
    await settle();
    const created = h.discord.messages({ channel: WORK, author: 'bot' }).filter((m) => m.content.includes(`🆕 **${name}**`));
    expect(created).toHaveLength(1);
  });
});
