import { deepFreeze } from './freeze.js';
import { renderVisibleText } from './render-blocks.js';
import type {
  EphemeralRecord,
  FileRecord,
  InvocationRecord,
  MessageRecord,
  ResponseRecord,
  EnvelopeRecord,
} from './state.js';
import type {
  EphemeralMessage,
  Invocation,
  ResponsePost,
  SlackFile,
  SlackMessage,
  SocketEnvelope,
  Block,
} from './types.js';

/**
 * Internal record → frozen public value. Copies are deep so a test can keep a value across later edits and
 * compare it with the current one, and cannot corrupt the twin by mutating what it got back.
 */
function cloneJson<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

export function fileSnapshot(f: FileRecord): SlackFile {
  return Object.freeze({
    id: f.id,
    filename: f.filename,
    title: f.title,
    // Buffers cannot be frozen, so hand out a copy instead.
    content: Buffer.from(f.content),
    text: f.content.toString('utf8'),
    declaredLength: f.declaredLength,
    altText: f.altText,
    snippetType: f.snippetType,
    channel: f.channel,
    threadTs: f.threadTs,
    initialComment: f.initialComment,
    messageTs: f.messageTs,
    uploaded: f.uploaded,
    completed: f.completed,
    seq: f.seq,
  });
}

export function messageSnapshot(m: MessageRecord, files: ReadonlyMap<string, FileRecord>): SlackMessage {
  const blocks = cloneJson(m.blocks) as Block[] | undefined;
  return deepFreeze({
    channel: m.channel,
    ts: m.ts,
    threadTs: m.threadTs,
    user: m.user,
    botId: m.botId,
    text: m.text,
    blocks,
    visibleText: renderVisibleText(m.text, blocks),
    files: m.fileIds.flatMap((id) => {
      const f = files.get(id);
      return f ? [fileSnapshot(f)] : [];
    }),
    edits: cloneJson(m.edits),
    edited: m.edits.length > 0,
    deleted: m.deleted,
    replyBroadcast: m.replyBroadcast,
    source: m.source,
    seq: m.seq,
    args: cloneJson(m.args),
  });
}

export function ephemeralSnapshot(e: EphemeralRecord): EphemeralMessage {
  const blocks = cloneJson(e.blocks);
  return deepFreeze({ ...e, blocks, visibleText: renderVisibleText(e.text, blocks) });
}

export function invocationSnapshot(i: InvocationRecord): Invocation {
  const { responseUrlUses: _uses, ...rest } = i;
  return deepFreeze(cloneJson(rest));
}

export function responseSnapshot(r: ResponseRecord, invocation: InvocationRecord): ResponsePost {
  const body = cloneJson(r.body);
  const responseType = body['response_type'] === 'in_channel' ? 'in_channel' : 'ephemeral';
  return deepFreeze({
    seq: r.seq,
    invocationId: r.invocationId,
    invocation: invocationSnapshot(invocation),
    body,
    text: typeof body['text'] === 'string' ? body['text'] : undefined,
    blocks: Array.isArray(body['blocks']) ? (body['blocks'] as Block[]) : undefined,
    responseType,
    replaceOriginal: body['replace_original'] === true || body['replace_original'] === 'true',
    deleteOriginal: body['delete_original'] === true || body['delete_original'] === 'true',
    status: r.status,
  });
}

export function envelopeSnapshot(e: EnvelopeRecord): SocketEnvelope {
  return deepFreeze(cloneJson(e));
}
