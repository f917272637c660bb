import {
  ApplicationCommandOptionType,
  type APIApplicationCommand,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandOption,
  type InteractionType,
} from 'discord-api-types/v10';

/**
 * Turns a test's `{ subcommand, options }` into the option tree Discord would send, checked against the command
 * the bot registered. The Discord client only lets a user send what the registration allows, so a test that asks
 * for an unknown option or leaves out a required one fails here, where the mistake is, not in the bot.
 */

/** A file the user picks for an attachment option: Discord uploads it first and the option carries its id. */
export interface SlashAttachment {
  file: { name: string; contentType?: string; data: string | Uint8Array };
}

export type SlashOptionValue = string | number | boolean;

export interface SlashInvocation {
  subcommand?: string;
  group?: string;
  options?: Record<string, SlashOptionValue | SlashAttachment>;
}


export interface AutocompleteInvocation extends SlashInvocation {
  /** The option the user is typing in. */
  focused: string;
  /** What they typed so far; always a string, even for number options. */
  value: string;
}

export interface BuiltOptions<T extends InteractionType> {
  options: APIApplicationCommandInteractionDataOption<T>[];
  /** Ids of user/role/channel/mentionable options, so the caller can fill `data.resolved`. */
  referenced: { users: string[]; roles: string[]; channels: string[]; attachments: string[] };
  /** `sb send name:kumo prompt:hi`, as Discord's client shows an invocation. */
  summary: string;
}

export function buildSlashOptions(
  command: APIApplicationCommand,
  invocation: SlashInvocation,
): BuiltOptions<InteractionType.ApplicationCommand> {
  return build(command, invocation, undefined) as BuiltOptions<InteractionType.ApplicationCommand>;
}

export function buildAutocompleteOptions(
  command: APIApplicationCommand,
  invocation: AutocompleteInvocation,
): BuiltOptions<InteractionType.ApplicationCommandAutocomplete> {
  return build(command, invocation, { name: invocation.focused, value: invocation.value }) as BuiltOptions<InteractionType.ApplicationCommandAutocomplete>;
}

type AnyBuilt = BuiltOptions<InteractionType>;

function build(
  command: APIApplicationCommand,
  invocation: SlashInvocation,
  focused: { name: string; value: string } | undefined,
): AnyBuilt {
  const where = `/${command.name}`;
  const top = command.options ?? [];
  const path: string[] = [command.name];
  let leafDefs: APIApplicationCommandOption[] = top;
  let groupName: string | undefined;
  let subName: string | undefined;

  const groups = top.filter((o) => o.type === ApplicationCommandOptionType.SubcommandGroup);
  if (invocation.group !== undefined || (groups.length > 0 && invocation.subcommand === undefined)) {
    const group = groups.find((g) => g.name === invocation.group);
    if (!group) throw new Error(`${where}: unknown subcommand group ${JSON.stringify(invocation.group)} (has: ${names(groups)})`);
    path.push(group.name);
    groupName = group.name;
    leafDefs = group.options ?? [];
  }

  const subcommands = leafDefs.filter((o) => o.type === ApplicationCommandOptionType.Subcommand);
  if (invocation.subcommand !== undefined || subcommands.length > 0) {
    const sub = subcommands.find((s) => s.name === invocation.subcommand);
    if (!sub) {
      throw new Error(`${path.map((p, i) => (i === 0 ? `/${p}` : p)).join(' ')}: ${invocation.subcommand === undefined ? 'a subcommand is required' : `unknown subcommand ${JSON.stringify(invocation.subcommand)}`} (has: ${names(subcommands)})`);
    }
    path.push(sub.name);
    subName = sub.name;
    leafDefs = sub.options ?? [];
  }

  const label = `/${path.join(' ')}`;
  const basics = leafDefs as APIApplicationCommandBasicOption[];
  const given = { ...(invocation.options ?? {}) };
  const referenced = { users: [] as string[], roles: [] as string[], channels: [] as string[], attachments: [] as string[] };
  for (const name of Object.keys(given)) {
    if (!basics.some((d) => d.name === name)) throw new Error(`${label}: unknown option ${JSON.stringify(name)} (has: ${names(basics)})`);
  }
  if (focused) {
    const def = basics.find((d) => d.name === focused.name);
    if (!def) throw new Error(`${label}: unknown option ${JSON.stringify(focused.name)} to autocomplete (has: ${names(basics)})`);
    if (!('autocomplete' in def) || def.autocomplete !== true) throw new Error(`${label}: option ${focused.name} was not registered with autocomplete: true`);
  }

  const leaf: APIApplicationCommandInteractionDataBasicOption[] = [];
  const shown: string[] = [];
  // Discord sends options in the order they are declared, not the order typed.
  for (const def of basics) {
    if (focused?.name === def.name) {
      leaf.push({ type: def.type, name: def.name, value: focused.value, focused: true } as APIApplicationCommandInteractionDataBasicOption);
      shown.push(`${def.name}:${focused.value}`);
      continue;
    }
    const value = given[def.name];
    if (value === undefined) {
      if (def.required && !focused) throw new Error(`${label}: missing required option ${JSON.stringify(def.name)}`);
      continue;
    }
    leaf.push(convert(label, def, value, referenced));
    shown.push(`${def.name}:${String(value)}`);
  }
  let tree: APIApplicationCommandInteractionDataOption[] = leaf;
  if (subName !== undefined) {
    const subOption = { type: ApplicationCommandOptionType.Subcommand as const, name: subName, options: leaf };
    tree = groupName === undefined ? [subOption] : [{ type: ApplicationCommandOptionType.SubcommandGroup, name: groupName, options: [subOption] }];
  }
  return { options: tree, referenced, summary: [label.slice(1), ...shown].join(' ') };
}

