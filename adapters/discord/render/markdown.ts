/**
 * Text in Discord markdown. Two jobs: keep mentions inert in everything we post, and show exact text in a code
 * block that nothing inside can break.
 *
 * Discord's client reads a code block as ```` ```lang\n…``` ````, ending at the FIRST later run of three
 * backticks; a longer fence does not help (the fourth backtick is content), and backslashes do not escape
 * inside. It also trims newlines at both ends of the block and takes a leading word + newline as the language.
 * So exact text is wrapped as "```\n" + body + "\n```" (the newline after the fence means no language), and the
 * body is the text itself whenever that is safe, which is the common case: then what a reader copies is
 * byte for byte what was sent. Otherwise the body is a reversible encoding with zero-width spaces, so the block
 * still cannot break, and the renderer attaches the exact bytes as a file.
 */

export const ZWSP = '\u200B';

/** Discord pings and mention pills: `@everyone`, `@here`, `<@id>`, `<@!id>`, `<@&id>`, `<#id>`, `</cmd:id>`. */
const MASS_MENTION = /@(everyone|here)/g;
const ANGLE_MENTION = /<(?=[@#/])/g;

/**
 * Makes mentions inert for the eye as well as for notifications (allowed_mentions already stops pings): a
 * zero-width space after `<` or `@` means Discord no longer recognises them.
 */
export function inertMentions(text: string): string {
  return text.replace(ANGLE_MENTION, `<${ZWSP}`).replace(MASS_MENTION, `@${ZWSP}$1`);
}

/** The text a person reads from `inertMentions` (tests compare against what the agent wrote). */
export function readInertMentions(text: string): string {
  return text.replace(new RegExp(`<${ZWSP}(?=[@#/])`, 'g'), '<').replace(new RegExp(`@${ZWSP}(everyone|here)`, 'g'), '@$1');
}

/**
 * A bijective encoding of any string into a code-block body that Discord shows whole:
 * 1. a zero-width space after every backtick followed by a backtick or a zero-width space (so no ``` can form,
 *    and zero-width spaces already in the text stay distinguishable from ours);
 * 2. one at the front if the body would start with a newline or a zero-width space or be empty;
 * 3. one at the end if it would end with a newline or a zero-width space.
 * Text that needs none of this is returned unchanged.
 */
export function encodeVerbatim(text: string): string {
  let body = text.replace(new RegExp(`\`(?=[\`${ZWSP}])`, 'g'), `\`${ZWSP}`);
  if (body === '' || body.startsWith('\n') || body.startsWith(ZWSP)) body = ZWSP + body;
  if (body.endsWith('\n') || body.endsWith(ZWSP)) body += ZWSP;
  return body;
}

export function decodeVerbatim(body: string): string {
  let text = body.startsWith(ZWSP) ? body.slice(1) : body;
  if (text.endsWith(ZWSP)) text = text.slice(0, -1);
  return text.replace(new RegExp(`\`${ZWSP}`, 'g'), '`');
}

/** Whether the code block shows `text` itself, so that copying it gives the exact bytes back. */
export function showsExactly(text: string): boolean {
  // Discord stores \r\n as \n, so a carriage return would not survive the round trip either.
  return encodeVerbatim(text) === text && !text.includes('\r');
}

export function codeBlock(text: string): string {
  return `\`\`\`\n${encodeVerbatim(text)}\n\`\`\``;
}

/** The text a code block made by `codeBlock` stands for (tests; the inverse of `codeBlock`). */
export function readCodeBlock(rendered: string): string {
  if (!rendered.startsWith('```\n') || !rendered.endsWith('\n```')) throw new Error('not a code block made by codeBlock()');
  return decodeVerbatim(rendered.slice(4, -4));
}

/** Extra characters `codeBlock` adds around a body: "```\n" and "\n```". */
export const CODE_BLOCK_OVERHEAD = 8;

/**
 * Whether a code block is still open at the end of `markdown`, and its language. Discord pairs runs of three
 * backticks in order wherever they are, so counting them is how its client decides too.
 */
export function openFenceAfter(markdown: string, startsOpen: { lang: string } | undefined): { lang: string } | undefined {
  let open = startsOpen;
  // A language counts only when a newline follows it, as in Discord's rule.
  const fence = /```(?:([a-z0-9_+\-.#]+)(?=\n))?/gi;
  for (let match = fence.exec(markdown); match; match = fence.exec(markdown)) {
    if (open) {
      open = undefined;
      // A closing fence is just the three backticks; what follows is ordinary text.
      fence.lastIndex = match.index + 3;
    } else {
      open = { lang: (match[1] ?? '').slice(0, 20) };
    }
  }
  return open;
}
