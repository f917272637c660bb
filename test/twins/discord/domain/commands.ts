import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  type APIApplicationCommand,
  type APIApplicationCommandOption,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { errors, FormErrorBuilder } from '../rest/errors.js';
import type { CommandRecord, World } from '../world.js';

/**
 * Application command registration (global and per guild). Stored as Discord returns them, so the ids and
 * versions the bot gets back are the ones INTERACTION_CREATE later carries in `data.id`.
 */

export type CommandScope = 'global' | { guildId: string };

const NAME = /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
/** Discord's cap on one command's names, descriptions and choices together (today's docs). */
const MAX_COMMAND_SIZE = 8_000;

export class CommandRegistry {
  constructor(private readonly world: World) {}

  list(scope: CommandScope): APIApplicationCommand[] {
    return this.world.commands.filter((c) => sameScope(c.scope, scope)).map((c) => structuredClone(c.command));
  }

  /** What a user in `guildId` can invoke: guild commands shadow global ones of the same name. */
  find(guildId: string, name: string): APIApplicationCommand | undefined {
    return (
      this.world.commands.find((c) => sameScope(c.scope, { guildId }) && c.command.name === name)?.command ??
      this.world.commands.find((c) => c.scope === 'global' && c.command.name === name)?.command
    );
  }

  names(guildId: string): string[] {
    return this.world.commands.filter((c) => c.scope === 'global' || sameScope(c.scope, { guildId })).map((c) => c.command.name);
  }

