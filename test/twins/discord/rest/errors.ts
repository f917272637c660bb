/**
 * Discord's JSON error bodies. discord.js turns `{message, code, errors}` into a DiscordAPIError whose `code` and
 * `status` the bot under test branches on, so both must match what Discord sends.
 */

export interface FieldError {
  code: string;
  message: string;
}

/** Nested like Discord's: `{ embeds: { '0': { description: { _errors: [...] } } } }`. */
export type FormErrors = { [key: string]: FormErrors | FieldError[] };

export class DiscordHttpError extends Error {
  override name = 'DiscordHttpError';

  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: FormErrors,
  ) {
    super(message);
  }

  body(): { message: string; code: number; errors?: FormErrors } {
    return { message: this.message, code: this.code, ...(this.errors ? { errors: this.errors } : {}) };
  }
}

/** Collects field errors while validating, so one 50035 lists every problem, as Discord's does. */
export class FormErrorBuilder {
  private readonly root: FormErrors = {};
  private count = 0;

  add(path: ReadonlyArray<string | number>, code: string, message: string): void {
    let node = this.root;
    for (const key of path) {
      const next = node[String(key)];
      if (!next || Array.isArray(next)) node[String(key)] = {};
      node = node[String(key)] as FormErrors;
    }
    const list = (node._errors as FieldError[] | undefined) ?? [];
    list.push({ code, message });
    node._errors = list;
    this.count++;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  toError(): DiscordHttpError | null {
    return this.empty ? null : errors.invalidFormBody(this.root);
  }
}

export const errors = {
  unauthorized: () => new DiscordHttpError(401, 0, '401: Unauthorized'),
  notFound: () => new DiscordHttpError(404, 0, '404: Not Found'),
  unknownChannel: () => new DiscordHttpError(404, 10003, 'Unknown Channel'),
  unknownMessage: () => new DiscordHttpError(404, 10008, 'Unknown Message'),
  unknownWebhook: () => new DiscordHttpError(404, 10015, 'Unknown Webhook'),
  unknownApplicationCommand: () => new DiscordHttpError(404, 10063, 'Unknown application command'),
  unknownInteraction: () => new DiscordHttpError(404, 10062, 'Unknown interaction'),
  unknownGuild: () => new DiscordHttpError(404, 10004, 'Unknown Guild'),
  unknownMember: () => new DiscordHttpError(404, 10007, 'Unknown Member'),
  unknownUser: () => new DiscordHttpError(404, 10013, 'Unknown User'),
  unknownEmoji: () => new DiscordHttpError(400, 10014, 'Unknown Emoji'),
  missingAccess: () => new DiscordHttpError(403, 50001, 'Missing Access'),
  cannotEditOthersMessage: () => new DiscordHttpError(403, 50005, 'Cannot edit a message authored by another user'),
  emptyMessage: () => new DiscordHttpError(400, 50006, 'Cannot send an empty message'),
  wrongChannelType: () => new DiscordHttpError(400, 50024, 'Cannot execute action on this channel type'),
  invalidWebhookToken: () => new DiscordHttpError(401, 50027, 'Invalid Webhook Token'),
  alreadyAcknowledged: () => new DiscordHttpError(400, 40060, 'Interaction has already been acknowledged.'),
  requestTooLarge: () => new DiscordHttpError(413, 40005, 'Request entity too large'),
  threadAlreadyCreated: () => new DiscordHttpError(400, 160004, 'A thread has already been created for this message'),
  invalidFormBody: (fields: FormErrors) => new DiscordHttpError(400, 50035, 'Invalid Form Body', fields),
  /** A single-field 50035, for checks that stop at the first problem. */
  invalidField: (path: ReadonlyArray<string | number>, code: string, message: string) => {
    const builder = new FormErrorBuilder();
    builder.add(path, code, message);
    return builder.toError()!;
  },
};
