import { decodeEntities } from './render/mrkdwn.js';

/**
 * What a person typed, recovered from what Slack delivers. Slack escapes `&`, `<` and `>` in slash-command
 * text and in messages; in messages it also rewrites mentions and links into `<…>` markup. The prompt an agent
 * receives (and the verbatim echo) must be the typed text, so both are undone here.
 */

/** Slash-command text: with the manifest's `should_escape: false`, only the three entities need decoding. */
export function commandText(text: string): string {
  return decodeEntities(text);
}

/**
 * Message text (an @-mention of the bot): markup back to what the person saw while typing, then entities.
 * `<https://x|x.com>` was typed as `x.com`; `<@U1|ann>` as `@ann`; `<!here>` as `@here`.
 */
export function messageText(text: string): string {
  const plain = text.replace(/<([^<>]*)>/g, (_whole, inner: string) => {
    const [target = '', label] = splitLabel(inner);
    if (target.startsWith('@')) return label !== undefined ? `@${label}` : target;
    if (target.startsWith('#')) return label !== undefined ? `#${label}` : target;
    if (target.startsWith('!')) {
      if (label !== undefined) return label;
      const special = target.slice(1).split('^')[0] ?? '';
      return `@${special}`;
    }
    return label ?? target;
  });
  return decodeEntities(plain);
}

function splitLabel(inner: string): [string, string | undefined] {
  const bar = inner.indexOf('|');
  return bar < 0 ? [inner, undefined] : [inner.slice(0, bar), inner.slice(bar + 1)];
}

/** Drops the leading `<@BOT>` of an app mention (and any space after it). */
export function withoutLeadingMention(text: string, botUserId: string | undefined): string {
  const pattern = botUserId ? new RegExp(`^\\s*<@${botUserId}(?:\\|[^>]*)?>[\\s,:]*`) : /^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*/;
  return text.replace(pattern, '');
}
