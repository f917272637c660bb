import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli-args.js';
import { SwitchboardError } from '../../src/errors.js';

function refusal(argv: string[]): SwitchboardError {
  try {
    parseCliArgs(argv);
  } catch (error) {
    if (error instanceof SwitchboardError) return error;
    throw error;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('the CLI’s own flags (node:util parseArgs)', () => {
  it('tells the bot, one-shot commands and the CLI’s own commands apart', () => {
    expect(parseCliArgs([])).toEqual({ kind: 'bot' });
    expect(parseCliArgs(['config', '--init'])).toEqual({ kind: 'config-init' });
    expect(parseCliArgs(['health'])).toEqual({ kind: 'health' });
    expect(parseCliArgs(['logs', 'auth', '--follow'])).toEqual({ kind: 'follow-logs', name: 'auth', lines: 40 });
    expect(parseCliArgs(['logs', '--lines', '7', 'auth', '--follow'])).toEqual({ kind: 'follow-logs', name: 'auth', lines: 7 });
    expect(parseCliArgs(['logs', 'auth', '--follow', '--lines=12'])).toEqual({ kind: 'follow-logs', name: 'auth', lines: 12 });
    expect(parseCliArgs(['dashboard'])).toEqual({ kind: 'dashboard', everySeconds: undefined });
    expect(parseCliArgs(['dashboard', '--watch', '5'])).toEqual({ kind: 'dashboard', everySeconds: 5 });
    // `--link [name]` is the chat verb: a private one-time link to the fleet page for whoever runs the CLI.
    expect(parseCliArgs(['dashboard', '--link'])).toEqual({ kind: 'once', words: ['dashboard'], output: 'text' });
    expect(parseCliArgs(['dashboard', '--link', 'kumo'])).toEqual({ kind: 'once', words: ['dashboard', 'kumo'], output: 'text' });
    // `logs` without --follow is the bot's own verb, with the bot's own grammar.
    expect(parseCliArgs(['logs', 'auth', '--lines', '3'])).toEqual({ kind: 'once', words: ['logs', 'auth', '--lines', '3'], output: 'text' });
  });

  it('takes --json / --jsonl off a bot command, but not after `--`, where they are the prompt’s words', () => {
    expect(parseCliArgs(['sessions', '--json'])).toEqual({ kind: 'once', words: ['sessions'], output: 'json' });
    expect(parseCliArgs(['sessions', '--jsonl'])).toEqual({ kind: 'once', words: ['sessions'], output: 'jsonl' });
    expect(parseCliArgs(['new', 'kumo', 'http://x', '--agent', 'build', '--json'])).toEqual({
      kind: 'once',
      words: ['new', 'kumo', 'http://x', '--agent', 'build'],
      output: 'json',
    });
    expect(parseCliArgs(['send', 'kumo', '--', 'print', '--json', 'please'])).toEqual({
      kind: 'once',
      words: ['send', 'kumo', '--', 'print', '--json', 'please'],
      output: 'text',
    });
    // `--json=x` is not our flag: it stays for the grammar to refuse.
    expect(parseCliArgs(['sessions', '--json=x'])).toEqual({ kind: 'once', words: ['sessions', '--json=x'], output: 'text' });
  });

  it('refuses bad flags with the usage line, and nothing runs', () => {
    const cases: Array<[string[], RegExp, string]> = [
      [['logs', 'auth', '--follow', '--lines', 'abc'], /`--lines` needs a whole number from 1, not `abc`/, 'usage: switchboard logs <name> --follow [--lines N]'],
      [['logs', 'auth', '--follow', '--lines', '0'], /not `0`/, 'usage: switchboard logs <name> --follow [--lines N]'],
      [['logs', '--follow'], /exactly one task name/, 'usage: switchboard logs <name> --follow [--lines N]'],
      [['logs', 'a', 'b', '--follow'], /exactly one task name/, 'usage: switchboard logs <name> --follow [--lines N]'],
      [['logs', 'auth', '--follow', '--tail'], /--tail/, 'usage: switchboard logs <name> --follow [--lines N]'],
      [['dashboard', '--watch'], /--watch/, 'usage: switchboard dashboard [--watch SECONDS]'],
      [['dashboard', '--watch', 'soon'], /`--watch` needs a whole number from 1, not `soon`/, 'usage: switchboard dashboard [--watch SECONDS]'],
      [['dashboard', 'now'], /takes no words, not `now`/, 'usage: switchboard dashboard [--watch SECONDS]'],
      [['config', '--init', 'please'], /takes nothing more, not `please`/, 'usage: switchboard config --init'],
    ];
    for (const [argv, message, hint] of cases) {
      const error = refusal(argv);
      expect(error.code, argv.join(' ')).toBe('usage');
      expect(error.message, argv.join(' ')).toMatch(message);
      expect(error.hint, argv.join(' ')).toBe(hint);
    }
  });
});
