import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, quoteArg } from '../../src/commands/grammar.js';
import { allCommands } from '../../src/commands/index.js';
import type { GrammarSpec } from '../../src/commands/spec.js';
import { SwitchboardError } from '../../src/errors.js';

const parse = (line: string) => parseCommandLine(line, allCommands);

/** Runs `fn`, expecting a SwitchboardError, and returns it. */
function failure(fn: () => unknown): SwitchboardError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchboardError);
    return error as SwitchboardError;
  }
  throw new Error('expected a SwitchboardError, but nothing was thrown');
}

/** A small table of our own for the option kinds the real verbs do not use yet (int, flag). */
const custom: GrammarSpec[] = [
  {
    verb: 'logs',
    summary: 'task output',
    positionals: [{ name: 'name' }],
    options: [
      { name: 'lines', value: 'int', placeholder: 'N', description: 'how many lines' },
      { name: 'follow', value: 'flag', description: 'keep reading' },
    ],
  },
  {
    verb: 'run',
    summary: 'shell task',
    positionals: [{ name: 'executor' }],
    options: [{ name: 'name', value: 'string', placeholder: 'N', description: 'a name' }],
    text: { name: 'command', required: true },
  },
];

describe('verbs', () => {
  it('matches verbs case-insensitively and reports the canonical verb', () => {
    expect(parse('SEND kumo hi').verb).toBe('send');
    expect(parse('Status kumo')).toEqual({ verb: 'status', args: { name: 'kumo' }, options: {} });
    expect(parse('HeLp').verb).toBe('help');
  });

  it('ignores whitespace around the command', () => {
    expect(parse('   \t status   kumo  ')).toEqual({ verb: 'status', args: { name: 'kumo' }, options: {} });
  });

  it('suggests the closest verb for a typo', () => {
    const error = failure(() => parse('sned kumo hi'));
    expect(error.code).toBe('unknown_command');
    expect(error.message).toContain('unknown command `sned`');
    expect(error.message).toContain('did you mean `send`?');
    expect(error.hint).toContain('help');
  });

  it('does not suggest anything for a word far from every verb', () => {
    const error = failure(() => parse('xyzzyplugh kumo'));
    expect(error.code).toBe('unknown_command');
    expect(error.message).not.toContain('did you mean');
  });

  it('bounds the echoed unknown verb', () => {
    const error = failure(() => parse(`${'q'.repeat(5_000)} kumo`));
    expect(error.code).toBe('unknown_command');
    expect(error.message.length).toBeLessThan(200);
  });

  it('refuses an empty line', () => {
    for (const line of ['', '   ', '\n\t']) {
      const error = failure(() => parse(line));
      expect(error.code).toBe('usage');
      expect(error.message).toBe('empty command');
    }
  });
});

describe('positionals', () => {
  it('new with one positional takes it as the server', () => {
    expect(parse('new lab')).toEqual({ verb: 'new', args: { server: 'lab' }, options: {} });
  });

  it('new with two positionals takes the name, then the server', () => {
    expect(parse('new kumo http://127.0.0.1:4096')).toEqual({
      verb: 'new',
      args: { name: 'kumo', server: 'http://127.0.0.1:4096' },
      options: {},
    });
  });

  it('an optional trailing positional is filled only when given', () => {
    expect(parse('approve kumo').args).toEqual({ name: 'kumo' });
    expect(parse('approve kumo always').args).toEqual({ name: 'kumo', scope: 'always' });
    expect(parse('watch kumo "*/10 * * * *"').args).toEqual({ name: 'kumo', interval: '*/10 * * * *' });
  });

  it('says which positional is missing and shows the usage', () => {
    const send = failure(() => parse('send'));
    expect(send.code).toBe('usage');
    expect(send.message).toBe('`send` needs <name>');
    expect(send.hint).toBe('usage: send <name> [--agent A] [--now] [prompt…]');

    const attach = failure(() => parse('attach kumo lab'));
    expect(attach.message).toBe('`attach` needs <session-id>');
    expect(attach.hint).toBe('usage: attach <name> <server> <session-id>');

    const created = failure(() => parse('new'));
    expect(created.message).toBe('`new` needs <server>');
  });

  it('refuses too many arguments, naming the first extra one', () => {
    const error = failure(() => parse('status kumo extra more'));
    expect(error.code).toBe('usage');
    expect(error.message).toBe('too many arguments for `status`: `extra`');
    expect(error.hint).toBe('usage: status <name>');
    expect(failure(() => parse('new a b c')).message).toContain('too many arguments for `new`: `c`');
    expect(failure(() => parse('sessions now')).message).toContain('too many arguments for `sessions`');
  });

  it('a quoted positional may hold spaces and escaped quotes', () => {
    expect(parse('help "send"').args).toEqual({ command: 'send' });
    expect(parse(`new 'my server' --title "say \\"hi\\" \\\\ bye"`)).toEqual({
      verb: 'new',
      args: { server: 'my server' },
      options: { title: 'say "hi" \\ bye' },
    });
  });

  it('single quotes take backslashes literally', () => {
    expect(parse(`new lab --dir 'C:\\work\\app'`).options).toEqual({ dir: 'C:\\work\\app' });
  });

  it('reports an unclosed quote with its column', () => {
    const error = failure(() => parse('status "kumo'));
    expect(error.code).toBe('usage');
    expect(error.message).toBe('unclosed " quote starting at column 8');
    expect(failure(() => parse("new lab --title 'oops")).message).toBe("unclosed ' quote starting at column 17");
  });
});

