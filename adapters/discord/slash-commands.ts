import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandSubcommandOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { quoteArg } from '../../src/commands/grammar.js';
import type { GrammarSpec, OptionSpec } from '../../src/commands/spec.js';

/**
 * The `/sb` slash command, derived from the grammar: one subcommand per verb, positionals as string options,
 * `--x` options as typed options, free text as one string option. The same layout turns an invocation back
 * into the command line the core parses, so the grammar stays the one source of truth.
 */
export const SLASH_COMMAND = 'sb';

/** Discord's limits on one command (API docs, "Application Commands"). */
const MAX_SUBCOMMANDS = 25;
const MAX_OPTIONS = 25;
const MAX_DESCRIPTION = 100;
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
}

export interface SlashVerb {
  verb: string;
  /** In grammar order: positionals, then options, then the free text. */
  fields: SlashField[];
}

export interface SlashLayout {
  body: RESTPostAPIChatInputApplicationCommandsJSONBody;
  verbs: ReadonlyMap<string, SlashVerb>;
  /** Verbs past Discord's 25 subcommands: still available as `!sb` messages. */
  skipped: string[];
}

export function slashLayout(grammar: readonly GrammarSpec[]): SlashLayout {
  const verbs = new Map<string, SlashVerb>();
  const usable = grammar.filter((spec) => validName(spec.verb) === spec.verb);
  for (const spec of usable.slice(0, MAX_SUBCOMMANDS)) verbs.set(spec.verb, layoutOf(spec));
  const skipped = [...grammar.filter((spec) => !verbs.has(spec.verb)).map((spec) => spec.verb)];
  const verbNames = [...verbs.keys()];
  const body = (detail: 'full' | 'short' | 'bare'): RESTPostAPIChatInputApplicationCommandsJSONBody => ({
    type: ApplicationCommandType.ChatInput,
    name: SLASH_COMMAND,
    description: 'Switchboard: drive coding agents (same commands as !sb messages)',
    // Guild channels only: access rules and replies are per channel, and DMs have none we could allow.
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [...verbs.values()].map((layout) => subcommand(grammar.find((s) => s.verb === layout.verb)!, layout, verbNames, detail)),
  });
  // Shorter descriptions before anything is left out: the whole command must stay under Discord's size cap.
  const chosen = (['full', 'short', 'bare'] as const).map(body).find((b) => commandChars(b) <= MAX_COMMAND_CHARS) ?? body('bare');
  return { body: chosen, verbs, skipped };
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

function subcommand(spec: GrammarSpec, layout: SlashVerb, verbs: string[], detail: 'full' | 'short' | 'bare'): APIApplicationCommandSubcommandOption {
  const options = layout.fields.map((field) => basicOption(spec, field, verbs, detail));
  return {
    type: ApplicationCommandOptionType.Subcommand,
    name: layout.verb,
    description: describe(spec.summary, detail === 'bare' ? 60 : MAX_DESCRIPTION),
    // Discord requires every required option before the optional ones.
    options: [...options.filter((o) => o.required), ...options.filter((o) => !o.required)],
  };
}

function basicOption(spec: GrammarSpec, field: SlashField, verbs: string[], detail: 'full' | 'short' | 'bare'): APIApplicationCommandBasicOption {
  const base = { name: field.option, description: describe(fieldDescription(spec, field, detail), detail === 'full' ? MAX_DESCRIPTION : 50), required: field.required };
  if (field.value === 'flag') return { ...base, type: ApplicationCommandOptionType.Boolean };
  if (field.value === 'int') return { ...base, type: ApplicationCommandOptionType.Integer, min_value: 0 };
  if (field.kind === 'text') return { ...base, type: ApplicationCommandOptionType.String, max_length: MAX_TEXT_OPTION };
  if (field.kind === 'file') return { ...base, type: ApplicationCommandOptionType.Attachment };
  // `help <command>`: the verbs are a fixed list, so Discord can offer them as choices.
  if (spec.verb === 'help' && field.grammarName === 'command' && verbs.length <= 25) {
    return { ...base, type: ApplicationCommandOptionType.String, choices: verbs.map((v) => ({ name: v, value: v })) };
  }
  return { ...base, type: ApplicationCommandOptionType.String, ...(field.autocompleteNames ? { autocomplete: true } : {}) };
}

function fieldDescription(spec: GrammarSpec, field: SlashField, detail: 'full' | 'short' | 'bare'): string {
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
