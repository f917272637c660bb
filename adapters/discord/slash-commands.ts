import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandOption,
  type APIApplicationCommandSubcommandGroupOption,
  type APIApplicationCommandSubcommandOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { quoteArg } from '../../src/commands/grammar.js';
import type { GrammarSpec, OptionSpec } from '../../src/commands/spec.js';

/**
 * The `/sb` slash command, derived from the grammar: one subcommand per verb, positionals as string options,
 * `--x` options as typed options, free text as one string option. Verbs past what fits at the top go into
 * subcommand groups (`/sb more schedule …`). The same layout turns an invocation back into the command line the
 * core parses, so the grammar stays the one source of truth.
 */
export const SLASH_COMMAND = 'sb';

/** Discord's limits on one command (API docs, "Application Commands"). */
const MAX_SUBCOMMANDS = 25;
const MAX_OPTIONS = 25;
const MAX_DESCRIPTION = 100;
/** Groups hold subcommands only, and a group cannot hold a group: one level of nesting. */
const MAX_GROUP_SUBCOMMANDS = 25;
/** The first group's name; further ones are `more2`, `more3`, … */
const GROUP_NAME = 'more';
/**
 * Names, descriptions and choice values of one command together are capped (8 000 characters in today's docs,
 * 4 000 in older ones); staying under the lower figure works everywhere.
 */
export const MAX_COMMAND_CHARS = 4_000;
/** Discord's largest string option; longer prompts go in a `!sb` message or a file. */
const MAX_TEXT_OPTION = 6_000;

/** Verbs whose `name` is a new name, where suggesting the existing ones would only mislead. */
const FRESH_NAME_VERBS = new Set(['new', 'attach']);

export interface SlashField {
  /** The option as registered on Discord. */
  option: string;
  /** 'file': an attachment option (verbs that take files); never part of the command line. */
  kind: 'positional' | 'option' | 'text' | 'file';
  /** The name in the grammar (`--dir`, `<server>`). */
  grammarName: string;
  value: OptionSpec['value'];
  required: boolean;
  autocompleteNames: boolean;
  /** `help <command>` once the verbs are too many for Discord's 25 choices: the verbs are suggested as typed. */
  autocompleteVerbs?: boolean;
}

export interface SlashVerb {
  verb: string;
  /** The subcommand group the verb sits in (`/sb more schedule`); none for a top-level subcommand. */
  group?: string;
  /** In grammar order: positionals, then options, then the free text. */
  fields: SlashField[];
}

export interface SlashLayout {
  body: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /** Every verb reachable through `/sb`, top level or in a group; subcommand names are the verbs. */
  verbs: ReadonlyMap<string, SlashVerb>;
  /** Verbs that cannot be slash commands (a name Discord refuses, or more than fits even in groups): `!sb` messages only. */
  skipped: string[];
}

/**
 * The verbs in grammar order: while they fit, each is a top-level subcommand; past 25, the last top-level slots give
 * way to groups of up to 25 (`more`, then `more2`, …), as few groups as fit them all, so the first verbs stay
 * one word away. A group counts as one of the 25 top-level options.
 */
export function slashLayout(grammar: readonly GrammarSpec[]): SlashLayout {
  const usable = grammar.filter((spec) => validName(spec.verb) === spec.verb);
  let built = layoutFor(grammar, usable);
  if (commandChars(built.body) > MAX_COMMAND_CHARS) {
    // Even bare descriptions are over the size cap: the last verbs give way (messages only) rather than the whole
    // command failing to register. The most verbs that fit, by bisection (each layout is built three times over).
    let [fits, over] = [1, usable.length];
    while (over - fits > 1) {
      const mid = Math.floor((fits + over) / 2);
      if (commandChars(layoutFor(grammar, usable.slice(0, mid)).body) <= MAX_COMMAND_CHARS) fits = mid;
      else over = mid;
    }
    built = layoutFor(grammar, usable.slice(0, fits));
  }
  const skipped = grammar.filter((spec) => !built.verbs.has(spec.verb)).map((spec) => spec.verb);
  return { ...built, skipped };
}

