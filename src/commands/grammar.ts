import { SwitchboardError } from '../errors.js';
import { closest } from '../core/closest.js';
import { usageOf, type GrammarSpec, type ParsedCommand } from './spec.js';

const WHITESPACE = /\s/;

function skipSpace(line: string, from: number): number {
  let i = from;
  while (i < line.length && WHITESPACE.test(line[i]!)) i++;
  return i;
}

/** A quoted run starting at `from` (on the quote): double quotes take backslash escapes, single quotes none. */
function readQuoted(line: string, from: number): { value: string; end: number } {
  const quote = line[from]!;
  let value = '';
  let i = from + 1;
  while (i < line.length && line[i] !== quote) {
    if (quote === '"' && line[i] === '\\' && i + 1 < line.length) i++;
    value += line[i];
    i++;
  }
  if (i >= line.length) throw new SwitchboardError('usage', `unclosed ${quote} quote starting at column ${from + 1}`);
  return { value, end: i + 1 };
}

function readBare(line: string, from: number, stopAt = WHITESPACE): { value: string; end: number } {
  let i = from;
  while (i < line.length && !stopAt.test(line[i]!)) i++;
  return { value: line.slice(from, i), end: i };
}

/** A word or a quoted value at `from`. */
function readValue(line: string, from: number): { value: string; end: number; quoted: boolean } {
  const c = line[from];
  if (c === '"' || c === "'") return { ...readQuoted(line, from), quoted: true };
  return { ...readBare(line, from), quoted: false };
}

/** Free text begins after exactly one separator character, so leading indentation in a prompt survives. */
function freeTextFrom(line: string, offset: number): string {
  const rest = line.slice(offset);
  return rest.length > 0 && WHITESPACE.test(rest[0]!) ? rest.slice(1) : rest;
}

export function findSpec(specs: readonly GrammarSpec[], verb: string): GrammarSpec | undefined {
  return specs.find((spec) => spec.verb === verb);
}

/**
 * Parses one command line against the grammar. Returns a ParsedCommand or throws a SwitchboardError whose
 * message says what was wrong and whose hint shows the right form. Never throws anything else.
 */
export function parseCommandLine(line: string, specs: readonly GrammarSpec[]): ParsedCommand {
  const verbAt = skipSpace(line, 0);
  if (verbAt >= line.length) throw new SwitchboardError('usage', 'empty command', { hint: 'type `help` to see the commands' });
  const first = readBare(line, verbAt);
  const verb = first.value.toLowerCase();
  const spec = findSpec(specs, verb);
  if (!spec) {
    const suggestion = closest(verb, specs.map((s) => s.verb));
    throw new SwitchboardError(
      'unknown_command',
      `unknown command \`${first.value.slice(0, 40)}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}`,
      { hint: 'type `help` to see the commands' },
    );
  }
  const usage = `usage: ${usageOf(spec)}`;
  const fail = (message: string): never => {
    throw new SwitchboardError('usage', message, { hint: usage });
  };

  const positionals: string[] = [];
  const options: Record<string, string | number | boolean> = {};
  let text: string | undefined;
  let offset = first.end;
  const active = () => spec.positionals.filter((p) => !(p.skipWhen && p.skipWhen in options));
  const expected = () => active().length;

  for (;;) {
    const at = skipSpace(line, offset);
    if (at >= line.length) break;
    if (line.startsWith('--', at)) {
      if (at + 2 >= line.length || WHITESPACE.test(line[at + 2]!)) {
        if (!spec.text) fail(`\`${spec.verb}\` takes no free text after \`--\``);
        text = freeTextFrom(line, at + 2);
        break;
      }
      const named = readBare(line, at + 2, /[\s=]/);
      const option = spec.options.find((o) => o.name === named.value);
      if (!option) {
        const known = spec.options.map((o) => `--${o.name}`);
        const suggestion = closest(named.value, spec.options.map((o) => o.name));
        fail(
          `unknown option \`--${named.value.slice(0, 40)}\` for \`${spec.verb}\`` +
            (suggestion ? ` (did you mean \`--${suggestion}\`?)` : known.length ? ` (options: ${known.join(', ')})` : ' (it takes no options)') +
            (spec.text ? '; put `--` before text that starts with `--`' : ''),
        );
      }
      const name = option!.name;
      if (name in options) fail(`option \`--${name}\` given twice`);
      const inline = line[named.end] === '=';
      if (option!.value === 'flag') {
        if (inline) fail(`option \`--${name}\` takes no value`);
        options[name] = true;
        offset = named.end;
        continue;
      }
      if (option!.value === 'optional-string') {
        // Its value only ever comes attached (`--worktree=B`): a word after a space is the next argument or text.
        if (!inline) {
          options[name] = true;
          offset = named.end;
          continue;
        }
        const value = readValue(line, named.end + 1);
        if (value.value === '') fail(`option \`--${name}=\` needs a value after \`=\` (or give \`--${name}\` alone)`);
        options[name] = value.value;
        offset = value.end;
        continue;
      }
      let raw: string;
      if (inline) {
        const value = readValue(line, named.end + 1);
        raw = value.value;
        offset = value.end;
      } else {
        const valueAt = skipSpace(line, named.end);
        if (valueAt >= line.length || line.startsWith('--', valueAt)) {
          fail(`option \`--${name}\` needs a value (${option!.placeholder ?? name.toUpperCase()})`);
        }
        const value = readValue(line, valueAt);
        raw = value.value;
        offset = value.end;
      }
      if (option!.value === 'int') {
        if (!/^\d{1,9}$/.test(raw)) fail(`option \`--${name}\` needs a whole number, not \`${raw.slice(0, 40)}\``);
        options[name] = Number(raw);
      } else {
        options[name] = raw;
      }
      continue;
    }
    if (positionals.length < expected()) {
      const value = readValue(line, at);
      positionals.push(value.value);
      offset = value.end;
      continue;
    }
    if (spec.text) {
      // Free text is everything from here, raw: quotes, backticks and all.
      text = line.slice(at);
      break;
    }
    fail(`too many arguments for \`${spec.verb}\`: \`${readBare(line, at).value.slice(0, 40)}\``);
  }

  const wanted = active();
  const required = wanted.filter((p) => !p.optional).length;
  if (positionals.length < required) {
    const missing = wanted.filter((p) => !p.optional)[positionals.length];
    fail(`\`${spec.verb}\` needs <${missing?.name ?? 'argument'}>`);
  }
  if (spec.text?.required && (text === undefined || text.trim() === '')) {
    fail(`\`${spec.verb}\` needs <${spec.text.name}…>`);
  }

  // Optional positionals that come before required ones are skipped first: `new [name] <server>` with one
  // argument means the server.
  const args: Record<string, string> = {};
  let spare = positionals.length - required;
  let next = 0;
  for (const positional of wanted) {
    if (positional.optional) {
      if (spare <= 0) continue;
      spare--;
    }
    const value = positionals[next++];
    if (value !== undefined) args[positional.name] = value;
  }

  return text === undefined ? { verb: spec.verb, args, options } : { verb: spec.verb, args, options, text };
}

/** Quotes a value so that `parseCommandLine` reads it back as one token. */
export function quoteArg(value: string): string {
  if (value !== '' && !/[\s"'\\]/.test(value) && !value.startsWith('-')) return value;
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
