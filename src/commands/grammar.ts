import { SwitchboardError } from '../errors.js';
import { closest } from './closest.js';
import { usageOf, type GrammarSpec, type ParsedCommand } from './spec.js';

interface Token {
  value: string;
  /** Offset of the token's first character in the line, so free text can be cut byte for byte. */
  start: number;
  end: number;
  quoted: boolean;
}

const WHITESPACE = /\s/;

/** Reads one token at `from` (after whitespace). Quotes group words for option values and positionals. */
function readToken(line: string, from: number): Token | undefined {
  let i = from;
  while (i < line.length && WHITESPACE.test(line[i]!)) i++;
  if (i >= line.length) return undefined;
  const start = i;
  const quote = line[i];
  if (quote === '"' || quote === "'") {
    let value = '';
    i++;
    while (i < line.length && line[i] !== quote) {
      if (quote === '"' && line[i] === '\\' && i + 1 < line.length) i++;
      value += line[i];
      i++;
    }
    if (i >= line.length) {
      throw new SwitchboardError('usage', `unclosed ${quote} quote starting at column ${start + 1}`);
    }
    return { value, start, end: i + 1, quoted: true };
  }
  while (i < line.length && !WHITESPACE.test(line[i]!)) i++;
  return { value: line.slice(start, i), start, end: i, quoted: false };
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
  const first = readToken(line, 0);
  if (!first) throw new SwitchboardError('usage', 'empty command', { hint: 'type `help` to see the commands' });
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

  for (;;) {
    const token = readToken(line, offset);
    if (!token) break;
    if (!token.quoted && token.value === '--') {
      if (!spec.text) fail(`\`${spec.verb}\` takes no free text after \`--\``);
      text = freeTextFrom(line, token.end);
      break;
    }
    if (!token.quoted && token.value.startsWith('--') && token.value.length > 2) {
      const [rawName, inlineValue] = splitOnce(token.value.slice(2), '=');
      const option = spec.options.find((o) => o.name === rawName);
      if (!option) {
        const known = spec.options.map((o) => `--${o.name}`);
        const suggestion = closest(rawName, spec.options.map((o) => o.name));
        fail(
          `unknown option \`--${rawName.slice(0, 40)}\` for \`${spec.verb}\`` +
            (suggestion ? ` (did you mean \`--${suggestion}\`?)` : known.length ? ` (options: ${known.join(', ')})` : ' (it takes no options)') +
            (spec.text ? '; put `--` before text that starts with `--`' : ''),
        );
      }
      const name = option!.name;
      if (name in options) fail(`option \`--${name}\` given twice`);
      if (option!.value === 'flag') {
        if (inlineValue !== undefined) fail(`option \`--${name}\` takes no value`);
        options[name] = true;
        offset = token.end;
        continue;
      }
      let raw = inlineValue;
      offset = token.end;
      if (raw === undefined) {
        const valueToken = readToken(line, offset);
        if (!valueToken || (!valueToken.quoted && valueToken.value.startsWith('--'))) {
          fail(`option \`--${name}\` needs a value (${option!.placeholder ?? name.toUpperCase()})`);
        }
        raw = valueToken!.value;
        offset = valueToken!.end;
      }
      if (option!.value === 'int') {
        if (!/^\d{1,9}$/.test(raw)) fail(`option \`--${name}\` needs a whole number, not \`${raw.slice(0, 40)}\``);
        options[name] = Number(raw);
      } else {
        options[name] = raw;
      }
      continue;
    }
    if (positionals.length < spec.positionals.length) {
      positionals.push(token.value);
      offset = token.end;
      continue;
    }
    if (spec.text) {
      text = line.slice(token.start);
      break;
    }
    fail(`too many arguments for \`${spec.verb}\`: \`${token.value.slice(0, 40)}\``);
  }

  const required = spec.positionals.filter((p) => !p.optional).length;
  if (positionals.length < required) {
    const missing = spec.positionals.filter((p) => !p.optional)[positionals.length];
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
  for (const positional of spec.positionals) {
    if (positional.optional) {
      if (spare <= 0) continue;
      spare--;
    }
    const value = positionals[next++];
    if (value !== undefined) args[positional.name] = value;
  }

  return text === undefined ? { verb: spec.verb, args, options } : { verb: spec.verb, args, options, text };
}

function splitOnce(value: string, separator: string): [string, string | undefined] {
  const index = value.indexOf(separator);
  return index < 0 ? [value, undefined] : [value.slice(0, index), value.slice(index + 1)];
}

/** Quotes a value so that `parseCommandLine` reads it back as one token. */
export function quoteArg(value: string): string {
  if (value !== '' && !/[\s"'\\]/.test(value)) return value;
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
