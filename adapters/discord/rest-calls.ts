import { MessageFlags, Routes, type APIChannel, type APIMessage, type REST, type RawFile } from 'discord.js';
import type { MessageDraft } from './render/plan.js';

/**
 * The handful of REST calls delivery makes, through discord.js's own REST client (so its rate-limit queues and
 * retries apply). Every body says `allowed_mentions: {parse: []}`: whatever a message contains, Discord pings
 * nobody, and a reply does not ping the person replied to. Link previews are suppressed, so a URL in an agent's
 * output never unfolds into a card.
 */
export interface DiscordRest {
  /** With a nonce, Discord returns the message already made by an earlier call with it instead of a second one. */
  postMessage(channelId: string, draft: MessageDraft, replyTo?: string, nonce?: string): Promise<string>;
  editOriginal(applicationId: string, token: string, draft: MessageDraft): Promise<string>;
  /** Replaces a message the bot posted (a live card). */
  editMessage(channelId: string, messageId: string, draft: MessageDraft): Promise<void>;
  deleteOriginal(applicationId: string, token: string): Promise<void>;
  followUp(applicationId: string, token: string, draft: MessageDraft, ephemeral: boolean): Promise<string>;
  startThread(channelId: string, messageId: string, name: string): Promise<string>;
}

export const NO_PINGS = Object.freeze({ parse: [] as never[], replied_user: false });

function body(draft: MessageDraft, flags: number): Record<string, unknown> {
  return {
    content: draft.content,
    components: draft.components,
    allowed_mentions: NO_PINGS,
    flags,
    attachments: draft.files.map((file, index) => ({ id: index, filename: file.name })),
  };
}

function files(draft: MessageDraft): RawFile[] {
  return draft.files.map((file, index) => ({ key: `files[${index}]`, name: file.name, data: file.data, contentType: 'text/plain; charset=utf-8' }));
}

export function createDiscordRest(rest: REST): DiscordRest {
  return {
    async postMessage(channelId, draft, replyTo, nonce) {
      const message = (await rest.post(Routes.channelMessages(channelId), {
        body: {
          ...body(draft, MessageFlags.SuppressEmbeds),
          ...(nonce ? { nonce, enforce_nonce: true } : {}),
          // A reply to a `!sb` message that was deleted meanwhile is still worth posting, just without the link.
          ...(replyTo ? { message_reference: { message_id: replyTo, channel_id: channelId, fail_if_not_exists: false } } : {}),
        },
        files: files(draft),
      })) as APIMessage;
      return message.id;
    },
    async editOriginal(applicationId, token, draft) {
      // Interaction webhooks are authenticated by the token in the path, not by the bot token.
      const message = (await rest.patch(Routes.webhookMessage(applicationId, token, '@original'), {
        body: body(draft, MessageFlags.SuppressEmbeds),
        files: files(draft),
        auth: false,
      })) as APIMessage;
      return message.id;
    },
    async editMessage(channelId, messageId, draft) {
      await rest.patch(Routes.channelMessage(channelId, messageId), { body: body(draft, MessageFlags.SuppressEmbeds), files: files(draft) });
    },
    async deleteOriginal(applicationId, token) {
      await rest.delete(Routes.webhookMessage(applicationId, token, '@original'), { auth: false });
    },
    async followUp(applicationId, token, draft, ephemeral) {
      const message = (await rest.post(Routes.webhook(applicationId, token), {
        body: body(draft, MessageFlags.SuppressEmbeds | (ephemeral ? MessageFlags.Ephemeral : 0)),
        files: files(draft),
        query: new URLSearchParams({ wait: 'true' }),
        auth: false,
      })) as APIMessage;
      return message.id;
    },
    async startThread(channelId, messageId, name) {
      const thread = (await rest.post(Routes.threads(channelId, messageId), {
        // A week before it archives itself; a post in an archived thread brings it back.
        body: { name, auto_archive_duration: 10_080 },
      })) as APIChannel;
      return thread.id;
    },
  };
}
