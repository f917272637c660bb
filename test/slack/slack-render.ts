/**
 * How to read what Slack would show, for assertions. In mrkdwn every raw `<…>` is live markup (a mention, a
 * ping, a link); escaped text has none. These helpers work on the text the twin recorded.
 */
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';

/** What a person reads in a message: its blocks rendered, entities decoded. */
export function shown(message: { visibleText: string }): string {
  return decodeEntities(message.visibleText);
}

/** The live `<…>` tokens in a piece of mrkdwn, in order. */
export function liveMarkup(mrkdwn: string): string[] {
  return mrkdwn.match(/<[^<>]*>/g) ?? [];
}

/** The mrkdwn text of each section block, in order. */
export function sectionTexts(blocks: readonly unknown[] | undefined): string[] {
  return (blocks ?? []).flatMap((block) => {
    const b = block as { type?: string; text?: { text?: unknown } };
    return b.type === 'section' && typeof b.text?.text === 'string' ? [b.text.text] : [];
  });
}

/**
 * What a person copies from each exact-text block (a rich_text preformatted element), in order: its text
 * elements joined, as sent. Slack shows them as is, so this is the text the echo carries.
 */
export function preformattedTexts(blocks: readonly unknown[] | undefined): string[] {
  return (blocks ?? []).flatMap((block) => {
    const b = block as { type?: string; elements?: unknown };
    if (b.type !== 'rich_text' || !Array.isArray(b.elements)) return [];
    return b.elements.flatMap((el: { type?: string; elements?: unknown }) =>
      el.type === 'rich_text_preformatted' && Array.isArray(el.elements)
        ? [el.elements.map((t: { text?: unknown; url?: unknown }) => String(t.text ?? t.url ?? '')).join('')]
        : [],
    );
  });
}
