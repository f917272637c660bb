/** The shape of one verb of the grammar. Help text and usage lines are derived from it. */
export interface OptionSpec {
  name: string;
  /**
   * 'optional-string': a flag that may carry a value, but only attached with `=` (`--worktree` or
   * `--worktree=fix/login`). A word after a space is never its value, so `start crib --worktree fix the build`
   * has one reading: the prompt is "fix the build". The parsed value is `true` (no value) or the string.
   */
  value: 'string' | 'int' | 'flag' | 'optional-string';
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
  /** Files attached to the command (Slack, Discord) go with the prompt; other verbs refuse them. */
  files?: boolean;
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
    parts.push(`[${optionForm(option)}]`);
  }
  if (spec.text) parts.push(spec.text.required ? `<${spec.text.name}…>` : `[${spec.text.name}…]`);
  return parts.join(' ');
}

/** How an option is written: `--cleanup`, `--name N`, `--worktree[=B]`. */
export function optionForm(option: OptionSpec): string {
  const placeholder = option.placeholder ?? option.name.toUpperCase();
  if (option.value === 'flag') return `--${option.name}`;
  if (option.value === 'optional-string') return `--${option.name}[=${placeholder}]`;
  return `--${option.name} ${placeholder}`;
}
