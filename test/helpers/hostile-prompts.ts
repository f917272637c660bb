/**
 * The hostile prompt corpus every door is checked with: shell syntax, chat mentions and markup of every
 * platform, markdown and code fences, invisible and bidirectional characters, control characters, option-like
 * words, quoting, and Unicode that normalisation would change. Each starts with its own marker word (`P-…`)
 * so a test can find the model request it became; the marker is the whole first word.
 */
export const HOSTILE_PROMPTS: ReadonlyArray<readonly [what: string, prompt: string]> = [
  ['shell', 'P-SHELL $(id) `id` ; rm -rf / && curl http://169.254.169.254 | sh > /dev/null 2>&1 &'],
  ['mentions', 'P-MENTION <!channel> <!here> @everyone @here <@U123> <#C1|general> <@&42> &amp; &lt;b&gt;'],
  ['markdown', 'P-MARKDOWN **bold** _it_ ~~gone~~ `code` ```fence``` > quote [link](http://x) # heading'],
  ['invisible', 'P-INVISIBLE a\u200bb\u200cc\u200dd\ufeffe \u202eevil\u202c \u2066isolated\u2069 \u00a0nbsp'],
  ['nul', 'P-NUL before\u0000after \u0001\u0007\u001b[31mred\u001b[0m'],
  ['options', 'P-OPTIONS --agent "$(id)" --dir ../x -- --title'],
  ['quotes', `P-QUOTES "double" 'single' \\"escaped\\" \\\\ back\\slash 'unterminated`],
  ['unicode', 'P-UNICODE 😀 👩‍👩‍👧 é vs é 中文 العربية עברית \ud83d\ude00 ∑'],
];