describe('options', () => {
  it('may appear before, between and after positionals', () => {
    const expected = { verb: 'new', args: { name: 'kumo', server: 'lab' }, options: { agent: 'build', dir: '/srv/app' } };
    expect(parse('new --agent build kumo lab --dir /srv/app')).toEqual(expected);
    expect(parse('new kumo --dir /srv/app lab --agent build')).toEqual(expected);
    expect(parse('new kumo lab --agent build --dir /srv/app')).toEqual(expected);
  });

  it('before the free text of send', () => {
    expect(parse('send --agent plan kumo fix it')).toEqual({ verb: 'send', args: { name: 'kumo' }, options: { agent: 'plan' }, text: 'fix it' });
    expect(parse('send kumo --agent plan fix it')).toEqual({ verb: 'send', args: { name: 'kumo' }, options: { agent: 'plan' }, text: 'fix it' });
  });

  it('after the free text has started, `--words` belong to the text', () => {
    expect(parse('send kumo fix --agent plan please')).toEqual({
      verb: 'send',
      args: { name: 'kumo' },
      options: {},
      text: 'fix --agent plan please',
    });
  });

  it('accepts --x=value', () => {
    expect(parse('new lab --agent=build --model=anthropic/claude-sonnet-4-6').options).toEqual({
      agent: 'build',
      model: 'anthropic/claude-sonnet-4-6',
    });
    // Only the first = separates; the value keeps the rest.
    expect(parse('new lab --title=a=b').options).toEqual({ title: 'a=b' });
    expect(parse('new lab --title=').options).toEqual({ title: '' });
  });

  it('accepts a quoted value after --x=', () => {
    expect(parse('new lab --title="fix the auth bug"')).toEqual({ verb: 'new', args: { server: 'lab' }, options: { title: 'fix the auth bug' } });
  });

  it('accepts a quoted value, which may itself start with --', () => {
    expect(parse('new lab --title "fix the auth bug"').options).toEqual({ title: 'fix the auth bug' });
    expect(parse('new lab --title "--wip"').options).toEqual({ title: '--wip' });
  });

  it('an unknown option suggests the closest known one', () => {
    const error = failure(() => parse('new lab --agnet build'));
    expect(error.code).toBe('usage');
    expect(error.message).toContain('unknown option `--agnet` for `new` (did you mean `--agent`?)');
    expect(error.hint).toBe('usage: new [name] <server> [--agent A] [--model provider/model] [--dir PATH] [--title T] [--worktree[=B]]');
  });

  it('an unknown option far from every known one lists the options', () => {
    const error = failure(() => parse('send kumo --verbose is broken'));
    expect(error.message).toContain('unknown option `--verbose` for `send` (options: --agent, --now)');
    expect(error.message).toContain('put `--` before text that starts with `--`');
  });

  it('an option given to a verb without options says so', () => {
    const error = failure(() => parse('status kumo --force'));
    expect(error.message).toBe('unknown option `--force` for `status` (it takes no options)');
  });

  it('refuses an option given twice', () => {
    const error = failure(() => parse('new lab --agent a --agent=b'));
    expect(error.code).toBe('usage');
    expect(error.message).toBe('option `--agent` given twice');
  });

  it('refuses a string option without a value', () => {
    expect(failure(() => parse('new lab --agent')).message).toBe('option `--agent` needs a value (A)');
    expect(failure(() => parse('new lab --agent --dir /x')).message).toBe('option `--agent` needs a value (A)');
  });

  it('reads int options as numbers and refuses anything else', () => {
    expect(parseCommandLine('logs kumo --lines 40', custom)).toEqual({ verb: 'logs', args: { name: 'kumo' }, options: { lines: 40 } });
    expect(parseCommandLine('logs --lines=007 kumo', custom).options).toEqual({ lines: 7 });
    for (const bad of ['-1', '1.5', 'ten', '1e3', '１２', '1234567890']) {
      const error = failure(() => parseCommandLine(`logs kumo --lines ${bad}`, custom));
      expect(error.code).toBe('usage');
      expect(error.message).toBe(`option \`--lines\` needs a whole number, not \`${bad}\``);
      expect(error.hint).toBe('usage: logs <name> [--lines N] [--follow]');
    }
  });

  it('reads flags without a value', () => {
    expect(parseCommandLine('logs kumo --follow', custom).options).toEqual({ follow: true });
    expect(failure(() => parseCommandLine('logs kumo --follow=yes', custom)).message).toBe('option `--follow` takes no value');
  });

  it('an option with an optional value takes it only after `=`: a word after a space is text (`--worktree`)', () => {
    // Alone: true (a generated branch); the words after it are the prompt, whatever they look like.
    expect(parse('start crib --worktree fix the build')).toEqual({ verb: 'start', args: { executor: 'crib' }, options: { worktree: true }, text: 'fix the build' });
    expect(parse('start crib --worktree=fix/login fix the build')).toEqual({ verb: 'start', args: { executor: 'crib' }, options: { worktree: 'fix/login' }, text: 'fix the build' });
    expect(parse('run crib --worktree="odd name" -- git commit').options).toEqual({ worktree: 'odd name' });
    expect(parse('run crib --worktree -- make test')).toEqual({ verb: 'run', args: { executor: 'crib' }, options: { worktree: true }, text: 'make test' });
    // Anywhere before the text, with other options around it.
    expect(parse('start --worktree crib --name n do it')).toEqual({ verb: 'start', args: { executor: 'crib' }, options: { worktree: true, name: 'n' }, text: 'do it' });
    expect(parse('new kumo @crib --dir ~/repo --worktree=feat/x').options).toEqual({ dir: '~/repo', worktree: 'feat/x' });
    expect(parse('new kumo @crib --worktree').options).toEqual({ worktree: true });
    const empty = failure(() => parse('start crib --worktree= go'));
    expect(empty.message).toBe('option `--worktree=` needs a value after `=` (or give `--worktree` alone)');
    expect(empty.hint).toContain('[--worktree[=B]]');
    expect(failure(() => parse('start crib --worktree --worktree=x go')).message).toBe('option `--worktree` given twice');
  });

  it('a quoted "--x" is a value, not an option', () => {
    expect(parse('help "--agent"').args).toEqual({ command: '--agent' });
  });
});

