import { verifySlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { compareTs, createIdSource } from './ids.js';
import { checkBlocks, checkMessageLimits } from './limits.js';
import { renderVisibleText } from './render-blocks.js';
import { slackSignatureHeaders } from './signing.js';
import { normalizeDurations } from './transcript.js';

/** The twin's pure parts, checked without any server. */

describe('signing', () => {
  it("produces headers Bolt's own verifier accepts, and tampered ones it rejects", () => {
    const body = 'command=%2Fsb&text=hi';
    const now = Date.now();
    const verify = (headers: Record<string, string>) =>
      verifySlackRequest({
        signingSecret: 's3cret',
        body,
        headers: {
          'x-slack-signature': headers['x-slack-signature'] ?? '',
          'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']),
        },
        nowMilliseconds: now,
      });
    expect(() => verify(slackSignatureHeaders('s3cret', body, now))).not.toThrow();
    expect(() => verify(slackSignatureHeaders('s3cret', body, now, 'bad-signature'))).toThrow(/signature mismatch/);
    expect(() => verify(slackSignatureHeaders('s3cret', body, now, 'stale-timestamp'))).toThrow(/stale/);
  });
});

describe('ids', () => {
  it('issues strictly increasing Slack-shaped ts values, carrying into the seconds', () => {
    const ids = createIdSource(1_700_000_000, 400_000);
    const seen = [ids.nextTs(), ids.nextTs(), ids.nextTs()];
    expect(seen).toEqual(['1700000000.400000', '1700000000.800000', '1700000001.200000']);
    expect(compareTs('1700000001.200000', '1700000000.800000')).toBeGreaterThan(0);
    expect(compareTs('10.5', '9.999999')).toBeGreaterThan(0);
  });
});

describe('limits', () => {
  const text = (t: string) => ({ type: 'plain_text', text: t });

  it('reports each Block Kit violation with a json-pointer', () => {
    expect(
      checkBlocks([
        { type: 'sectoin', text: text('typo') },
        { type: 'section' },
        { type: 'section', fields: Array.from({ length: 11 }, () => text('f')) },
        { type: 'header', text: { type: 'mrkdwn', text: 'h' } },
        { type: 'actions', block_id: 'a', elements: [{ type: 'button', action_id: 'b', text: text('x'.repeat(76)) }] },
        { type: 'divider', block_id: 'a' },
      ]),
    ).toEqual([
      '[ERROR] unsupported type: sectoin [json-pointer:/blocks/0/type]',
      '[ERROR] must provide either text or fields [json-pointer:/blocks/1]',
      '[ERROR] no more than 10 items allowed [json-pointer:/blocks/2/fields]',
      '[ERROR] must be plain_text [json-pointer:/blocks/3/text/type]',
      '[ERROR] must be less than 76 characters [json-pointer:/blocks/4/elements/0/text/text]',
      '[ERROR] duplicate block_id: a [json-pointer:/blocks/5/block_id]',
    ]);
  });

  it('needs text or blocks, and allows exactly the documented maxima', () => {
    expect(checkMessageLimits({ text: '', blocks: [] })?.error).toBe('no_text');
    expect(checkMessageLimits({ text: undefined, blocks: [{ type: 'markdown', text: 'x'.repeat(12_000) }] })).toBeUndefined();
    expect(checkMessageLimits({ text: undefined, blocks: [{ type: 'header', text: text('x'.repeat(150)) }] })).toBeUndefined();
  });

  it('checks rich_text as Slack does: element kinds, what preformatted text may hold, styles, borders, length', () => {
    const pre = (elements: unknown[], extra: Record<string, unknown> = {}) => ({ type: 'rich_text', elements: [{ type: 'rich_text_preformatted', elements, ...extra }] });
    expect(checkBlocks([pre([{ type: 'text', text: '```\n<@U1> & &lt;' }], { border: 0 })])).toEqual([]);
    expect(checkBlocks([pre([{ type: 'text', text: 'x'.repeat(4_000) }])])).toEqual([]);
    expect(
      checkBlocks([
        { type: 'rich_text', elements: [] },
        pre([{ type: 'user', user_id: 'U1' }]),
        pre([{ type: 'text', text: '' }]),
        pre([{ type: 'text', text: 'a', style: { underline: true } }], { border: 2 }),
        { type: 'rich_text', elements: [{ type: 'rich_text_paragraph', elements: [] }] },
        { type: 'rich_text', elements: [{ type: 'rich_text_list', style: 'dashed', elements: [{ type: 'text', text: 'a' }] }] },
        pre([{ type: 'text', text: 'x'.repeat(2_000) }, { type: 'text', text: 'y'.repeat(2_001) }]),
      ]),
    ).toEqual([
      '[ERROR] must provide at least one element [json-pointer:/blocks/0/elements]',
      '[ERROR] unsupported type: user [json-pointer:/blocks/1/elements/0/elements/0/type]',
      '[ERROR] must be more than 0 characters [json-pointer:/blocks/2/elements/0/elements/0/text]',
      '[ERROR] must be 0 or 1 [json-pointer:/blocks/3/elements/0/border]',
      '[ERROR] unsupported style: underline [json-pointer:/blocks/3/elements/0/elements/0/style/underline]',
      '[ERROR] unsupported type: rich_text_paragraph [json-pointer:/blocks/4/elements/0/type]',
      '[ERROR] must be bullet or ordered [json-pointer:/blocks/5/elements/0/style]',
      '[ERROR] must be a rich_text_section [json-pointer:/blocks/5/elements/0/elements/0/type]',
      '[ERROR] must be less than 4001 characters [json-pointer:/blocks/6/elements]',
    ]);
  });
});

describe('rendering', () => {
  it('renders blocks as a reader sees them, preferring blocks over fallback text', () => {
    expect(
      renderVisibleText('fallback', [
        { type: 'header', text: text('Build') },
        { type: 'section', text: { type: 'mrkdwn', text: '*green*' }, accessory: { type: 'button', text: text('Logs') } },
        { type: 'divider' },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'took 3s' }] },
        { type: 'rich_text', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'hi ' }, { type: 'user', user_id: 'U1' }] }] },
        { type: 'rich_text', elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'text', text: '<@U1> &amp;\n*x*' }] }] },
      ]),
    ).toBe('# Build\n*green* [Logs]\n---\ntook 3s\nhi <@U1>\n```<@U1> &amp;\n*x*```');
    expect(renderVisibleText('plain', undefined)).toBe('plain');
    expect(normalizeDurations('took 3s, then 250ms and 1.5s')).toBe('took Ns, then Ns and Ns');
  });

  function text(t: string) {
    return { type: 'plain_text', text: t };
  }
});
