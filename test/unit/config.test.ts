import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scrubberFor } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { SAMPLE_CONFIG } from '../../src/config/sample.js';
import { SwitchboardError } from '../../src/errors.js';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'sb-config-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

function write(yaml: string, name = 'switchboard.yaml'): string {
  const file = join(cwd, name);
  writeFileSync(file, yaml);
  return file;
}

function configError(env: Record<string, string | undefined> = {}): SwitchboardError {
  try {
    loadConfig(cwd, env);
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchboardError);
    expect((error as SwitchboardError).code).toBe('config_invalid');
    return error as SwitchboardError;
  }
  throw new Error('expected config_invalid');
}

describe('loadConfig: files', () => {
  it('a missing optional file is fine: defaults everywhere', () => {
    const config = loadConfig(cwd, {});
    expect(config.file).toBe(join(cwd, 'switchboard.yaml'));
    expect(config.fileExists).toBe(false);
    expect(config.servers).toEqual([]);
    expect(config.monitor).toEqual({ interval: '5m', stallAfter: '10m', unreachableAfter: 3 });
    expect(config.access).toMatchObject({ admins: [], members: [], viewers: [], consoleIsAdmin: true, allowMetadataAddresses: false });
    expect(config.limits).toEqual({ promptMaxChars: 100_000, commandsPerMinute: 30 });
    expect(config.databasePath).toBe(join(cwd, 'data', 'switchboard.db'));
  });

  it('a missing file named by SWITCHBOARD_CONFIG is an error naming it', () => {
    const error = configError({ SWITCHBOARD_CONFIG: 'conf/nope.yaml' });
    expect(error.message).toBe(`${join(cwd, 'conf', 'nope.yaml')}: file not found (named by SWITCHBOARD_CONFIG)`);
  });

  it('reads the file named by SWITCHBOARD_CONFIG, relative to the working directory', () => {
    mkdirSync(join(cwd, 'conf'));
    write('servers:\n  - name: lab\n    url: http://127.0.0.1:4096\n', 'conf/sb.yaml');
    const config = loadConfig(cwd, { SWITCHBOARD_CONFIG: 'conf/sb.yaml' });
    expect(config.file).toBe(join(cwd, 'conf', 'sb.yaml'));
    expect(config.fileExists).toBe(true);
    expect(config.servers).toEqual([{ name: 'lab', url: 'http://127.0.0.1:4096' }]);
  });

  it('an empty file means defaults', () => {
    write('');
    expect(loadConfig(cwd, {}).fileExists).toBe(true);
    write('# only a comment\n');
    expect(loadConfig(cwd, {}).servers).toEqual([]);
  });

  it('the sample written by `config --init` loads as is', () => {
    write(SAMPLE_CONFIG);
    const config = loadConfig(cwd, {});
    expect(config.servers.map((s) => s.name)).toEqual(['lab']);
    expect(config.monitor.interval).toBe('5m');
  });

  it('invalid YAML reports the line and column', () => {
    const file = write('servers:\n  - name: lab\n    url: [unclosed\n');
    const error = configError();
    expect(error.message.startsWith(`${file}: line `)).toBe(true);
    expect(error.message).toMatch(/: line \d+, column \d+: invalid YAML: /);
    expect(error.message).not.toContain('\n');
  });

  it('invalid YAML on a known line', () => {
    write('servers: []\nlimits: {}\nservers: []\n');
    expect(configError().message).toMatch(/: line 3, column 1: invalid YAML: Map keys must be unique/);
    write('monitor:\n  interval: 5m\n\tstallAfter: 10m\n');
    expect(configError().message).toMatch(/: line 3, column 1: invalid YAML: Tabs are not allowed/);
  });

  it('a top level that is not a mapping is refused, saying what it is', () => {
    const file = write('- a\n- b\n');
    expect(configError().message).toBe(`${file}: the top level must be a mapping of keys, not a list`);
    write('just a string\n');
    expect(configError().message).toBe(`${file}: the top level must be a mapping of keys, not text`);
    write('false\n');
    expect(configError().message).toBe(`${file}: the top level must be a mapping of keys, not true/false`);
    write('!!omap\n- servers: []\n');
    expect(configError().message).toBe(`${file}: the top level must be a mapping of keys, not an ordered list of pairs tagged \`!!omap\``);
    write('~\n');
    expect(loadConfig(cwd, {}).servers).toEqual([]);
  });
});

