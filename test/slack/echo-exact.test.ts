import { describe, expect, it } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import type { ChatRequest } from '../fakes/llm/fake-llm.js';
import { HOSTILE_PROMPTS } from '../helpers/hostile-prompts.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import type { SlackMessage } from '../twins/slack/index.js';
import { ALICE, WORK, startHarness, type Harness } from './harness.js';
import { liveMarkup, preformattedTexts, sectionTexts } from './slack-render.js';
import { warmUp } from './warm-up.js';

/**
 * The Slack echo is the prompt: over the hostile corpus, what a person copies from the echo's preformatted
 * block (or from the attached file, when the text needs more than one block) equals, byte for byte, the text
 * the model received. Real Bolt over HTTP, the Slack twin, the real core and a real `opencode` server.
 */
let h: Harness;
let thread: string | undefined;

const world = useOpencodeWorld(async ({ server }, keep) => {
  await warmUp(server.url);
  h = keep(await startHarness({ mode: 'http', servers: { lab: server.url } }));
  const at = h.mark();
  await h.sb(ALICE, 'new echo lab --agent build');
  await h.botMessage(at, { text: '🆕 *echo*' });
});

/** The model request of the prompt's turn (not the title request, not a step after a tool result). */
function turnRequest(prompt: string): ChatRequest | undefined {
  return world.llm.requests.find((r) => (r.tools?.length ?? 0) > 0 && !r.afterToolResult && r.lastUserText === prompt);
}

/** Sends `prompt` to `echo` (after `--`, so nothing in it is read as an option); resolves with the echo once the run is over. */
async function send(prompt: string, marker: string): Promise<SlackMessage> {
  const at = h.mark();
  await h.sb(ALICE, `send echo -- ${prompt}`);
  const echo = await h.botMessage(at, { text: '📨 *echo* ← alice' });
  thread ??= echo.ts;
  await h.botMessage(echo.seq, { threadTs: thread, text: /📋 \*echo\* finished/ });
  await world.llm.waitForRequest(marker);
  return echo;
}

describe('the Slack echo, byte for byte', { timeout: 150_000 }, () => {
  for (const [what, prompt] of HOSTILE_PROMPTS) {
    it(`${what}: the echo's block copies as exactly what reached the model`, async () => {
      const marker = prompt.split(' ')[0]!;
      const filesBefore = h.slack.files().length;
      const echo = await send(prompt, marker);
      const received = turnRequest(prompt);
      expect(received, `no turn request with exactly the ${what} prompt; seen: ${JSON.stringify(world.llm.requests.filter((r) => r.lastUserText.includes(marker)).map((r) => r.lastUserText))}`).toBeDefined();
      expect(preformattedTexts(echo.blocks)).toEqual([received!.lastUserText]);
      // As the channel reads: the prompt as a code block, exactly (the transcript escapes nothing).
      expect(h.slack.transcript(WORK).split('\n').map((l) => l.trim())).toContain(`\`\`\`${prompt}\`\`\``);
      // Nothing of the prompt is in mrkdwn (where it could come alive); no file is needed.
      const mrkdwn = sectionTexts(echo.blocks).join('\n');
      expect(liveMarkup(mrkdwn)).toEqual([]);
      expect(mrkdwn).not.toContain(marker);
      expect(h.slack.files()).toHaveLength(filesBefore);
    });
  }

  it('a prompt longer than one block is shown in blocks and attached as a file that is exactly the prompt', async () => {
    const line = 'P-TWOBLOCKS ```\n<!channel> &amp; `x` \u200b\u202e ``` 😀\n';
    const prompt = line.repeat(Math.ceil(4_000 / line.length)).trimEnd();
    expect(prompt.length).toBeGreaterThan(3_000);
    const echo = await send(prompt, 'P-TWOBLOCKS');
    const received = turnRequest(prompt);
    expect(received).toBeDefined();
    const blocks = preformattedTexts(echo.blocks);
    expect(blocks).toHaveLength(2);
    expect(blocks.join('')).toBe(received!.lastUserText);
    expect(decodeEntities(echo.visibleText)).toContain('📎 the exact text is attached as `echo-text.txt`: it is split over 2 blocks above');
    const file = await h.slack.waitForFile({ filename: 'echo-text.txt' });
    expect(file.threadTs).toBe(echo.threadTs ?? echo.ts);
    expect(file.content.equals(Buffer.from(received!.lastUserText, 'utf8'))).toBe(true);
  });
});