describe('free text', () => {
  it('starts at the first token after the positionals and keeps its raw bytes, quotes included', () => {
    expect(parse('send kumo "fix" the \'auth\'  test  ').text).toBe('"fix" the \'auth\'  test  ');
    expect(parse('send kumo    fix it').text).toBe('fix it');
  });

  it('keeps newlines and indentation inside the text', () => {
    expect(parse('send kumo fix this:\n    def f():\n\treturn 1\n').text).toBe('fix this:\n    def f():\n\treturn 1\n');
  });

  it('a prompt that starts with an unbalanced quote is still free text', () => {
    expect(parse("send kumo 'twas the night before the release").text).toBe("'twas the night before the release");
    expect(parse('send kumo "quoted opening, never closed').text).toBe('"quoted opening, never closed');
  });

  it('after `--` everything is text, byte for byte, with only the single separator removed', () => {
    expect(parse('send kumo -- --verbose is broken').text).toBe('--verbose is broken');
    expect(parse('send kumo --    indented').text).toBe('   indented');
    expect(parse('send kumo --\n  line two\n').text).toBe('  line two\n');
    expect(parse('send --agent plan kumo -- "a" --b \'c').text).toBe('"a" --b \'c');
    expect(parse('send kumo --')).toEqual({ verb: 'send', args: { name: 'kumo' }, options: {}, text: '' });
  });

  it('a quoted "--" is not the separator', () => {
    expect(parse('send kumo "--" x').text).toBe('"--" x');
  });

  it('`--` on a verb without free text is refused', () => {
    const error = failure(() => parse('status kumo -- x'));
    expect(error.code).toBe('usage');
    expect(error.message).toBe('`status` takes no free text after `--`');
  });

  it('required free text must not be blank', () => {
    expect(failure(() => parse('answer kumo')).message).toBe('`answer` needs <choice…>');
    expect(failure(() => parse('answer kumo --   ')).message).toBe('`answer` needs <choice…>');
    expect(failure(() => parseCommandLine('run box', custom)).message).toBe('`run` needs <command…>');
    expect(parse('answer kumo Blue').text).toBe('Blue');
  });

  it('optional free text is absent when not given', () => {
    expect(parse('deny kumo')).toEqual({ verb: 'deny', args: { name: 'kumo' }, options: {} });
    expect(parse('deny kumo use staging').text).toBe('use staging');
  });
});

