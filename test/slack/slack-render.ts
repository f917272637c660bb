/**
 * How to read what Slack would show, for assertions. In mrkdwn every raw `<…>` is live markup (a mention, a
 * ping, a link); escaped text has none. These helpers work on the text the twin recorded.
 */

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

/** The code blocks (``` … ```) among the sections, in order. */
export function codeSections(blocks: readonly unknown[] | undefined): string[] {
  return sectionTexts(blocks).filter((t) => t.startsWith('```') && t.endsWith('```'));
}
