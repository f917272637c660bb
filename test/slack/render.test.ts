import { describe, expect, it } from 'vitest';
import { withoutChoice } from '../../adapters/slack/inbound.js';
import { context, type SlackBlock } from '../../adapters/slack/render/blocks.js';
import { SLACK_RENDER_LIMITS } from '../../adapters/slack/render/limits.js';
import { decodeEntities, markdownToMrkdwn, proseToMrkdwn } from '../../adapters/slack/render/mrkdwn.js';
import { fitPieces } from '../../adapters/slack/render/pieces.js';
import { planReply, type DeliveryPlan } from '../../adapters/slack/render/plan.js';
import { commandText, messageText, withoutLeadingMention } from '../../adapters/slack/slack-text.js';
import { slackSettingsFromEnv } from '../../adapters/slack/settings.js';
import { output, reply, text, verbatim } from '../../src/core/reply.js';
import { checkMessageLimits, renderVisibleText } from '../twins/slack/index.js';
import { liveMarkup, preformattedTexts, sectionTexts } from './slack-render.js';

/** The rendering on its own: escaping, splitting and Slack's limits, without Bolt or a network. */
const HOSTILE = 'hey <@U123> <!here> <!channel> &lt; *bold* _it_ <https://evil.example|click> ```rm -rf /``` `x` > done &';

function everyMessageFits(plan: DeliveryPlan): void {
  for (const message of plan.messages) {
    expect(checkMessageLimits({ text: message.text, blocks: message.blocks })).toBeUndefined();
    expect(liveMarkup(message.text)).toEqual([]);
  }
}

describe('mrkdwn escaping', () => {
  it('escapes exactly &, < and > and reads back byte for byte', () => {
    expect(proseToMrkdwn('a < b & c > d')).toBe('a &lt; b &amp; c &gt; d');
    expect(decodeEntities(proseToMrkdwn(HOSTILE).replace(/\*/g, ''))).toBe(HOSTILE.replace(/\*/g, ''));
  });

  it('turns **bold** into Slack bold in our prose and leaves code spans alone', () => {
    expect(proseToMrkdwn('📨 **kumo** ← `send`')).toBe('📨 *kumo* ← `send`');
  });

  it('renders agent markdown with formatting but no live mentions or links', () => {
    const md = '# Result\n**done**, *nice* and ~~old~~\n<!channel> see <https://evil|here>\n```ts\nconst a = b < c && d;\n```';
    const { text: rendered, endsInFence } = markdownToMrkdwn(md);
    expect(endsInFence).toBe(false);
    expect(rendered).toBe(
      '*Result*\n*done*, _nice_ and ~old~\n&lt;!channel&gt; see &lt;https://evil|here&gt;\n```\nconst a = b &lt; c &amp;&amp; d;\n```',
    );
    expect(liveMarkup(rendered)).toEqual([]);
  });

  it('closes and reopens a code fence that a piece boundary cuts', () => {
    const first = markdownToMrkdwn('text\n```\ncode line');
    expect(first).toEqual({ text: 'text\n```\ncode line\n```', endsInFence: true });
    expect(markdownToMrkdwn('more code\n```\nafter', true)).toEqual({ text: '```\nmore code\n```\nafter', endsInFence: false });
  });
});