describe('loadConfig: only plain data', () => {
  const refused = ': a config holds only mappings, lists, text, numbers, true/false and null';

  it('YAML 1.1 types are refused where they are written, even when untagged', () => {
    const file = write('%YAML 1.1\n---\nmonitor: 2001-12-14\n');
    expect(configError().message).toBe(`${file}: monitor, line 3, column 1: a date is not allowed${refused}`);
    write('servers:\n  - name: lab\n    url: http://a:1\naccess:\n  names: !!set { kumo }\n');
    expect(configError().message).toBe(`${file}: access.names, line 5, column 3: a set tagged \`!!set\` is not allowed${refused}`);
    write('access:\n  admins: !!pairs\n    - console: x\n');
    expect(configError().message).toMatch(/: access\.admins, line 2, column 3: an ordered list of pairs tagged `!!pairs` is not allowed/);
  });

  it('an unknown tag is refused instead of silently read as text', () => {
    const file = write('servers:\n  - name: lab\n    url: !secret http://a:1\n');
    expect(configError().message).toBe(`${file}: servers[0].url, line 3, column 5: text tagged \`!secret\` is not allowed${refused}`);
  });

  it('core tags and a few aliases are fine', () => {
    write('servers:\n  - name: !!str lab\n    url: http://a:1\naccess:\n  admins: &team [console:*]\n  members: *team\nlimits: { promptMaxChars: !!int 500 }\n');
    const config = loadConfig(cwd, {});
    expect(config.access.members).toEqual(['console:*']);
    expect(config.limits.promptMaxChars).toBe(500);
  });

  it('a key that is a collection, or named __proto__, is refused', () => {
    const file = write('? [servers, monitor]\n: 1\n');
    expect(configError().message).toBe(`${file}: line 1, column 3: a key must be a plain word, not a list`);
    write('access:\n  names:\n    __proto__:\n      admins: ["console:*"]\n');
    expect(configError().message).toBe(`${file}: access.names, line 3, column 5: a key cannot be named \`__proto__\``);
  });

  it('aliases that expand past the bound are refused in one line, not a ReferenceError', () => {
    const lists = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c']] as const) lists.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    const file = write(lists.join('\n'));
    const error = configError();
    expect(error.message).toBe(`${file}: invalid YAML: aliases (\`*name\`) expand to more than 100 nodes; write the values out instead`);
    expect(error.cause).toBeInstanceOf(ReferenceError);
  });
});

describe('loadConfig: validation names the key and the problem', () => {
  it('a bad server URL: servers[0].url', () => {
    const file = write('servers:\n  - name: lab\n    url: ftp://lab:21\n');
    expect(configError().message).toBe(`${file}: servers[0].url: must be an http:// or https:// URL`);
  });

  it('a bad second server: servers[1].name', () => {
    write('servers:\n  - name: lab\n    url: http://a:1\n  - name: Bad Name\n    url: http://b:1\n');
    expect(configError().message).toMatch(/: servers\[1\]\.name: must be a name like `lab`/);
  });

  it('unknown keys are refused by name', () => {
    const file = write('servers:\n  - name: lab\n    url: http://a:1\n    pasword: x\n');
    expect(configError().message).toBe(`${file}: servers[0]: unknown key \`pasword\``);
    write('monitr:\n  interval: 5m\nacess: {}\n');
    expect(configError().message).toMatch(/: unknown keys `monitr`, `acess`$/);
    write('monitor:\n  intervall: 5m\n');
    expect(configError().message).toMatch(/: monitor: unknown key `intervall`$/);
  });

  it('bad values in nested sections', () => {
    write('monitor:\n  interval: every so often\n');
    expect(configError().message).toMatch(/: monitor\.interval: must be 30s, 5m, 1h or a cron expression$/);
    write('monitor:\n  stallAfter: "*/5 * * * *"\n');
    expect(configError().message).toMatch(/: monitor\.stallAfter: must be a duration such as 30s, 10m or 1h$/);
    write('access:\n  admins: [U123]\n');
    expect(configError().message).toMatch(/: access\.admins\[0\]: must be an actor id such as slack:U123/);
    write('limits:\n  promptMaxChars: 0\n');
    expect(configError().message).toMatch(/: limits\.promptMaxChars: /);
    write('access:\n  names:\n    kumo:\n      members: [nobody]\n');
    expect(configError().message).toMatch(/: access\.names\.kumo\.members\[0\]: must be an actor id/);
  });

  it('a passwordEnv naming an unset variable is an error', () => {
    const file = write('servers:\n  - name: lab\n    url: http://a:1\n    passwordEnv: LAB_PASSWORD\n');
    expect(configError({}).message).toBe(`${file}: servers[0].passwordEnv: names LAB_PASSWORD, which is not set in the environment or .env`);
    expect(loadConfig(cwd, { LAB_PASSWORD: 's3cret' }).servers[0]).toEqual({ name: 'lab', url: 'http://a:1', passwordEnv: 'LAB_PASSWORD' });
  });

  it('a passwordEnv that is not a variable name is an error', () => {
    write('servers:\n  - name: lab\n    url: http://a:1\n    passwordEnv: "$LAB PASSWORD"\n');
    expect(configError().message).toMatch(/servers\[0\]\.passwordEnv: must be the name of an environment variable$/);
  });

  it('duplicate server names are an error naming the second', () => {
    const file = write('servers:\n  - name: lab\n    url: http://a:1\n  - name: lab\n    url: http://b:1\n');
    expect(configError().message).toBe(`${file}: servers[1].name: the name \`lab\` is used twice`);
  });

  it('never puts the password value in an error', () => {
    write('servers:\n  - name: lab\n    url: http://a:1\n    passwordEnv: PW\n    bogus: 1\n');
    expect(configError({ PW: 'hunter22-secret' }).message).not.toContain('hunter22');
  });
});

