import { ButtonStyle, ComponentType, MessageFlags, type APIAllowedMentions, type APIEmbed } from 'discord-api-types/v10';
import { errors, FormErrorBuilder, type DiscordHttpError } from './errors.js';

/**
 * Discord's message limits, checked on the message as it would end up (a create, or an edit merged onto the old
 * message). A bot that splits long output wrongly sees the same 50035/50006 here as it would in production.
 */

export const LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedFooter: 2048,
  embedAuthor: 256,
  embedTotal: 6000,
  actionRows: 5,
  componentsPerRow: 5,
  customId: 100,
  buttonLabel: 80,
  attachments: 10,
  allowedMentionIds: 100,
} as const;

export interface MessageDraft {
  content: string;
  embeds: APIEmbed[];
  components: unknown[];
  attachmentCount: number;
  flags: number;
  allowedMentions: APIAllowedMentions | undefined;
  /** Stickers and polls also make a message non-empty; the twin only records that they were there. */
  hasOtherContent?: boolean;
}

export function validateMessage(draft: MessageDraft): DiscordHttpError | null {
  const form = new FormErrorBuilder();
  if (draft.content.length > LIMITS.content) form.add(['content'], 'BASE_TYPE_MAX_LENGTH', `Must be ${LIMITS.content} or fewer in length.`);
  validateEmbeds(draft.embeds, form);
  if ((draft.flags & MessageFlags.IsComponentsV2) === 0) validateActionRows(draft.components, form);
  if (draft.attachmentCount > LIMITS.attachments) form.add(['attachments'], 'BASE_TYPE_MAX_LENGTH', `Must be ${LIMITS.attachments} or fewer in length.`);
  validateAllowedMentions(draft.allowedMentions, form);
  const formError = form.toError();
  if (formError) return formError;
  // Discord trims before deciding a message is empty: whitespace alone is rejected.
  const empty =
    draft.content.trim() === '' &&
    draft.embeds.length === 0 &&
    draft.components.length === 0 &&
    draft.attachmentCount === 0 &&
    !draft.hasOtherContent;
  return empty ? errors.emptyMessage() : null;
}

function validateEmbeds(embeds: APIEmbed[], form: FormErrorBuilder): void {
  if (embeds.length > LIMITS.embeds) {
    form.add(['embeds'], 'BASE_TYPE_MAX_LENGTH', `Must be ${LIMITS.embeds} or fewer in length.`);
    return;
  }
  let total = 0;
  embeds.forEach((embed, i) => {
    const max = (path: Array<string | number>, value: string | undefined, limit: number) => {
      if (value === undefined) return;
      total += value.length;
      if (value.length > limit) form.add(['embeds', i, ...path], 'BASE_TYPE_MAX_LENGTH', `Must be ${limit} or fewer in length.`);
    };
    max(['title'], embed.title, LIMITS.embedTitle);
    max(['description'], embed.description, LIMITS.embedDescription);
    max(['footer', 'text'], embed.footer?.text, LIMITS.embedFooter);
    max(['author', 'name'], embed.author?.name, LIMITS.embedAuthor);
    const fields = embed.fields ?? [];
    if (fields.length > LIMITS.embedFields) form.add(['embeds', i, 'fields'], 'BASE_TYPE_MAX_LENGTH', `Must be ${LIMITS.embedFields} or fewer in length.`);
    fields.forEach((field, j) => {
      max(['fields', j, 'name'], field.name, LIMITS.embedFieldName);
      max(['fields', j, 'value'], field.value, LIMITS.embedFieldValue);
    });
  });
  if (total > LIMITS.embedTotal) form.add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', `Embed size exceeds maximum size of ${LIMITS.embedTotal}`);
}

interface LooseComponent {
  type?: number;
  custom_id?: string;
  label?: string;
  style?: number;
  url?: string;
  sku_id?: string;
  components?: LooseComponent[];
}

function validateActionRows(components: unknown[], form: FormErrorBuilder): void {
  if (components.length > LIMITS.actionRows) {
    form.add(['components'], 'BASE_TYPE_MAX_LENGTH', `Must be ${LIMITS.actionRows} or fewer in length.`);
    return;
  }
  const seen = new Set<string>();
  (components as LooseComponent[]).forEach((row, i) => {
    if (row.type !== ComponentType.ActionRow) {
      form.add(['components', i, 'type'], 'UNION_TYPE_CHOICES', 'Top-level components must be action rows unless the IS_COMPONENTS_V2 flag is set.');
      return;
    }
    const children = row.components ?? [];
    if (children.length === 0 || children.length > LIMITS.componentsPerRow) {
      form.add(['components', i, 'components'], children.length === 0 ? 'BASE_TYPE_MIN_LENGTH' : 'BASE_TYPE_MAX_LENGTH', children.length === 0 ? 'Must be 1 or more in length.' : `Must be ${LIMITS.componentsPerRow} or fewer in length.`);
    }
    const hasSelect = children.some((c) => c.type !== ComponentType.Button);
    if (hasSelect && children.length > 1) {
      form.add(['components', i, 'components'], 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'The specified component exceeds the maximum width');
    }
    children.forEach((child, j) => {
      const path = ['components', i, 'components', j];
      const isLink = child.type === ComponentType.Button && (child.style === ButtonStyle.Link || child.style === ButtonStyle.Premium);
      if (child.type === ComponentType.Button && child.label !== undefined && child.label.length > LIMITS.buttonLabel) {
        form.add([...path, 'label'], 'BASE_TYPE_MAX_LENGTH', `Must be ${LIMITS.buttonLabel} or fewer in length.`);
      }
      if (isLink) {
        if (child.style === ButtonStyle.Link && !child.url) form.add([...path, 'url'], 'BASE_TYPE_REQUIRED', 'This field is required');
        return;
      }
      if (!child.custom_id) {
        form.add([...path, 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required');
        return;
      }
      if (child.custom_id.length > LIMITS.customId) form.add([...path, 'custom_id'], 'BASE_TYPE_MAX_LENGTH', `Must be ${LIMITS.customId} or fewer in length.`);
      if (seen.has(child.custom_id)) form.add([...path, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
      seen.add(child.custom_id);
    });
  });
}

function validateAllowedMentions(allowed: APIAllowedMentions | undefined, form: FormErrorBuilder): void {
  if (!allowed) return;
  const parse: readonly string[] = allowed.parse ?? [];
  for (const kind of ['users', 'roles'] as const) {
    const ids = allowed[kind] ?? [];
    if (parse.includes(kind) && ids.length > 0) {
      form.add(['allowed_mentions'], 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE', `parse:["${kind}"] and ${kind}: [ids...] are mutually exclusive.`);
    }
    if (ids.length > LIMITS.allowedMentionIds) form.add(['allowed_mentions', kind], 'BASE_TYPE_MAX_LENGTH', `Must be ${LIMITS.allowedMentionIds} or fewer in length.`);
  }
}