describe('splitting', () => {
  it('never loses a character, splits on lines, and fits the rendered size', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} <&> ${'x'.repeat(i % 37)}`);
    const raw = lines.join('\n');
    const pieces = fitPieces(raw, 500, (p) => proseToMrkdwn(p).length);
    expect(pieces.join('')).toBe(raw);
    for (const piece of pieces) expect(proseToMrkdwn(piece).length).toBeLessThanOrEqual(500);
    expect(pieces.slice(0, -1).every((p) => p.endsWith('\n'))).toBe(true);
  });

  it('re-splits text that only grows too long once escaped', () => {
    const raw = '&'.repeat(1_000);
    const pieces = fitPieces(raw, 600, (p) => proseToMrkdwn(p).length);
    expect(pieces.join('')).toBe(raw);
    for (const piece of pieces) expect(proseToMrkdwn(piece).length).toBeLessThanOrEqual(600);
  });

  it('never cuts an emoji in half', () => {
    const raw = '🙂'.repeat(700);
    const pieces = fitPieces(raw, 301, (p) => p.length);
    expect(pieces.join('')).toBe(raw);
    for (const piece of pieces) expect(piece).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
  });
});

describe('planning a reply into Slack messages', () => {
  it('renders a prompt echo as prose plus a preformatted block holding the exact text, attributed to the sender', () => {
    const plan = planReply(reply([text('📨 **kumo** ← alice'), verbatim(HOSTILE)]), { allowFiles: true, attributeTo: 'UALICE' });
    expect(plan.files).toEqual([]);
    expect(plan.messages).toHaveLength(1);
    const [message] = plan.messages;
    everyMessageFits(plan);
    expect(message!.blocks.map((b) => b.type)).toEqual(['section', 'rich_text', 'context']);
    // Nothing escaped, nothing inserted: the block is the text, and Slack parses nothing in it.
    expect(preformattedTexts(message!.blocks)).toEqual([HOSTILE]);
    const visible = renderVisibleText(message!.text, message!.blocks as never);
    expect(visible).toBe(`📨 *kumo* ← alice\n\`\`\`${HOSTILE}\`\`\`\nrequested by <@UALICE>`);
    // The notification text is our prose only; the prompt never reaches mrkdwn.
    expect(message!.text).toBe('📨 kumo ← alice');
    expect(sectionTexts(message!.blocks).join('')).not.toContain('rm -rf');
  });

  it('keeps every edge exact: backtick runs, fences at either end, whitespace, control characters', () => {
    for (const edge of ['`', '``', '```', 'a`', '`a', '````x````', '```\n```', '  lead and trail  ', '\n\nblank lines\n\n', 'nul\u0000bell\u0007', '\u200b\u202e']) {
      const plan = planReply(reply([verbatim(edge)]), { allowFiles: true });
      everyMessageFits(plan);
      expect(plan.files).toEqual([]);
      expect(preformattedTexts(plan.messages[0]!.blocks)).toEqual([edge]);
    }
    // Empty text cannot be a rich_text element (Slack refuses it): it says so instead.
    const empty = planReply(reply([verbatim('')]), { allowFiles: true });
    everyMessageFits(empty);
    expect(renderVisibleText(empty.messages[0]!.text, empty.messages[0]!.blocks as never)).toBe('_(no text)_');
  });

  it('takes exactly one block up to the limit; one character more is shown in blocks with the exact text attached', () => {
    const fits = `${'f'.repeat(SLACK_RENDER_LIMITS.preformattedChars - 4)}\n\`\`\``;
    expect(fits).toHaveLength(SLACK_RENDER_LIMITS.preformattedChars);
    const one = planReply(reply([verbatim(fits)]), { allowFiles: true, subject: 'kumo' });
    expect(preformattedTexts(one.messages[0]!.blocks)).toEqual([fits]);
    expect(one.files).toEqual([]);

    const over = `${fits}\n`;
    const plan = planReply(reply([text('📨 **kumo** ← alice'), verbatim(over)]), { allowFiles: true, subject: 'kumo' });
    everyMessageFits(plan);
    expect(plan.files).toEqual([{ filename: 'kumo-text.txt', title: 'kumo text', content: over }]);
    expect(plan.messages).toHaveLength(1);
    const shown = preformattedTexts(plan.messages[0]!.blocks);
    expect(shown.length).toBe(2);
    expect(shown.join('')).toBe(over);
    expect(renderVisibleText(plan.messages[0]!.text, plan.messages[0]!.blocks as never)).toMatch(
      /\n📎 the exact text is attached as `kumo-text\.txt`: it is split over 2 blocks above$/,
    );
  });

  it('attaches a verbatim text longer than one message as a file, exactly, with a note in its place', () => {
    const long = Array.from({ length: 250 }, (_, i) => `${i} ${'y'.repeat(38)}`).join('\n');
    expect(long.length).toBeGreaterThan(SLACK_RENDER_LIMITS.messageChars);
    const plan = planReply(reply([text('📨 **kumo** ← alice'), verbatim(long)]), { allowFiles: true, subject: 'kumo' });
    expect(plan.files).toEqual([{ filename: 'kumo-text.txt', title: 'kumo text', content: long }]);
    expect(plan.messages).toHaveLength(1);
    expect(preformattedTexts(plan.messages[0]!.blocks)).toEqual([]);
    expect(renderVisibleText(plan.messages[0]!.text, plan.messages[0]!.blocks as never)).toContain(
      `📎 The full text (${long.length.toLocaleString('en-US')} characters) is attached as \`kumo-text.txt\``,
    );
    everyMessageFits(plan);
  });

  it('splits a long output over numbered messages within every limit, and loses nothing', () => {
    const body = Array.from({ length: 500 }, (_, i) => `step ${i}: <ok> & **fine**`).join('\n');
    const plan = planReply(reply([text('**kumo** latest output:'), output(body)]), { allowFiles: true, attributeTo: 'UALICE' });
    expect(plan.files).toEqual([]);
    expect(plan.messages.length).toBeGreaterThan(1);
    everyMessageFits(plan);
    const n = plan.messages.length;
    plan.messages.forEach((m, i) => {
      expect(renderVisibleText(m.text, m.blocks as never).split('\n')[0]).toBe(`(${i + 1}/${n})`);
      expect(m.text.startsWith(`(${i + 1}/${n}) `)).toBe(true);
    });
    // Attribution once, on the first message.
    expect(plan.messages.map((m) => liveMarkup(renderVisibleText(m.text, m.blocks as never)).length)).toEqual([1, ...Array(n - 1).fill(0)]);
    const sections = plan.messages.flatMap((m) => sectionTexts(m.blocks)).slice(1);
    expect(decodeEntities(sections.join(''))).toBe(body.replace(/\*\*fine\*\*/g, '*fine*'));
  });

  it('attaches an output beyond the file limit', () => {
    const body = 'z'.repeat(SLACK_RENDER_LIMITS.outputFileChars + 10);
    const plan = planReply(reply([output(body)]), { allowFiles: true, subject: 'kumo' });
    expect(plan.files).toEqual([{ filename: 'kumo-output.md', title: 'kumo output', content: body }]);
    everyMessageFits(plan);
  });

  it('spreads long private text over messages instead of a file (files cannot be ephemeral)', () => {
    const long = 'p'.repeat(20_000);
    const plan = planReply(reply([verbatim(long)]), { allowFiles: false });
    expect(plan.files).toEqual([]);
    expect(plan.messages.length).toBeGreaterThan(2);
    everyMessageFits(plan);
    expect(plan.messages.flatMap((m) => preformattedTexts(m.blocks)).join('')).toBe(long);
  });

  it('renders choices as buttons carrying the choice id and index, descriptions beside them', () => {
    const plan = planReply(
      {
        blocks: [
          {
            type: 'choices',
            choiceId: 'abc123',
            prompt: 'Which agent should **kumo** use?',
            options: [
              { label: 'build', description: 'does <things>', style: 'primary' },
              { label: 'plan' },
              { label: 'L'.repeat(100) },
            ],
          },
        ],
      },
      { allowFiles: true },
    );
    everyMessageFits(plan);
    const blocks = plan.messages[0]!.blocks;
    const actions = blocks.find((b) => b.type === 'actions') as unknown as { elements: Array<Record<string, unknown>> };
    expect(actions.elements.map((e) => [e['action_id'], e['value'], e['style']])).toEqual([
      ['sb_choice_0', 'abc123:0', 'primary'],
      ['sb_choice_1', 'abc123:1', undefined],
      ['sb_choice_2', 'abc123:2', undefined],
    ]);
    const visible = renderVisibleText(plan.messages[0]!.text, blocks as never);
    expect(visible).toContain('Which agent should *kumo* use?');
    expect(visible).toContain('1. *build* — does &lt;things&gt;');
    expect(visible).toContain(`3. *${'L'.repeat(100)}*`);
  });

  it('replaces a made choice by who picked it, leaving other blocks alone', () => {
    const plan = planReply(
      { blocks: [{ type: 'choices', choiceId: 'c1', prompt: 'Pick', options: [{ label: 'a' }, { label: 'b' }] }, text('after')] },
      { allowFiles: true },
    );
    const picked = context('✓ *a*');
    const after = withoutChoice(plan.messages[0]!.blocks, 'c1', picked);
    expect(after.map((b: SlackBlock) => b.type)).toEqual(['section', 'context', 'section']);
  });

  it('never lets the notification text mention anyone', () => {
    const plan = planReply(reply(`❌ unknown command \`<!channel>\` <@U1>`), { allowFiles: true });
    expect(plan.messages[0]!.text).toBe('❌ unknown command `&lt;!channel&gt;` &lt;@U1&gt;');
  });
});

