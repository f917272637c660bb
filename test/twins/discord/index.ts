/** The Discord twin's public surface. Import from here, not from the modules behind it. */
export { startDiscordTwin, DiscordTwin, type GatewayFault, type TwinFile } from './twin.js';
export type { DiscordTwinOptions, GuildSpec, ChannelSpec, RoleSpec, MemberSpec } from './options.js';
export { testSnowflake, type TwinClock } from './ids.js';
export { ChannelHandle, UserActor, type UserProfile, type UserFile, type UserMessageInput, type UserMessage } from './actors.js';
export { TwinInteraction, TwinAutocomplete, InteractionFailedError, type ReplyWaitOptions, type FollowUpWaitOptions } from './handles.js';
export type { SlashInvocation, AutocompleteInvocation, SlashOptionValue } from './slash-options.js';
export type { TwinMessage, TwinAttachment, TwinThread, TwinInteractionState } from './snapshots.js';
export type { MessageFilter, ThreadFilter, RestCallFilter } from './queries.js';
export type { RestCall } from './rest/server.js';
export type { RouteMatcher, RequestInfo } from './rest/routing.js';
export type { FailureSpec, InjectedFailure } from './rest/failures.js';
export type { IdentifyRecord, ResumeRecord, GatewayLogEntry } from './gateway/server.js';
export type { CallbackRecord, MessageSource, InteractionKind } from './world.js';
export { validateMessage, LIMITS, type MessageDraft } from './rest/limits.js';
export { normalizeDurations, normalizeSnowflakes, type TranscriptOptions } from './transcript.js';
export { WaitTimeoutError, TwinClosedError, type WaitOptions } from './waiting.js';
