import { ChangeSignal } from './change-signal.js';
import type { IdSource } from './ids.js';
import { deepFreeze } from './freeze.js';
import type {
  Ack,
  ApiCall,
  Block,
  MessageSource,
  MessageVersion,
  SocketEnvelope,
  Via,
} from './types.js';

/**
 * The twin's memory: what Slack would have stored, plus everything that was attempted. Records here are mutable
 * and internal; tests only ever see frozen snapshots (snapshots.ts). Every mutation goes through a method so that
 * it can `notify()` the change signal that pending waits listen on.
 */
export interface MessageRecord {
  channel: string;
  ts: string;
  threadTs: string | undefined;
  user: string;
  botId: string | undefined;
  text: string;
  blocks: Block[] | undefined;
  fileIds: string[];
  edits: MessageVersion[];
  deleted: boolean;
  replyBroadcast: boolean;
  source: MessageSource;
  seq: number;
  args: Record<string, unknown>;
}

export interface EphemeralRecord {
  channel: string;
  user: string;
  ts: string;
  threadTs: string | undefined;
  text: string;
  blocks: Block[] | undefined;
  source: 'chat.postEphemeral' | 'response_url' | 'ack';
  seq: number;
}

export interface FileRecord {
  id: string;
  filename: string;
  title: string;
  content: Buffer;
  declaredLength: number;
  altText: string | undefined;
  snippetType: string | undefined;
  channel: string | undefined;
  threadTs: string | undefined;
  initialComment: string | undefined;
  messageTs: string | undefined;
  uploaded: boolean;
  completed: boolean;
  seq: number;
}

export interface InvocationRecord {
  id: string;
  kind: 'command' | 'action' | 'event';
  user: string;
  channel: string;
  via: Via;
  seq: number;
  command: string | undefined;
  text: string | undefined;
  actionId: string | undefined;
  value: string | undefined;
  messageTs: string | undefined;
  threadTs: string | undefined;
  responseUrl: string | undefined;
  triggerId: string | undefined;
  ack: Ack | undefined;
  responseUrlUses: number;
}

export interface ResponseRecord {
  seq: number;
  invocationId: string;
  body: Record<string, unknown>;
  status: number;
}

export interface EnvelopeRecord {
  envelopeId: string;
  type: SocketEnvelope['type'];
  payload: Record<string, unknown>;
  ackPayload: Record<string, unknown> | undefined;
  acked: boolean;
}

export type NewMessage = Omit<MessageRecord, 'ts' | 'seq' | 'edits' | 'deleted' | 'fileIds'> & {
  fileIds?: string[];
};

export class TwinState {
  readonly messages: MessageRecord[] = [];
  readonly ephemerals: EphemeralRecord[] = [];
  readonly files = new Map<string, FileRecord>();
  readonly invocations = new Map<string, InvocationRecord>();
  readonly responses: ResponseRecord[] = [];
  readonly apiCalls: ApiCall[] = [];
  readonly envelopes: EnvelopeRecord[] = [];
  /** Open Socket Mode connections, kept here so waits can watch it change. */
  socketConnections = 0;

  constructor(
    readonly ids: IdSource,
    readonly signal: ChangeSignal = new ChangeSignal(),
  ) {}

  addMessage(input: NewMessage): MessageRecord {
    const record: MessageRecord = {
      ...input,
      fileIds: input.fileIds ?? [],
      ts: this.ids.nextTs(),
      seq: this.ids.nextSeq(),
      edits: [],
      deleted: false,
    };
    this.messages.push(record);
    this.signal.notify();
    return record;
  }

  findMessage(channel: string, ts: string): MessageRecord | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts);
  }

  /** Omitted fields keep their value, as chat.update does; `blocks: []` clears them. */
  editMessage(record: MessageRecord, change: { text?: string; blocks?: Block[] }): void {
    record.edits.push({ text: record.text, blocks: record.blocks, replacedAtSeq: this.ids.nextSeq() });
    if (change.text !== undefined) record.text = change.text;
    if (change.blocks !== undefined) record.blocks = change.blocks.length > 0 ? change.blocks : undefined;
    this.signal.notify();
  }

  deleteMessage(record: MessageRecord): void {
    record.deleted = true;
    this.signal.notify();
  }

  addEphemeral(input: Omit<EphemeralRecord, 'ts' | 'seq'>): EphemeralRecord {
    const record: EphemeralRecord = { ...input, ts: this.ids.nextTs(), seq: this.ids.nextSeq() };
    this.ephemerals.push(record);
    this.signal.notify();
    return record;
  }

  addFile(input: Pick<FileRecord, 'filename' | 'declaredLength' | 'altText' | 'snippetType'>): FileRecord {
    const record: FileRecord = {
      ...input,
      id: this.ids.nextId('F'),
      title: input.filename,
      content: Buffer.alloc(0),
      channel: undefined,
      threadTs: undefined,
      initialComment: undefined,
      messageTs: undefined,
      uploaded: false,
      completed: false,
      seq: this.ids.nextSeq(),
    };
    this.files.set(record.id, record);
    this.signal.notify();
    return record;
  }

  changedFile(): void {
    this.signal.notify();
  }

  addInvocation(input: Omit<InvocationRecord, 'id' | 'seq' | 'ack' | 'responseUrlUses' | 'responseUrl'>, responseUrlFor: (id: string) => string | undefined): InvocationRecord {
    const id = this.ids.nextId('I');
    const record: InvocationRecord = {
      ...input,
      id,
      seq: this.ids.nextSeq(),
      ack: undefined,
      responseUrl: responseUrlFor(id),
      responseUrlUses: 0,
    };
    this.invocations.set(id, record);
    this.signal.notify();
    return record;
  }

  setAck(invocation: InvocationRecord, ack: Ack): void {
    invocation.ack = ack;
    this.signal.notify();
  }

  addResponse(input: Omit<ResponseRecord, 'seq'>): ResponseRecord {
    const record: ResponseRecord = { ...input, seq: this.ids.nextSeq() };
    this.responses.push(record);
    this.signal.notify();
    return record;
  }

  addApiCall(input: Omit<ApiCall, 'seq'>): ApiCall {
    // Cloned and frozen once: nothing references it afterwards, so `apiCalls()` can hand it out directly.
    const record: ApiCall = deepFreeze(structuredClone({ ...input, seq: this.ids.nextSeq() }));
    this.apiCalls.push(record);
    this.signal.notify();
    return record;
  }

  addEnvelope(input: Omit<EnvelopeRecord, 'envelopeId' | 'ackPayload' | 'acked'>): EnvelopeRecord {
    const record: EnvelopeRecord = {
      ...input,
      envelopeId: this.ids.nextId('E'),
      ackPayload: undefined,
      acked: false,
    };
    this.envelopes.push(record);
    this.signal.notify();
    return record;
  }

  ackEnvelope(record: EnvelopeRecord, payload: Record<string, unknown>): void {
    record.acked = true;
    record.ackPayload = payload;
    this.signal.notify();
  }

  setSocketConnections(count: number): void {
    this.socketConnections = count;
    this.signal.notify();
  }
}
