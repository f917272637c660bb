/**
 * Turning Switchboard's prose and agents' markdown into Slack mrkdwn (exact text goes in a rich_text block
 * instead, where nothing is parsed: see `preformatted` in blocks.ts). Slack decodes exactly three entities (&amp; &lt;
 * &gt;) and treats every raw `<…>` as markup: `<@U1>` mentions, `<!here>` pings, `<https://x|label>` links. So
 * everything we did not write ourselves is entity-escaped before it goes out, which makes all of those inert.
 */

export function escapeEntities(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** What Slack shows for escaped text; also how Slack delivers typed text (`&`, `<`, `>` arrive escaped). */
export function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Switchboard's own prose: `**bold**` becomes Slack's `*bold*`; `code` spans are the same in both. Names and
 * arguments quoted in prose came from users, so the text is escaped like any other.
 */
export function proseToMrkdwn(text: string): string {
  return escapeEntities(text).replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '*$1*');
}

const FENCE = /^\s*```/;

export interface OutputPiece {
  text: string;
  /** Whether a code fence was still open at the end of the raw piece (the renderer closed it). */
  endsInFence: boolean;
}

/**
 * An agent's markdown in mrkdwn: headings and `**bold**` become `*bold*`, single-star emphasis becomes
 * `_italic_`, fence language tags are dropped (Slack would print them). Escaping keeps mentions and `<url|label>`
 * links dead. `startsInFence` carries an open code fence over from the previous piece, so a fence split across
 * two sections still renders as code in both.
 */
export function markdownToMrkdwn(markdown: string, startsInFence = false): OutputPiece {
  let inFence = startsInFence;
  const lines = escapeEntities(markdown)
    .split('\n')
    .map((line) => {
      if (FENCE.test(line)) {
        inFence = !inFence;
        return '```';
      }
      return inFence ? line : inlineMarkdown(line);
    });
  let text = lines.join('\n');
  if (startsInFence) text = `\`\`\`\n${text}`;
  if (inFence) text += '\n```';
  return { text, endsInFence: inFence };
}

/** Extra characters `markdownToMrkdwn` may add to close and reopen a fence around a piece. */
export const FENCE_OVERHEAD = 8;

function inlineMarkdown(line: string): string {
  const heading = /^#{1,6}\s+(.+?)\s*#*$/.exec(line);
  if (heading?.[1]) return `*${heading[1].replace(/\*\*/g, '')}*`;
  // Code spans keep their content untouched; only the text between them is reformatted.
  return line
    .split(/(`[^`]*`)/)
    .map((part, index) => (index % 2 === 1 ? part : emphasis(part)))
    .join('');
}

function emphasis(text: string): string {
  const BOLD = '\u0000';
  return text
    .replace(/(\*\*|__)(?=\S)(.+?\S)\1/g, `${BOLD}$2${BOLD}`)
    .replace(/(^|[^\w*])\*(?=\S)([^*]+?\S)\*(?!\w)/g, '$1_$2_')
    .replace(/~~(?=\S)(.+?\S)~~/g, '~$1~')
    .replace(new RegExp(BOLD, 'g'), '*');
}