  /** PUT: the body replaces the whole set; names that survive keep their ids, as on Discord. */
  overwrite(scope: CommandScope, bodies: unknown): APIApplicationCommand[] {
    if (!Array.isArray(bodies)) throw errors.invalidField([], 'BASE_TYPE_ARRAY', 'Must be an array.');
    if (bodies.length > 100) throw errors.invalidField([], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
    const form = new FormErrorBuilder();
    bodies.forEach((body, i) => validateCommand(body as RESTPostAPIApplicationCommandsJSONBody, [i], form));
    const invalid = form.toError();
    if (invalid) throw invalid;
    const previous = this.world.commands.filter((c) => sameScope(c.scope, scope));
    const next = (bodies as RESTPostAPIApplicationCommandsJSONBody[]).map((body) =>
      this.toRecord(scope, body, previous.find((p) => p.command.name === body.name)?.command.id),
    );
    this.replaceScope(scope, next);
    return next.map((c) => structuredClone(c.command));
  }

  /** POST: create, or update the command with the same name. */
  upsert(scope: CommandScope, body: unknown): { command: APIApplicationCommand; created: boolean } {
    const form = new FormErrorBuilder();
    validateCommand(body as RESTPostAPIApplicationCommandsJSONBody, [], form);
    const invalid = form.toError();
    if (invalid) throw invalid;
    const typed = body as RESTPostAPIApplicationCommandsJSONBody;
    const current = this.world.commands.filter((c) => sameScope(c.scope, scope));
    const existing = current.find((c) => c.command.name === typed.name);
    const record = this.toRecord(scope, typed, existing?.command.id);
    this.replaceScope(scope, existing ? current.map((c) => (c === existing ? record : c)) : [...current, record]);
    return { command: structuredClone(record.command), created: !existing };
  }

  remove(scope: CommandScope, commandId: string): void {
    const current = this.world.commands.filter((c) => sameScope(c.scope, scope));
    if (!current.some((c) => c.command.id === commandId)) throw errors.unknownApplicationCommand();
    this.replaceScope(scope, current.filter((c) => c.command.id !== commandId));
  }

  private replaceScope(scope: CommandScope, records: CommandRecord[]): void {
    const others = this.world.commands.filter((c) => !sameScope(c.scope, scope));
    this.world.commands.splice(0, this.world.commands.length, ...others, ...records);
    this.world.emit({ kind: 'commands-changed' });
  }

  private toRecord(scope: CommandScope, body: RESTPostAPIApplicationCommandsJSONBody, id: string | undefined): CommandRecord {
    const command: APIApplicationCommand = {
      ...structuredClone(body),
      id: id ?? this.world.newId(),
      application_id: this.world.applicationId,
      type: body.type ?? ApplicationCommandType.ChatInput,
      name: body.name,
      description: 'description' in body && body.description ? body.description : '',
      default_member_permissions: body.default_member_permissions ?? null,
      nsfw: body.nsfw ?? false,
      integration_types: body.integration_types ?? [ApplicationIntegrationType.GuildInstall],
      contexts: body.contexts ?? null,
      version: this.world.newId(),
      ...(scope === 'global' ? {} : { guild_id: scope.guildId }),
    } as APIApplicationCommand;
    return { scope, command };
  }
}

function sameScope(a: CommandScope, b: CommandScope): boolean {
  return a === 'global' ? b === 'global' : b !== 'global' && a.guildId === b.guildId;
}

function validateCommand(body: RESTPostAPIApplicationCommandsJSONBody, path: Array<string | number>, form: FormErrorBuilder): void {
  if (!body || typeof body !== 'object') {
    form.add(path, 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
    return;
  }
  const chatInput = (body.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput;
  if (typeof body.name !== 'string' || !NAME.test(body.name) || (chatInput && body.name !== body.name.toLowerCase())) {
    form.add([...path, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
  }
  if (chatInput) {
    const description = 'description' in body ? body.description : undefined;
    if (typeof description !== 'string' || description.length < 1 || description.length > 100) {
      form.add([...path, 'description'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    validateOptions(('options' in body ? body.options : undefined) ?? [], [...path, 'options'], form);
    if (commandSize(body) > MAX_COMMAND_SIZE) form.add(path, 'APPLICATION_COMMAND_TOO_LARGE', `Command exceeds maximum size (${MAX_COMMAND_SIZE})`);
  }
}

/** Where options sit: the command's own, a subcommand group's, or a subcommand's (no deeper: one level of groups). */
type Level = 'command' | 'group' | 'subcommand';

function validateOptions(options: APIApplicationCommandOption[], path: Array<string | number>, form: FormErrorBuilder, level: Level = 'command'): void {
  if (options.length > 25) form.add(path, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  const nestedType = (o: APIApplicationCommandOption) => o.type === ApplicationCommandOptionType.Subcommand || o.type === ApplicationCommandOptionType.SubcommandGroup;
  // Subcommands and groups may share a level, but never with plain options: the client could not tell which is which.
  const mixed = level === 'command' && options.some(nestedType) && options.some((o) => !nestedType(o));
  const seen = new Set<string>();
  let seenOptional = false;
  options.forEach((option, i) => {
    const here = [...path, i];
    if (!NAME.test(option.name) || option.name !== option.name.toLowerCase()) form.add([...here, 'name'], 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    if (seen.has(option.name)) form.add([...here, 'name'], 'APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME', 'Application command option names must be unique');
    seen.add(option.name);
    if (!option.description || option.description.length > 100) form.add([...here, 'description'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    const nested = nestedType(option);
    // A group holds subcommands only; a subcommand holds plain options only; a group inside a group is refused.
    const allowed =
      level === 'command' ? !mixed || nested : level === 'group' ? option.type === ApplicationCommandOptionType.Subcommand : !nested;
    if (!allowed) {
      form.add(here, 'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID', 'Sub-command and sub-command group option types are mutually exclusive to all other types');
      return;
    }
    if (nested) {
      const inner = option.options ?? [];
      if (option.type === ApplicationCommandOptionType.SubcommandGroup && inner.length === 0) form.add([...here, 'options'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 25 in length.');
      validateOptions(inner, [...here, 'options'], form, option.type === ApplicationCommandOptionType.SubcommandGroup ? 'group' : 'subcommand');
      return;
    }
    // Discord rejects a required option after an optional one: the client could not fill them in order.
    if (option.required && seenOptional) form.add([...here, 'required'], 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', 'Required options must be placed before non-required options');
    if (!option.required) seenOptional = true;
    if ('choices' in option && option.choices && option.choices.length > 25) form.add([...here, 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    if ('autocomplete' in option && option.autocomplete && 'choices' in option && (option.choices?.length ?? 0) > 0) {
      form.add([...here, 'autocomplete'], 'APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE', 'Autocomplete and choices are mutually exclusive');
    }
  });
}

/** Names, descriptions and choice names and values of the whole command, as Discord counts them against its cap. */
function commandSize(option: { name?: unknown; description?: unknown; options?: unknown; choices?: unknown }): number {
  const text = (v: unknown) => (typeof v === 'string' ? v.length : 0);
  const choices = Array.isArray(option.choices) ? (option.choices as Array<{ name?: unknown; value?: unknown }>) : [];
  const options = Array.isArray(option.options) ? (option.options as Array<Parameters<typeof commandSize>[0]>) : [];
  return (
    text(option.name) +
    text(option.description) +
    choices.reduce((sum, c) => sum + text(c.name) + String(c.value ?? '').length, 0) +
    options.reduce((sum, o) => sum + commandSize(o), 0)
  );
}
