import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Poisoned `switchboard.yaml` files through the real `switchboard` command and the real bot process: each is
 * refused before anything starts, with one line naming the file and exit status 2 (as any config error).
 */
const BIN = resolve(import.meta.dirname, '../../bin/switchboard.js');
let cwd: string;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, USER: 'scripter' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Nine lists of nine, six deep: 9^6 = 531,441 "lol"s if the aliases were expanded.
const BILLION_LAUGHS = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...'bcdef'.split('').map((name, i) => {
  const prev = 'abcde'[i]!;
  return `${name}: &${name} [${Array.from({ length: 9 }, () => `*${prev}`).join(', ')}]`;
})].join('\n');

const CASES: Array<{ what: string; yaml: string; problem: RegExp }> = [
  { what: 'a billion-laughs file', yaml: BILLION_LAUGHS, problem: /: invalid YAML: aliases \(`\*name`\) expand to more than 100 nodes; write the values out instead$/ },
  { what: 'a !!binary root', yaml: '!!binary aGVsbG8gd29ybGQ=\n', problem: /: the top level must be a mapping of keys, not binary data tagged `!!binary`$/ },
  { what: 'a !!set root', yaml: '!!set\n? servers\n? monitor\n', problem: /: the top level must be a mapping of keys, not a set tagged `!!set`$/ },
  { what: 'a !!timestamp root', yaml: '!!timestamp 2001-12-14\n', problem: /: the top level must be a mapping of keys, not a date tagged `!!timestamp`$/ },
  { what: 'a list root', yaml: '- servers\n- monitor\n', problem: /: the top level must be a mapping of keys, not a list$/ },
  { what: 'a scalar root', yaml: 'just some text\n', problem: /: the top level must be a mapping of keys, not text$/ },
  {
    what: 'a date for a whole section (it used to pass: a Date has no keys)',
    yaml: 'monitor: !!timestamp 2001-12-14\n',
    problem: /: monitor, line 1, column \d+: a date tagged `!!timestamp` is not allowed: a config holds only mappings, lists, text, numbers, true\/false and null$/,
  },
  {
    what: 'a Buffer deep in the tree',
    yaml: 'access:\n  names:\n    kumo: !!binary aGVsbG8=\n',
    problem: /: access\.names\.kumo, line 3, column \d+: binary data tagged `!!binary` is not allowed: /,
  },
];

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'sb-hostile-config-'));
});
afterAll(() => {
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('a poisoned switchboard.yaml', () => {
  for (const { what, yaml, problem } of CASES) {
    it(`${what}: one line naming the file, exit 2, from a one-shot command and from the bot`, async () => {
      const file = join(cwd, 'switchboard.yaml');
      writeFileSync(file, yaml);
      const once = await run(['sessions']);
      expect(once.code, once.stderr).toBe(2);
      expect(once.stderr.split('\n')).toEqual([expect.stringMatching(problem), '']);
      expect(once.stderr).toMatch(new RegExp(`^switchboard: (configuration error: )?${escape(file)}: `));
      expect(once.stdout).toBe('');

      const bot = await run([]);
      expect(bot.code, bot.stderr).toBe(2);
      expect(bot.stderr.split('\n')).toEqual([expect.stringMatching(problem), '']);
      expect(bot.stderr).toMatch(new RegExp(`^switchboard: configuration error: ${escape(file)}: `));
      // Refused before anything was opened.
      expect(existsSync(join(cwd, 'data'))).toBe(false);
    });
  }
});