describe('what Slack delivers, back to what was typed', () => {
  it('decodes command text', () => {
    expect(commandText('send kumo a &lt; b &amp;&amp; c &gt; d &amp;lt;')).toBe('send kumo a < b && c > d &lt;');
  });

  it('turns message markup back into the typed text', () => {
    const raw = '<@UBOT> send kumo ping <@U1|ann> and <!here>, see <https://x.example/a> or <http://y.example|y.example> in <#C1|general> &amp;';
    expect(messageText(withoutLeadingMention(raw, 'UBOT'))).toBe(
      'send kumo ping @ann and @here, see https://x.example/a or y.example in #general &',
    );
  });
});

describe('settings', () => {
  it('prefers Socket Mode when an app token is set, and explains what is missing', () => {
    expect(slackSettingsFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).toMatchObject({ mode: 'socket', command: '/sb', threads: true });
    expect(
      slackSettingsFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', SLACK_SOCKET_MODE: 'false', SLACK_SIGNING_SECRET: 's', SLACK_PORT: '0' }),
    ).toMatchObject({ mode: 'http', port: 0 });
    expect(() => slackSettingsFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SLACK_APP_TOKEN .* or SLACK_SIGNING_SECRET/);
    expect(() => slackSettingsFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_THREADS: 'maybe' })).toThrow(/SLACK_THREADS/);
    expect(() => slackSettingsFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_COMMAND: 'sb' })).toThrow(/SLACK_COMMAND/);
    expect(slackSettingsFromEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'http://127.0.0.1:9/api' }).apiUrl).toBe(
      'http://127.0.0.1:9/api/',
    );
  });
});