describe('loadConfig: database path', () => {
  it('SWITCHBOARD_DB relative → absolute under the working directory', () => {
    expect(loadConfig(cwd, { SWITCHBOARD_DB: 'state/sb.db' }).databasePath).toBe(join(cwd, 'state', 'sb.db'));
    expect(loadConfig(cwd, { SWITCHBOARD_DB: './sb.db' }).databasePath).toBe(join(cwd, 'sb.db'));
  });

  it('absolute paths and :memory: are kept', () => {
    expect(loadConfig(cwd, { SWITCHBOARD_DB: '/var/lib/sb/sb.db' }).databasePath).toBe('/var/lib/sb/sb.db');
    expect(loadConfig(cwd, { SWITCHBOARD_DB: ':memory:' }).databasePath).toBe(':memory:');
  });
});

describe('scrubberFor', () => {
  it('hides secret-looking values of the process and of executors’ env:, and the servers’ passwords', () => {
    write(
      [
        'servers:',
        '  - { name: lab, url: "http://10.0.0.5:4096", passwordEnv: LAB_PW }',
        'executors:',
        '  - name: crib',
        '    type: local',
        '    env: { ANTHROPIC_API_KEY: plain-executor-key-123, GIT_AUTHOR_NAME: Jimmy Mcgill }',
      ].join('\n'),
    );
    const env = { LAB_PW: 'lab-password-9', SLACK_BOT_TOKEN: 'bot-token-value', HOME: '/home/jimmy' };
    const scrub = scrubberFor(loadConfig(cwd, env), env);
    expect(scrub('plain-executor-key-123 / lab-password-9 / bot-token-value')).toBe('[redacted] / [redacted] / [redacted]');
    expect(scrub('commits by Jimmy Mcgill in /home/jimmy')).toBe('commits by Jimmy Mcgill in /home/jimmy');
  });
});

describe('executors: envFrom', () => {
  const yaml = (list: string) => ['executors:', '  - name: crib', '    type: local', `    envFrom: ${list}`, '    env: { MODE: fast, GIT_AUTHOR_NAME: Kim }'].join('\n');

  it('copies the named variables of the environment into the executor’s env; a value written in env wins', () => {
    write(yaml('[ANTHROPIC_API_KEY, GIT_AUTHOR_NAME]'));
    const config = loadConfig(cwd, { ANTHROPIC_API_KEY: 'key-from-the-environment', GIT_AUTHOR_NAME: 'Jimmy', SLACK_BOT_TOKEN: 'not-for-tasks' });
    expect(config.executors[0]!.env).toEqual({ ANTHROPIC_API_KEY: 'key-from-the-environment', GIT_AUTHOR_NAME: 'Kim', MODE: 'fast' });
  });

  it('names the key and the variable when it is not set, or not a variable name', () => {
    write(yaml('[ANTHROPIC_API_KEY]'));
    expect(configError({}).message).toContain('executors[0].envFrom: names ANTHROPIC_API_KEY, which is not set in the environment or .env');
    write(yaml('["$(id)"]'));
    expect(configError({}).message).toContain('environment variable names are letters, digits and _');
  });
});
