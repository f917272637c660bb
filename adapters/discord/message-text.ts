/**
 * The command line in a `!sb …` message (or one that starts by mentioning the bot, which works even without the
 * Message Content intent). Undefined when the message is not for us. Only the prefix and the whitespace right
 * after it go: the rest, free text included, reaches the core exactly as typed.
 */
export function commandText(content: string, prefix: string, botUserId: string | undefined): string | undefined {
  let rest: string | undefined;
  if (content.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()) rest = content.slice(prefix.length);
  else if (botUserId) {
    const mention = new RegExp(`^<@!?${botUserId}>`).exec(content);
    if (mention) rest = content.slice(mention[0].length);
  }
  // `!sbx` is someone else's command.
  if (rest === undefined || (rest !== '' && !/^\s/.test(rest))) return undefined;
  const line = rest.replace(/^\s+/, '');
  return line === '' ? 'help' : line;
}