function layoutFor(grammar: readonly GrammarSpec[], usable: readonly GrammarSpec[]): Omit<SlashLayout, 'skipped'> {
  const groupNames = groupNamesAvoiding(new Set(usable.map((spec) => spec.verb)));
  let groupCount = 0;
  while (groupCount < MAX_SUBCOMMANDS && MAX_SUBCOMMANDS - groupCount + groupCount * MAX_GROUP_SUBCOMMANDS < usable.length) groupCount++;
  const topCount = MAX_SUBCOMMANDS - groupCount;
  const verbs = new Map<string, SlashVerb>();
  usable.slice(0, topCount).forEach((spec) => verbs.set(spec.verb, layoutOf(spec)));
  const grouped = usable.slice(topCount, topCount + groupCount * MAX_GROUP_SUBCOMMANDS);
  grouped.forEach((spec, i) => verbs.set(spec.verb, { ...layoutOf(spec), group: groupNames[Math.floor(i / MAX_GROUP_SUBCOMMANDS)]! }));
  const verbNames = [...verbs.keys()];
  if (verbNames.length > 25) {
    for (const field of verbs.get('help')?.fields ?? []) if (field.grammarName === 'command') field.autocompleteVerbs = true;
  }
  const specOf = (layout: SlashVerb) => grammar.find((s) => s.verb === layout.verb)!;
  const body = (detail: Detail): RESTPostAPIChatInputApplicationCommandsJSONBody => {
    const top: APIApplicationCommandOption[] = [];
    const groups = new Map<string, APIApplicationCommandSubcommandGroupOption>();
    for (const layout of verbs.values()) {
      const sub = subcommand(specOf(layout), layout, verbNames, detail);
      if (layout.group === undefined) {
        top.push(sub);
        continue;
      }
      let group = groups.get(layout.group);
      if (!group) {
        group = { type: ApplicationCommandOptionType.SubcommandGroup, name: layout.group, description: '', options: [] };
        groups.set(layout.group, group);
        top.push(group);
      }
      group.options!.push(sub);
    }
    // The group's description is where the picker shows what is inside.
    for (const group of groups.values()) {
      group.description = describe(`More commands: ${group.options!.map((o) => o.name).join(', ')}`, detail === 'bare' ? 60 : MAX_DESCRIPTION);
    }
    return {
      type: ApplicationCommandType.ChatInput,
      name: SLASH_COMMAND,
      description: 'Switchboard: drive coding agents (same commands as !sb messages)',
      // Guild channels only: access rules and replies are per channel, and DMs have none we could allow.
      contexts: [InteractionContextType.Guild],
      integration_types: [ApplicationIntegrationType.GuildInstall],
      options: top,
    };
  };
  // Shorter descriptions before anything is left out: the whole command must stay under Discord's size cap.
  const chosen = (['full', 'short', 'bare'] as const).map(body).find((b) => commandChars(b) <= MAX_COMMAND_CHARS) ?? body('bare');
  return { body: chosen, verbs };
}

type Detail = 'full' | 'short' | 'bare';

/** `more`, `more2`, …, skipping any that is a verb's name (a group and a subcommand cannot share one). */
function groupNamesAvoiding(verbs: ReadonlySet<string>): string[] {
  const names: string[] = [];
  for (let n = 1; names.length < MAX_SUBCOMMANDS; n++) {
    const name = n === 1 ? GROUP_NAME : `${GROUP_NAME}${n}`;
    if (!verbs.has(name)) names.push(name);
  }
  return names;
}

/**
 * The verb of an invocation (`/sb status` or `/sb more schedule`). Subcommand names are the verbs, unique across
 * groups, so an invocation of a command registered by an older layout (the verb then in another place) still finds it.
 */
export function invokedVerb(layout: SlashLayout, group: string | null, subcommand: string | null): SlashVerb | undefined {
  if (subcommand === null) return group === null ? layout.verbs.get('help') : undefined;
  return layout.verbs.get(subcommand);
}

function layoutOf(spec: GrammarSpec): SlashVerb {
  const used = new Set<string>();
  const unique = (raw: string) => {
    let name = validName(raw) || 'value';
    for (let n = 2; used.has(name); n++) name = `${validName(raw).slice(0, 29)}-${n}`;
    used.add(name);
    return name;
  };
  const fields: SlashField[] = [];
  for (const positional of spec.positionals) {
    fields.push({
      option: unique(positional.name),
      kind: 'positional',
      grammarName: positional.name,
      value: 'string',
      required: !positional.optional,
      autocompleteNames: positional.name === 'name' && !FRESH_NAME_VERBS.has(spec.verb),
    });
  }
  for (const option of spec.options) {
    fields.push({ option: unique(option.name), kind: 'option', grammarName: option.name, value: option.value, required: false, autocompleteNames: false });
  }
  if (spec.text) {
    fields.push({ option: unique(spec.text.name), kind: 'text', grammarName: spec.text.name, value: 'string', required: spec.text.required, autocompleteNames: false });
  }
  if (spec.files) {
    fields.push({ option: unique('file'), kind: 'file', grammarName: 'file', value: 'string', required: false, autocompleteNames: false });
  }
  return { verb: spec.verb, fields: fields.slice(0, MAX_OPTIONS) };
}

