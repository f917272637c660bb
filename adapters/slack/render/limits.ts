/**
 * The Slack limits the renderer plans around. Slack's documented hard limits are 3 000 characters of section
 * text, 50 blocks and 40 000 characters of `text` per message. Slack documents no length limit for a rich_text
 * block; integrators report about 4 000 characters, so exact text stays within 3 000 per block; in practice a message whose blocks add up to
 * roughly 13 000 characters is refused with `msg_blocks_too_long` (slackapi/bolt-js#2509), so one message
 * carries at most `messageChars` of block text and long replies become several messages.
 */
export interface RenderLimits {
  /** Characters of mrkdwn in one section block (Slack: 3 000). */
  sectionChars: number;
  /** Characters of exact text in one rich_text preformatted block (Slack: undocumented, about 4 000). */
  preformattedChars: number;
  /** Blocks in one message, keeping room for the "(1/3)" marker and the attribution (Slack: 50). */
  blocksPerMessage: number;
  /** Characters of block text in one message, well under the undocumented ~13 000 ceiling. */
  messageChars: number;
  /** Agent output longer than this (rendered) is attached as a file instead of spread over messages. */
  outputFileChars: number;
  /** Characters of a button label (Slack: 75). */
  buttonChars: number;
  /** Buttons in one actions block (Slack: 25). */
  buttonsPerBlock: number;
  /** Characters of the notification `text` that accompanies blocks. */
  fallbackChars: number;
}

export const SLACK_RENDER_LIMITS: Readonly<RenderLimits> = Object.freeze({
  sectionChars: 3_000,
  preformattedChars: 3_000,
  blocksPerMessage: 45,
  messageChars: 8_000,
  outputFileChars: 32_000,
  buttonChars: 75,
  buttonsPerBlock: 25,
  fallbackChars: 150,
});
