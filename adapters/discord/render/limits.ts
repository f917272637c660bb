/**
 * The Discord limits the renderer plans around (API v10). A message over `contentChars` is refused with 50035,
 * so every message is planned to fit; what cannot fit in a few messages goes out as a file instead.
 */
export interface RenderLimits {
  /** Characters of `content` in one message (Discord: 2 000). */
  contentChars: number;
  /** Kept free in every message for the "(1/3)" marker and the attribution line. */
  reserveChars: number;
  /** Agent output needing more messages than this is attached as a file instead. */
  outputPieces: number;
  /** Action rows per message and buttons per row (Discord: 5 and 5). */
  rowsPerMessage: number;
  buttonsPerRow: number;
  /** Characters of a button label (Discord: 80) and of a custom_id (Discord: 100). */
  buttonLabelChars: number;
  customIdChars: number;
  /** Attachments per message (Discord: 10). */
  filesPerMessage: number;
  /** Bytes per attached file; bots may upload 10 MiB, we stay under it so one file never gets refused. */
  fileBytes: number;
}

export const DISCORD_LIMITS: Readonly<RenderLimits> = Object.freeze({
  contentChars: 2_000,
  reserveChars: 80,
  outputPieces: 5,
  rowsPerMessage: 5,
  buttonsPerRow: 5,
  buttonLabelChars: 80,
  customIdChars: 100,
  filesPerMessage: 10,
  fileBytes: 8 * 1024 * 1024,
});
