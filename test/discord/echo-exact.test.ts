import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../fakes/llm/fake-llm.js';
import { HOSTILE_PROMPTS } from '../helpers/hostile-prompts.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import type { TwinMessage } from '../twins/discord/index.js';
import { ALICE, discordCodeBlocks, startHarness, type Harness } from './harness.js';

/**
 * The Discord echo is the prompt: over the hostile corpus, what a person copies from the echo equals, byte for
 * byte, the text the model received. That is the code block itself when Discord can show the text exactly, and
 * the attached file when the block needed invisible separators. Real discord.js, the twin, a real `opencode`.
 */
let h: Harness;

const world = useOpencodeWorld(async ({ server }, keep) => {
  h = keep(await startHarness({ servers: { lab: server.url } }));
  await h.warmUp('lab');
  await (await h.say(ALICE, '!sb new echo lab --agent build')).waitForBotReply({ text: /🆕 \*\*echo\*\*/ });
});

/** The model request of the prompt's turn (not the title request, not a step after a tool result). */
function turnRequest(prompt: string): ChatRequest | undefined {
  return world.llm.requests.find((r) => (r.tools?.length ?? 0) > 0 && !r.afterToolResult && r.lastUserText === prompt);
}

/** What copying the echo gives: the attached exact text when there is one, else the one code block's text. */
function copied(echo: TwinMessage): string {
  if (echo.attachments.length > 0) {
    expect(echo.attachments.map((a) => a.filename)).toEqual(['echo-text.txt']);
    expect(echo.content).toContain('-# 📎 the exact text is attached as `echo-text.txt`');
    return echo.attachments[0]!.bytes.toString('utf8');
  }
  const blocks = discordCodeBlocks(echo.content);
  expect(blocks).toHaveLength(1);
  return blocks[0]!.shown;
}

describe('the Discord echo, byte for byte', () => {
  for (const [what, prompt] of HOSTILE_PROMPTS) {
    it(`${what}: what a person copies from the echo is exactly what reached the model`, async () => {
      const marker = prompt.split(' ')[0]!;
      const echo = await (await h.say(ALICE, `!sb send echo -- ${prompt}`)).waitForBotReply({ text: /📨 \*\*echo\*\*/ });
      await h.botMessage(echo, { text: /📋 \*\*echo\*\* finished/, timeoutMs: 45_000 });
      await world.llm.waitForRequest(marker);
      const received = turnRequest(prompt);
      expect(received, `no turn request with exactly the ${what} prompt; seen: ${JSON.stringify(world.llm.requests.filter((r) => r.lastUserText.includes(marker)).map((r) => r.lastUserText))}`).toBeDefined();
      expect(Buffer.from(copied(echo), 'utf8').equals(Buffer.from(received!.lastUserText, 'utf8'))).toBe(true);
      expect(echo.mentions).toEqual({ users: [], roles: [], everyone: false });
    });
  }
});