describe('properties', () => {
  const hostileChars = fc.constantFrom(
    '\u0000', '\u200b', '\u200d', '\u202e', '\u2066', '\ufeff', '\u00a0', '\u2028', '\r', '\n', '\t', ' ',
    '"', "'", '\\', '-', '--', '=', 'send', 'new', 'kumo', '--agent', '--title', '--lines', '😀', '\ud800',
  );
  const hostileString = fc
    .array(fc.oneof(fc.string({ unit: 'binary' }), hostileChars), { maxLength: 30 })
    .map((parts) => parts.join(''));
  /** Any UTF-16 code units, lone surrogates and NUL included, up to 300 long. */
  const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 300 }).map((codes) => String.fromCharCode(...codes));

  // Inside properties, node:assert is used instead of expect(): it is much cheaper over thousands of runs.
  function parsesOrRefuses(line: string, specs: readonly GrammarSpec[] = allCommands): void {
    try {
      const parsed = parseCommandLine(line, specs);
      assert.equal(typeof parsed.verb, 'string');
    } catch (error) {
      if (!(error instanceof SwitchboardError)) throw error;
      assert.ok(['usage', 'unknown_command'].includes(error.code), error.code);
    }
  }

  it('any string either parses or is refused with a SwitchboardError', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, codeUnits), (line) => {
        parsesOrRefuses(line);
        parsesOrRefuses(line, custom);
        // The same bytes behind each real verb exercise positionals, options and text.
        for (const verb of ['send', 'new', 'approve', 'answer']) parsesOrRefuses(`${verb} ${line}`);
        parsesOrRefuses(`logs ${line}`, custom);
      }),
      { numRuns: 300 },
    );
  });

  it('very long lines parse or are refused', () => {
    const long = 'x'.repeat(100_000);
    expect(parse(`send kumo ${long}`).text).toBe(long);
    expect(parse(`send kumo -- ${long}\n${long}`).text).toBe(`${long}\n${long}`);
    expect(failure(() => parse(long)).code).toBe('unknown_command');
    expect(failure(() => parse(`send kumo --${long}`)).code).toBe('usage');
    expect(failure(() => parse(`send "${long}`)).code).toBe('usage');
    expect(failure(() => parse(`status ${long} ${long}`)).code).toBe('usage');
  });

  it('`send kumo -- <p>` gives back p exactly, for any p', () => {
    const prompt = fc.oneof(fc.string({ unit: 'binary' }), hostileString, codeUnits, fc.string({ unit: 'grapheme' }));
    fc.assert(
      fc.property(prompt, (p) => {
        const parsed = parse(`send kumo -- ${p}`);
        assert.equal(parsed.text, p);
        assert.deepEqual(parsed.args, { name: 'kumo' });
        assert.deepEqual(parsed.options, {});
      }),
      { numRuns: 1_000 },
    );
  });

  it('`send kumo <p>` keeps p exactly when p starts with a plain word', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (rest) => {
        const p = `fix${rest}`;
        assert.equal(parse(`send kumo ${p}`).text, p);
      }),
      { numRuns: 500 },
    );
  });

  const roundTrips = (v: string) => {
    assert.deepEqual(parse(`help ${quoteArg(v)}`).args, { command: v });
    assert.deepEqual(parse(`new lab --title ${quoteArg(v)}`).options, { title: v });
    assert.deepEqual(parse(`new ${quoteArg(v)} lab`).args, { name: v, server: 'lab' });
  };

  it('quoteArg round-trips any value as one token, as a positional and as an option value', () => {
    const value = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      hostileString,
      codeUnits,
      fc.constantFrom('', '-', '-x', '"', "'", '\\', 'a b', '"\\"', '=', 'a=b'),
    );
    fc.assert(
      fc.property(value, (v) => {
        // Values that start with `--` are covered by the next test on their own.
        fc.pre(!v.startsWith('--'));
        roundTrips(v);
      }),
      { numRuns: 1_000 },
    );
  });

  it('quoteArg protects values that start with -- (they would read as an option or the separator)', () => {
    for (const v of ['--', '--wip', '--agent', '--title=x']) roundTrips(v);
  });

  it('quoteArg leaves plain words alone', () => {
    expect(quoteArg('kumo')).toBe('kumo');
    expect(quoteArg('http://127.0.0.1:4096')).toBe('http://127.0.0.1:4096');
    expect(quoteArg('a b')).toBe('"a b"');
    expect(quoteArg('')).toBe('""');
    expect(quoteArg('say "hi"')).toBe('"say \\"hi\\""');
  });
});
