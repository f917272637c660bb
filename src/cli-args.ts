import { parseArgs } from 'node:util';
import { SwitchboardError } from './errors.js';

/**
 * What `switchboard …` was asked to do. The CLI's own flags are parsed here with `node:util parseArgs`; everything
 * else is a bot command line, handed to the same grammar as chat (which owns its options, such as `--agent`).
 */
export type CliCommand =
  | { kind: 'bot' }
  | { kind: 'config-init' }
  | { kind: 'health' }
  | { kind: 'follow-logs'; name: string; lines: number }
  | { kind: 'dashboard'; everySeconds: number | undefined }
  | { kind: 'once'; words: string[]; output: 'text' | 'json' | 'jsonl' };

const DEFAULT_LINES = 40;

function usage(message: string, hint: string, cause?: unknown): SwitchboardError {
  return new SwitchboardError('usage', message, { hint, cause });
}

function wholeNumber(value: string | undefined, flag: string, fallback: number, hint: string): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1) throw usage(`option \`${flag}\` needs a whole number from 1, not \`${value}\``, hint);
  return Number(value);
}

/** Parses strictly: an unknown flag or a missing value is a usage error naming the command's usage line. */
function strict<T extends Record<string, { type: 'boolean' | 'string' }>>(args: string[], options: T, hint: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage(String((error as Error).message), hint, error);
  }
}

export function parseCliArgs(argv: readonly string[]): CliCommand {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: 'bot' };
  if (first === 'config' && rest[0] === '--init') {
    if (rest.length > 1) throw usage(`\`config --init\` takes nothing more, not \`${rest.slice(1).join(' ')}\``, 'usage: switchboard config --init');
    return { kind: 'config-init' };
  }
  if (first === 'health' && rest.length === 0) return { kind: 'health' };
  if (first === 'logs' && rest.includes('--follow')) {
    const hint = 'usage: switchboard logs <name> --follow [--lines N]';
    const { values, positionals } = strict(rest, { follow: { type: 'boolean' }, lines: { type: 'string' } }, hint);
    if (positionals.length !== 1) throw usage('`logs --follow` needs exactly one task name', hint);
    return { kind: 'follow-logs', name: positionals[0]!, lines: wholeNumber(values.lines, '--lines', DEFAULT_LINES, hint) };
  }
  if (first === 'dashboard') {
    const hint = 'usage: switchboard dashboard [--watch SECONDS]';
    const { values, positionals } = strict(rest, { watch: { type: 'string' }, link: { type: 'boolean' } }, hint);
    // `--link [name]`: the chat verb, a private link to the fleet page (issue 19), for whoever runs the CLI.
    if (values.link && values.watch === undefined && positionals.length <= 1) return { kind: 'once', words: ['dashboard', ...positionals], output: 'text' };
    if (positionals.length) throw usage(`\`dashboard\` takes no words, not \`${positionals.join(' ')}\``, hint);
    return { kind: 'dashboard', everySeconds: values.watch === undefined ? undefined : wholeNumber(values.watch, '--watch', 10, hint) };
  }
  // A bot command: only --json/--jsonl are ours, and only before a `--` (after it, they are the prompt's words).
  const { tokens } = parseArgs({ args: [...argv], strict: false, allowPositionals: true, tokens: true });
  const ours = new Set<number>();
  let output: 'text' | 'json' | 'jsonl' = 'text';
  for (const token of tokens) {
    if (token.kind === 'option' && (token.rawName === '--json' || token.rawName === '--jsonl') && token.value === undefined) {
      ours.add(token.index);
      output = token.rawName === '--jsonl' ? 'jsonl' : output === 'jsonl' ? 'jsonl' : 'json';
    }
  }
  return { kind: 'once', words: argv.filter((_, i) => !ours.has(i)), output };
}
