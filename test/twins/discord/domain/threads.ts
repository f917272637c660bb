import { ChannelType, GatewayDispatchEvents, type GatewayThreadCreateDispatchData } from 'discord-api-types/v10';
import { apiChannel, apiThreadChannel } from '../payloads/entities.js';
import { errors } from '../rest/errors.js';
import type { ChannelRecord, World } from '../world.js';
import type { Dispatcher, MessageService } from './messages.js';

/** Threads: created standalone or from a message (then the thread reuses the message's id, as on Discord). */

export interface ThreadRequest {
  name: string;
  /** PublicThread (11) or PrivateThread (12); a thread started from a message is always public. */
  type?: number;
  autoArchiveMinutes?: number;
  fromMessageId?: string;
  creatorId: string;
}

const ARCHIVE_DURATIONS = [60, 1440, 4320, 10080] as const;

export class ThreadService {
  constructor(
    private readonly world: World,
    private readonly gateway: Dispatcher,
    private readonly messages: MessageService,
  ) {}

  create(parentId: string, request: ThreadRequest): ChannelRecord {
    const parent = this.world.channels.get(parentId);
    if (!parent) throw errors.unknownChannel();
    if (parent.kind !== 'text') throw errors.wrongChannelType();
    if (!request.name || request.name.length > 100) {
      throw errors.invalidField(['name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    const starter = request.fromMessageId ? this.world.messages.get(request.fromMessageId) : undefined;
    if (request.fromMessageId) {
      if (!starter || starter.deleted || starter.channelId !== parentId) throw errors.unknownMessage();
      if (starter.threadId) throw errors.threadAlreadyCreated();
    }
    const autoArchive = ARCHIVE_DURATIONS.find((d) => d === request.autoArchiveMinutes) ?? 1440;
    const thread = this.world.addChannel({
      id: starter?.id ?? this.world.newId(),
      guildId: parent.guildId,
      name: request.name,
      kind: !starter && (request.type ?? ChannelType.PrivateThread) === ChannelType.PrivateThread ? 'private-thread' : 'public-thread',
      parentId,
      topic: null,
      ownerId: request.creatorId,
      starterMessageId: starter?.id ?? null,
      archived: false,
      locked: false,
      autoArchiveMinutes: autoArchive,
      createdAt: this.world.now(),
    });
    this.gateway.dispatch(GatewayDispatchEvents.ThreadCreate, {
      ...apiThreadChannel(this.world, thread),
      newly_created: true,
    } satisfies GatewayThreadCreateDispatchData);
    this.world.emit({ kind: 'channel-created', channel: thread });
    if (starter) {
      starter.threadId = thread.id;
      this.messages.announceUpdate(starter);
    }
    return thread;
  }

  update(channel: ChannelRecord, patch: { name?: string; archived?: boolean; locked?: boolean; topic?: string | null }): ChannelRecord {
    if (patch.name !== undefined) channel.name = patch.name;
    if (patch.topic !== undefined && channel.kind === 'text') channel.topic = patch.topic;
    if (channel.kind !== 'text') {
      if (patch.archived !== undefined) channel.archived = patch.archived;
      if (patch.locked !== undefined) channel.locked = patch.locked;
    }
    const event = channel.kind === 'text' ? GatewayDispatchEvents.ChannelUpdate : GatewayDispatchEvents.ThreadUpdate;
    this.gateway.dispatch(event, apiChannel(this.world, channel));
    this.world.emit({ kind: 'channel-updated', channel });
    return channel;
  }
}
