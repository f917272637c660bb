import { z } from 'zod';

/**
 * Shapes of the Web API arguments the twin understands, after JSON fields were decoded. They exist to catch adapter
 * mistakes early (blocks that are not objects with a `type`, a number where Slack wants a ts string), so they are
 * strict where Slack is strict and lenient about everything the twin does not model.
 */

/** Form encoding turns every scalar into a string; JSON keeps real booleans. */
const formBoolean = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === '1');

const formNumber = z.union([z.number(), z.string().regex(/^\d+$/)]).transform((v) => Number(v));

/** Slack ts: seconds, a dot, microseconds. web-api only warns about non-strings; Slack itself rejects them. */
const ts = z.string().regex(/^\d+\.\d+$/, 'must be a Slack ts like "1700000000.000100"');

export const blockSchema = z.looseObject({ type: z.string().min(1), block_id: z.string().optional() });
export const blocksSchema = z.array(blockSchema);

const messageContent = {
  text: z.string().optional(),
  blocks: blocksSchema.optional(),
  attachments: z.array(z.looseObject({})).optional(),
  mrkdwn: formBoolean.optional(),
  metadata: z.looseObject({ event_type: z.string(), event_payload: z.looseObject({}) }).optional(),
};

export const postMessageArgs = z.object({
  channel: z.string().optional(),
  thread_ts: ts.optional(),
  reply_broadcast: formBoolean.optional(),
  unfurl_links: formBoolean.optional(),
  unfurl_media: formBoolean.optional(),
  username: z.string().optional(),
  icon_emoji: z.string().optional(),
  icon_url: z.string().optional(),
  ...messageContent,
});

export const updateArgs = z.object({
  channel: z.string().optional(),
  ts: ts,
  reply_broadcast: formBoolean.optional(),
  ...messageContent,
});

export const postEphemeralArgs = z.object({
  channel: z.string().optional(),
  user: z.string().min(1),
  thread_ts: ts.optional(),
  ...messageContent,
});

export const deleteArgs = z.object({
  channel: z.string().optional(),
  ts: ts,
});

export const conversationsInfoArgs = z.object({ channel: z.string().optional() });

export const usersInfoArgs = z.object({ user: z.string().min(1) });

export const getUploadUrlArgs = z.object({
  filename: z.string().min(1),
  length: formNumber,
  alt_text: z.string().optional(),
  snippet_type: z.string().optional(),
});

export const completeUploadArgs = z.object({
  files: z.array(z.object({ id: z.string().min(1), title: z.string().optional() })).min(1),
  channel_id: z.string().optional(),
  channels: z.string().optional(),
  thread_ts: ts.optional(),
  initial_comment: z.string().optional(),
  blocks: blocksSchema.optional(),
});

/** The JSON `respond()` posts to a response_url. */
export const responseUrlBody = z.looseObject({
  text: z.string().optional(),
  blocks: blocksSchema.optional(),
  response_type: z.enum(['ephemeral', 'in_channel']).optional(),
  replace_original: formBoolean.optional(),
  delete_original: formBoolean.optional(),
  thread_ts: ts.optional(),
});

/** The app's Socket Mode ack frame. */
export const socketAckFrame = z.object({
  envelope_id: z.string().min(1),
  payload: z.looseObject({}).optional(),
});

export type ZodIssueList = readonly z.core.$ZodIssue[];

/** Slack reports malformed blocks as `invalid_blocks_format`, other bad arguments as `invalid_arguments`. */
export function slackErrorForIssues(issues: ZodIssueList): { error: string; messages: string[] } {
  const blocksIssue = issues.some((issue) => issue.path[0] === 'blocks');
  const messages = issues.map(
    (issue) => `[ERROR] ${issue.message} [json-pointer:/${issue.path.map(String).join('/')}]`,
  );
  return { error: blocksIssue ? 'invalid_blocks_format' : 'invalid_arguments', messages };
}
