import {
  GatewayDispatchEvents,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  type APIApplicationCommandOptionChoice,
  type RESTPostAPIInteractionCallbackWithResponseResult,
} from 'discord-api-types/v10';
import { apiMessage, type MessageContext } from '../payloads/messages.js';
import { errors } from '../rest/errors.js';
import type { UploadedFile } from '../rest/request.js';
import { json, noContent, type RouteResult } from '../rest/routing.js';
import type { InteractionKind, InteractionRecord, MessageRecord, World } from '../world.js';
import type { Dispatcher, MessageBody, MessageService } from './messages.js';

/**
 * The interaction lifecycle as Discord enforces it: one callback within the deadline (else 10062), never two
 * (40060), then the webhook token for @original edits and follow-ups until it expires. What the user ends up
 * seeing is kept on the record (`originalMessageId`, `answered`) for `waitForReply()`.
 */

export interface InteractionDeps {
  world: World;
  gateway: Dispatcher;
  messages: MessageService;
  ctx: MessageContext;
  deadlineMs: number;
  tokenTtlMs: number;
  newToken: () => string;
}

export interface InteractionStart {
  kind: InteractionKind;
  guildId: string;
  channelId: string;
  userId: string;
  summary: string;
  commandId?: string;
  commandName?: string;
  customId?: string;
  componentType?: number;
  sourceMessageId?: string;
}

interface CallbackBody {
  type?: number;
  data?: MessageBody & { choices?: APIApplicationCommandOptionChoice[]; custom_id?: string; title?: string };
}

const ALLOWED_CALLBACKS: Record<InteractionKind, readonly number[]> = {
  command: [InteractionResponseType.ChannelMessageWithSource, InteractionResponseType.DeferredChannelMessageWithSource, InteractionResponseType.Modal],
  component: [
    InteractionResponseType.ChannelMessageWithSource,
    InteractionResponseType.DeferredChannelMessageWithSource,
    InteractionResponseType.DeferredMessageUpdate,
    InteractionResponseType.UpdateMessage,
    InteractionResponseType.Modal,
  ],
  autocomplete: [InteractionResponseType.ApplicationCommandAutocompleteResult],
};

