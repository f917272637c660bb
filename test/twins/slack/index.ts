/** The Slack twin's public surface. Import from here, not from the modules behind it. */
export { startSlackTwin, SlackTwin, type SlackTwinOptions } from './twin.js';
export { SlackUser, listButtons } from './user.js';
export type { FileDownload, ShareFile } from './shared-files.js';
export type {
  ActOptions,
  ButtonSelector,
  CommandOptions,
  InvocationResult,
  SayOptions,
  SayResult,
  SubscribedEvent,
} from './user.js';
export type { ViaOption } from './delivery.js';
export { SLACK_EVENT_RETRIES, type EventAttempt, type EventRetryPolicy, type LostStage, type RetryReason } from './event-retries.js';
export type {
  ApiCallFilter,
  EphemeralFilter,
  FileFilter,
  MessageFilter,
  ResponseFilter,
  WaitOptions,
} from './queries.js';
export type { FailureSpec } from './rate-limiter.js';
export { computeSlackSignature, slackSignatureHeaders, type Signing } from './signing.js';
export { checkMessageLimits, SLACK_LIMITS, MESSAGE_BLOCK_TYPES } from './limits.js';
export { renderVisibleText } from './render-blocks.js';
export { normalizeDurations, type TranscriptOptions } from './transcript.js';
export { TwinClosedError, WaitTimeoutError } from './change-signal.js';
export { SocketAckTimeoutError } from './socket-mode.js';
export type { BotIdentity, ChannelInfo, TeamIdentity, UserInfo } from './workspace.js';
export type * from './types.js';