function convert(
  label: string,
  def: APIApplicationCommandBasicOption,
  value: SlashOptionValue | SlashAttachment,
  referenced: AnyBuilt['referenced'],
): APIApplicationCommandInteractionDataBasicOption {
  const fail = (expected: string): never => {
    throw new Error(`${label}: option ${def.name} expects ${expected}, got ${JSON.stringify(value)}`);
  };
  const checkChoices = () => {
    const choices = 'choices' in def ? def.choices : undefined;
    if (choices && choices.length > 0 && !choices.some((c) => c.value === value)) {
      fail(`one of ${choices.map((c) => JSON.stringify(c.value)).join(', ')}`);
    }
  };
  switch (def.type) {
    case ApplicationCommandOptionType.String:
      if (typeof value !== 'string') fail('a string');
      checkChoices();
      if (def.max_length !== undefined && (value as string).length > def.max_length) fail(`at most ${def.max_length} characters`);
      if (def.min_length !== undefined && (value as string).length < def.min_length) fail(`at least ${def.min_length} characters`);
      return { type: def.type, name: def.name, value: value as string };
    case ApplicationCommandOptionType.Integer:
    case ApplicationCommandOptionType.Number:
      if (typeof value !== 'number' || (def.type === ApplicationCommandOptionType.Integer && !Number.isInteger(value))) {
        fail(def.type === ApplicationCommandOptionType.Integer ? 'an integer' : 'a number');
      }
      checkChoices();
      if (def.min_value !== undefined && (value as number) < def.min_value) fail(`>= ${def.min_value}`);
      if (def.max_value !== undefined && (value as number) > def.max_value) fail(`<= ${def.max_value}`);
      return { type: def.type, name: def.name, value: value as number };
    case ApplicationCommandOptionType.Boolean:
      if (typeof value !== 'boolean') fail('a boolean');
      return { type: def.type, name: def.name, value: value as boolean };
    case ApplicationCommandOptionType.User:
    case ApplicationCommandOptionType.Role:
    case ApplicationCommandOptionType.Channel:
    case ApplicationCommandOptionType.Mentionable: {
      if (typeof value !== 'string') fail('an id');
      const bucket = def.type === ApplicationCommandOptionType.Role ? referenced.roles : def.type === ApplicationCommandOptionType.Channel ? referenced.channels : referenced.users;
      bucket.push(value as string);
      return { type: def.type, name: def.name, value: value as string };
    }
    case ApplicationCommandOptionType.Attachment:
      // The actor uploaded the file already (UserActor.slash) and passes its id here.
      if (typeof value !== 'string') fail('an uploaded attachment');
      referenced.attachments.push(value as string);
      return { type: def.type, name: def.name, value: value as string };
  }
}

function names(defs: ReadonlyArray<{ name: string }>): string {
  return defs.map((d) => d.name).join(', ') || 'none';
}