export class InteractionService {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: InteractionDeps) {}

  /** Creates the record and sends INTERACTION_CREATE built from it. */
  start(start: InteractionStart, build: (record: InteractionRecord) => unknown): InteractionRecord {
    const { world } = this.deps;
    const record: InteractionRecord = {
      id: world.newId(),
      token: this.deps.newToken(),
      kind: start.kind,
      guildId: start.guildId,
      channelId: start.channelId,
      userId: start.userId,
      commandId: start.commandId ?? null,
      commandName: start.commandName ?? null,
      summary: start.summary,
      customId: start.customId ?? null,
      componentType: start.componentType ?? null,
      sourceMessageId: start.sourceMessageId ?? null,
      createdAt: world.now(),
      seq: world.nextSeq(),
      callbacks: [],
      acknowledged: false,
      answered: false,
      originalMessageId: null,
      followUpIds: [],
      choices: null,
      modal: null,
    };
    const payload = build(record);
    world.interactions.set(record.id, record);
    world.interactionsByToken.set(record.token, record);
    this.deps.gateway.dispatch(GatewayDispatchEvents.InteractionCreate, payload);
    this.wakeAtDeadline(record);
    world.emit({ kind: 'interaction-created', interaction: record });
    return record;
  }

  /**
   * Wake waiters when the deadline passes, so waitForReply() fails at once with "did not respond". Re-armed
   * until the clock agrees, because timers and an injected clock need not tick together.
   */
  private wakeAtDeadline(record: InteractionRecord): void {
    const remaining = record.createdAt + this.deps.deadlineMs + 1 - this.deps.world.now();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.isPastDeadline(record)) this.deps.world.emit({ kind: 'interaction-updated', interaction: record });
      else this.wakeAtDeadline(record);
    }, Math.max(remaining, 1));
    timer.unref();
    this.timers.add(timer);
  }

  /** Past the deadline without an acknowledgement: Discord shows "The application did not respond". */
  isExpired(record: InteractionRecord): boolean {
    return !record.acknowledged && this.isPastDeadline(record);
  }

  /** The window for the first callback is over, whether or not the bot used it. */
  isPastDeadline(record: InteractionRecord): boolean {
    return this.deps.world.now() - record.createdAt > this.deps.deadlineMs;
  }

  callback(id: string, token: string, rawBody: unknown, files: UploadedFile[], withResponse: boolean): RouteResult {
    const { world } = this.deps;
    const record = world.interactions.get(id);
    if (!record || record.token !== token) throw errors.unknownInteraction();
    const body = (rawBody ?? {}) as CallbackBody;
    const type = body.type ?? -1;
    const entry = { type, data: body.data, at: world.now(), status: 0, errorCode: null as number | null };
    record.callbacks.push(entry);
    try {
      const result = this.acknowledge(record, type, body.data ?? {}, files, withResponse);
      entry.status = result.status;
      return result;
    } catch (error) {
      entry.status = (error as { status?: number }).status ?? 500;
      entry.errorCode = (error as { code?: number }).code ?? null;
      throw error;
    } finally {
      world.emit({ kind: 'interaction-updated', interaction: record });
    }
  }

  private acknowledge(record: InteractionRecord, type: number, data: NonNullable<CallbackBody['data']>, files: UploadedFile[], withResponse: boolean): RouteResult {
    const { world, messages } = this.deps;
    if (record.acknowledged) throw errors.alreadyAcknowledged();
    if (this.isExpired(record)) throw errors.unknownInteraction();
    if (!ALLOWED_CALLBACKS[record.kind].includes(type)) {
      throw errors.invalidField(['type'], 'INTERACTION_RESPONSE_TYPE_INVALID', `Interaction response type ${type} is not valid for a ${record.kind} interaction.`);
    }
    let message: MessageRecord | undefined;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource:
        message = messages.create(record.channelId, data, files, { source: 'interaction-response', interactionId: record.id, allowEphemeral: true });
        record.originalMessageId = message.id;
        record.answered = true;
        break;
      case InteractionResponseType.DeferredChannelMessageWithSource:
        message = messages.create(record.channelId, { flags: data.flags ?? 0 }, [], {
          source: 'interaction-response',
          interactionId: record.id,
          allowEphemeral: true,
          loading: true,
        });
        record.originalMessageId = message.id;
        break;
      case InteractionResponseType.DeferredMessageUpdate:
        record.originalMessageId = record.sourceMessageId;
        break;
      case InteractionResponseType.UpdateMessage: {
        const source = world.messages.get(record.sourceMessageId ?? '');
        if (!source) throw errors.unknownMessage();
        message = messages.edit(source, data, files);
        record.originalMessageId = source.id;
        record.answered = true;
        break;
      }
      case InteractionResponseType.ApplicationCommandAutocompleteResult:
        record.choices = validateChoices(data.choices ?? []);
        break;
      case InteractionResponseType.Modal:
        if (!data.custom_id || !data.title) throw errors.invalidField(['data'], 'BASE_TYPE_REQUIRED', 'A modal needs custom_id and title.');
        record.modal = structuredClone(data);
        break;
    }
    record.acknowledged = true;
    if (!withResponse) return noContent();
    const result: RESTPostAPIInteractionCallbackWithResponseResult = {
      interaction: {
        id: record.id,
        type: interactionType(record.kind),
        ...(message ? { response_message_id: message.id, response_message_loading: message.loading, response_message_ephemeral: (message.flags & MessageFlags.Ephemeral) !== 0 } : {}),
      },
      resource: { type, ...(message ? { message: apiMessage(this.deps.ctx, message) } : {}) },
    };
    return json(result);
  }

  /** The interaction a webhook route refers to; Discord's errors for unknown, foreign and expired tokens. */
  private byToken(applicationId: string, token: string): InteractionRecord {
    const record = this.deps.world.interactionsByToken.get(token);
    if (!record || applicationId !== this.deps.world.applicationId) throw errors.unknownWebhook();
    if (this.deps.world.now() - record.createdAt > this.deps.tokenTtlMs) throw errors.invalidWebhookToken();
    return record;
  }

  private messageFor(record: InteractionRecord, messageId: string): MessageRecord {
    const id = messageId === '@original' ? record.originalMessageId : messageId;
    if (!record.acknowledged || !id) throw errors.unknownMessage();
    if (id !== record.originalMessageId && !record.followUpIds.includes(id)) throw errors.unknownMessage();
    const message = this.deps.world.messages.get(id);
    if (!message || message.deleted) throw errors.unknownMessage();
    return message;
  }

  getMessage(applicationId: string, token: string, messageId: string): RouteResult {
    const record = this.byToken(applicationId, token);
    return json(apiMessage(this.deps.ctx, this.messageFor(record, messageId)));
  }

  editMessage(applicationId: string, token: string, messageId: string, body: unknown, files: UploadedFile[]): RouteResult {
    const record = this.byToken(applicationId, token);
    const message = this.messageFor(record, messageId);
    this.deps.messages.edit(message, (body ?? {}) as MessageBody, files);
    if (message.id === record.originalMessageId) record.answered = true;
    this.deps.world.emit({ kind: 'interaction-updated', interaction: record });
    return json(apiMessage(this.deps.ctx, message));
  }

  deleteMessage(applicationId: string, token: string, messageId: string): RouteResult {
    const record = this.byToken(applicationId, token);
    this.deps.messages.delete(this.messageFor(record, messageId));
    this.deps.world.emit({ kind: 'interaction-updated', interaction: record });
    return noContent();
  }

  /**
   * A follow-up. Right after a deferred reply, Discord uses the first follow-up to fill in the "thinking…"
   * message instead of posting a new one; bots that defer and then followUp() rely on that.
   */
  followUp(applicationId: string, token: string, rawBody: unknown, files: UploadedFile[], wait: boolean): RouteResult {
    const { world, messages } = this.deps;
    const record = this.byToken(applicationId, token);
    if (!record.acknowledged) throw errors.unknownWebhook();
    const body = (rawBody ?? {}) as MessageBody;
    const original = record.originalMessageId ? world.messages.get(record.originalMessageId) : undefined;
    let message: MessageRecord;
    if (original?.loading && !original.deleted) {
      const { flags: _ignored, ...rest } = body;
      message = messages.edit(original, rest, files);
      record.answered = true;
    } else {
      message = messages.create(record.channelId, body, files, { source: 'follow-up', interactionId: record.id, allowEphemeral: true });
      record.followUpIds.push(message.id);
    }
    world.emit({ kind: 'interaction-updated', interaction: record });
    return wait ? json(apiMessage(this.deps.ctx, message)) : noContent();
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

function interactionType(kind: InteractionKind): InteractionType {
  if (kind === 'component') return InteractionType.MessageComponent;
  if (kind === 'autocomplete') return InteractionType.ApplicationCommandAutocomplete;
  return InteractionType.ApplicationCommand;
}

function validateChoices(choices: APIApplicationCommandOptionChoice[]): APIApplicationCommandOptionChoice[] {
  if (choices.length > 25) throw errors.invalidField(['data', 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  choices.forEach((choice, i) => {
    if (!choice.name || choice.name.length > 100) {
      throw errors.invalidField(['data', 'choices', i, 'name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    if (typeof choice.value === 'string' && choice.value.length > 100) {
      throw errors.invalidField(['data', 'choices', i, 'value'], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
    }
  });
  return structuredClone(choices);
}
