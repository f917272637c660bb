/** The shape of one verb of the grammar. Help text and usage lines are derived from it. */
export interface OptionSpec {
  name: string;
  value: 'string' | 'int' | 'flag';
  placeholder?: string;
  description: string;
}

export interface PositionalSpec {
  name: string;
  optional?: boolean;
  /** Not expected when this option was given before it (`start --label rust <prompt…>` has no executor). */
  skipWhen?: string;
}

export interface GrammarSpec {
  verb: string;
  summary: string;
  positionals: readonly PositionalSpec[];
  options: readonly OptionSpec[];
  /** Free text after the positionals (a prompt, a shell command, a message), taken byte for byte. */
  text?: { name: string; required: boolean };
  examples?: readonly string[];
  /** Longer help shown by `help <verb>`. */
  details?: string;
}

export interface ParsedCommand {
  verb: string;
  args: Record<string, string>;
  options: Record<string, string | number | boolean>;
  text?: string;
}

export function usageOf(spec: GrammarSpec): string {
  const parts = [spec.verb];
  for (const positional of spec.positionals) {
    const shown = positional.skipWhen ? `${positional.name}|--${positional.skipWhen} ${positional.skipWhen.toUpperCase()}` : positional.name;
    parts.push(positional.optional ? `[${shown}]` : `<${shown}>`);
  }
  for (const option of spec.options) {
    parts.push(option.value === 'flag' ? `[--${option.name}]` : `[--${option.name} ${option.placeholder ?? option.name.toUpperCase()}]`);
  }
  if (spec.text) parts.push(spec.text.required ? `<${spec.text.name}…>` : `[${spec.text.name}…]`);
  return parts.join(' ');
}