function subcommand(spec: GrammarSpec, layout: SlashVerb, verbs: string[], detail: Detail): APIApplicationCommandSubcommandOption {
  const options = layout.fields.map((field) => basicOption(spec, field, verbs, detail));
  return {
    type: ApplicationCommandOptionType.Subcommand,
    name: layout.verb,
    description: describe(spec.summary, detail === 'bare' ? 60 : MAX_DESCRIPTION),
    // Discord requires every required option before the optional ones.
    options: [...options.filter((o) => o.required), ...options.filter((o) => !o.required)],
  };
}

function basicOption(spec: GrammarSpec, field: SlashField, verbs: string[], detail: Detail): APIApplicationCommandBasicOption {
  const base = { name: field.option, description: describe(fieldDescription(spec, field, detail), detail === 'full' ? MAX_DESCRIPTION : 50), required: field.required };
  if (field.value === 'flag') return { ...base, type: ApplicationCommandOptionType.Boolean };
  if (field.value === 'int') return { ...base, type: ApplicationCommandOptionType.Integer, min_value: 0 };
  if (field.kind === 'text') return { ...base, type: ApplicationCommandOptionType.String, max_length: MAX_TEXT_OPTION };
  if (field.kind === 'file') return { ...base, type: ApplicationCommandOptionType.Attachment };
  // `help <command>`: the verbs are a fixed list, so Discord can offer them as choices (25 at most; more are autocompleted).
  if (spec.verb === 'help' && field.grammarName === 'command' && verbs.length <= 25) {
    return { ...base, type: ApplicationCommandOptionType.String, choices: verbs.map((v) => ({ name: v, value: v })) };
  }
  return { ...base, type: ApplicationCommandOptionType.String, ...(field.autocompleteNames || field.autocompleteVerbs ? { autocomplete: true } : {}) };
}

function fieldDescription(spec: GrammarSpec, field: SlashField, detail: Detail): string {
  if (detail === 'bare') return field.grammarName;
  if (field.kind === 'option') return spec.options.find((o) => o.name === field.grammarName)!.description;
  if (field.kind === 'text') return `the ${field.grammarName}, sent exactly as typed`;
  if (field.kind === 'file') return 'a file for the agent (an image, a log…); more files: attach them to a !sb message';
  if (field.autocompleteNames) return 'the name (e.g. kumo)';
  return `the ${field.grammarName.replace(/-/g, ' ')}`;
}

/** Discord option and subcommand names: lowercase letters, digits, `-` and `_`, at most 32. */
function validName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^\p{Ll}\p{Lo}\p{N}_-]+/gu, '-')
    .slice(0, 32);
}

function describe(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim() || '—';
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** What Discord counts against its size cap: every name, description and choice name/value. */
export function commandChars(body: RESTPostAPIChatInputApplicationCommandsJSONBody): number {
  const count = (option: { name: string; description: string; options?: unknown[]; choices?: Array<{ name: string; value: string | number }> }): number =>
    option.name.length +
    option.description.length +
    (option.choices ?? []).reduce((sum, c) => sum + c.name.length + String(c.value).length, 0) +
    ((option.options ?? []) as Parameters<typeof count>[0][]).reduce((sum, o) => sum + count(o), 0);
  return count(body as Parameters<typeof count>[0]);
}

export type OptionValue = string | number | boolean;

/**
 * The command line for one invocation: positionals and option values quoted so the grammar reads each back as
 * one token, and the free text after `--`, untouched, so a prompt stays byte for byte what was typed.
 */
export function commandLine(layout: SlashVerb, valueOf: (option: string) => OptionValue | undefined): string {
  const words = [layout.verb];
  for (const field of layout.fields) {
    const value = valueOf(field.option);
    if (value === undefined || field.kind === 'text' || field.kind === 'file') continue;
    if (field.kind === 'positional') words.push(quoteArg(String(value)));
    else if (field.value === 'flag') {
      if (value === true) words.push(`--${field.grammarName}`);
    } else if (field.value === 'optional-string') {
      // `-` (or nothing typed) is the option alone; anything else is its value, attached as the grammar wants it.
      const given = String(value).trim();
      words.push(value === true || given === '' || given === '-' ? `--${field.grammarName}` : `--${field.grammarName}=${quoteArg(given)}`);
    } else words.push(`--${field.grammarName}`, quoteArg(String(value)));
  }
  const textField = layout.fields.find((f) => f.kind === 'text');
  const text = textField ? valueOf(textField.option) : undefined;
  return text === undefined ? words.join(' ') : `${words.join(' ')} -- ${String(text)}`;
}
