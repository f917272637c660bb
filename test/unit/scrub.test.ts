import { describe, expect, it } from 'vitest';
import type { Reply } from '../../src/core/reply.js';
import { createScrubber, scrubReply, secretsFromEnvironment } from '../../src/core/scrub.js';

// Samples are assembled from parts so that secret scanners do not flag this file; each is shaped like the real thing.
const body = (length: number, alphabet = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789') =>
  Array.from({ length }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');
const join = (...parts: string[]) => parts.join('');

const ANTHROPIC = join('sk-ant-', 'api03-', body(86, 'aB3_dE5-fG7hI9jK'), 'AA');
const OPENAI = join('sk-', 'proj-', body(48, 'Ab1Cd2Ef3_Gh4-Ij5'), 'T3Blbk', body(40));
const OPENAI_LEGACY = join('sk-', body(48));
const GITHUB_CLASSIC = join('gh', 'p_', body(36));
const GITHUB_APP = join('gh', 's_', body(36));
const GITHUB_FINE = join('github', '_pat_', body(22), '_', body(59));
const SLACK_BOT = join('xo', 'xb-', '123456789012-', '1234567890123-', body(24));
const SLACK_APP = join('xa', 'pp-', '1-A0123456789-', '1234567890123-', body(64, 'abcdef0123456789'));
const AWS_KEY_ID = join('AK', 'IA', 'IOSFODNN7', 'EXAMPLE');
const AWS_SECRET = join('wJalrXUtnFEMI', '/K7MDENG/bPxRfiCY', 'EXAMPLEKEY');
const JWT = join('eyJ', 'hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', '.', 'eyJ', 'zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ', '.', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c');
const DISCORD = join('MTA5ODc2NTQzMjEwOTg3NjU0', '.', 'GhIjKl', '.', body(38, 'aZ9_-xY8'));
const PEM = [
  join('-----BEGIN ', 'RSA PRIVATE KEY-----'),
  'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2f0x7vH4rL9kPqWm1Xy8s0f9bQ2d',
  'k3Jm9s8fX2q1w0e9r8t7y6u5i4o3p2a1s0d9f8g7h6j5k4l3z2x1c0v9b8n7m6Q=',
  join('-----END ', 'RSA PRIVATE KEY-----'),
].join('\n');
const OPENSSH = [join('-----BEGIN ', 'OPENSSH PRIVATE KEY-----'), 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', join('-----END ', 'OPENSSH PRIVATE KEY-----')].join('\n');

const scrub = createScrubber([]);

/** Each sample, and the secret part that must not survive. */
const mustRedact: Array<[label: string, input: string, secret: string]> = [
  ['Anthropic key', `export ANTHROPIC_KEY_X ${ANTHROPIC} done`, ANTHROPIC],
  ['OpenAI project key', `key ${OPENAI}`, OPENAI],
  ['OpenAI legacy key', `key ${OPENAI_LEGACY}.`, OPENAI_LEGACY],
  ['GitHub classic token', `git push https://${GITHUB_CLASSIC}@github.com/o/r`, GITHUB_CLASSIC],
  ['GitHub app token', `token ${GITHUB_APP}`, GITHUB_APP],
  ['GitHub fine-grained token', `GH=${GITHUB_FINE}`, GITHUB_FINE],
  ['Slack bot token', `SLACK ${SLACK_BOT}`, SLACK_BOT],
  ['Slack app token', `app-level ${SLACK_APP}`, SLACK_APP],
  ['AWS access key id', `aws_access_key_id ${AWS_KEY_ID}`, AWS_KEY_ID],
  ['AWS secret (ini)', `aws_secret_access_key = ${AWS_SECRET}`, AWS_SECRET],
  ['AWS secret (env)', `AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`, AWS_SECRET],
  ['PEM private key', `here is the key:\n${PEM}\nand more text`, 'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2f0x7vH4rL9kPqWm1Xy8s0f9bQ2d'],
  ['OpenSSH private key', OPENSSH, 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'],
  ['truncated PEM block', `${join('-----BEGIN ', 'PRIVATE KEY-----')}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7`, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7'],
  ['Bearer header', 'Authorization: Bearer 8f7d6c5b4a39281706f5e4d3c2b1a098', '8f7d6c5b4a39281706f5e4d3c2b1a098'],
  ['Basic header', 'authorization: Basic b3BlbmNvZGU6czNjcmV0', 'b3BlbmNvZGU6czNjcmV0'],
  ['curl header', `curl -H "Authorization: Bearer tok_9f8e7d6c5b4a" https://api.example.com`, 'tok_9f8e7d6c5b4a'],
  ['Proxy-Authorization', 'Proxy-Authorization: Basic dXNlcjpwYXNz', 'dXNlcjpwYXNz'],
  ['password=', 'mysql://localhost?user=root&password=hunter22&db=app', 'hunter22'],
  ['PASSWORD env', 'OPENCODE_SERVER_PASSWORD=s3cr3t-pw', 's3cr3t-pw'],
  ['"password": "…"', '{"user": "bob", "password": "Tr0ub4dor&3x"}', 'Tr0ub4dor'],
  ["password: '…'", "password: 'hunter22'", 'hunter22'],
  ['client_secret', 'client_secret=cs_7f6e5d4c3b2a', 'cs_7f6e5d4c3b2a'],
  ['X-Api-Key header', 'X-Api-Key: ak_live_0123456789', 'ak_live_0123456789'],
  ['token: value', 'token: 0a1b2c3d4e5f', '0a1b2c3d4e5f'],
  ['URL credentials', 'clone https://deploy:hunter22@git.example.com/repo.git', 'hunter22'],
  ['database URL credentials', 'DATABASE_URL=postgres://app:pa55w0rd@db:5432/app', 'pa55w0rd'],
  ['a password typed into a server URL', 'new k2 http://opencode:hunter2secret@127.0.0.1:1 --agent build', 'hunter2secret'],
  ['URL credentials without a user', 'new k2 http://:hunter2secret@127.0.0.1:4096', 'hunter2secret'],
  ['URL credentials before an IPv6 host', 'HTTPS://ops:s3cr3t-pw@[::1]:4096/', 's3cr3t-pw'],
  ['URL credentials with an @ in the password', 'ws://ops:p@ss-word@host/events', 'p@ss-word'],
  ['JWT', `cookie session=${JWT}; path=/`, JWT],
  ['Discord bot token', `DISCORD_TOKEN ${DISCORD}`, DISCORD],
];

describe('createScrubber: token shapes', () => {
  it.each(mustRedact)('redacts a %s', (_label, input, secret) => {
    const result = scrub(input);
    expect(result).not.toContain(secret);
    expect(result).toContain('[redacted]');
  });

  it('keeps the key or scheme that shows what was hidden', () => {
    expect(scrub('Authorization: Bearer 8f7d6c5b4a39281706f5e4d3c2b1a098')).toBe('Authorization: [redacted]');
    expect(scrub('password=hunter22&db=app')).toBe('password=[redacted]&db=app');
    expect(scrub('clone https://deploy:hunter22@git.example.com/repo.git')).toBe('clone https://deploy:[redacted]@git.example.com/repo.git');
    expect(scrub(`aws_secret_access_key = ${AWS_SECRET}`)).toBe('aws_secret_access_key = [redacted]');
    expect(scrub(`before\n${PEM}\nafter`)).toBe('before\n[redacted]\nafter');
  });

  it('hides all of a quoted password that contains spaces', () => {
    const result = scrub('{"password": "correct horse battery staple"}');
    expect(result).not.toContain('horse battery staple');
  });

  it('hides an Authorization header written as a JSON or JS object entry', () => {
    const json = scrub('{"headers": {"Authorization": "Bearer 8f7d6c5b4a39281706f5e4d3c2b1a098"}}');
    expect(json).not.toContain('8f7d6c5b4a39281706f5e4d3c2b1a098');
    const js = scrub("fetch(url, { headers: { authorization: 'Basic b3BlbmNvZGU6czNjcmV0' } })");
    expect(js).not.toContain('b3BlbmNvZGU6czNjcmV0');
  });

  it('redacts several secrets in one text', () => {
    const result = scrub(`a ${GITHUB_CLASSIC} b ${SLACK_BOT} c password=hunter22 d`);
    expect(result).toBe('a [redacted] b [redacted] c password=[redacted] d');
  });
});

describe('createScrubber: known secrets', () => {
  it('redacts configured secrets exactly, wherever they appear', () => {
    const known = createScrubber(['plain-word-secret', 'a.b*c+d?(e)', undefined]);
    expect(known('the value plain-word-secret and xplain-word-secretx')).toBe('the value [redacted] and x[redacted]x');
    expect(known('regex chars a.b*c+d?(e) are literal; abbbc is not')).toBe('regex chars [redacted] are literal; abbbc is not');
  });

  it('ignores secrets shorter than 6 characters (they would eat prose)', () => {
    const known = createScrubber(['abc', 'hello']);
    expect(known('abc hello')).toBe('abc hello');
  });

  it('replaces the longer of two overlapping secrets whole', () => {
    const known = createScrubber(['secret1', 'secret1-extended']);
    expect(known('x secret1-extended y')).toBe('x [redacted] y');
  });

  it('secretsFromEnvironment picks values by secret-looking names', () => {
    const env = {
      SLACK_BOT_TOKEN: 'tok-value-1',
      SLACK_SIGNING_SECRET: 'sign-value-2',
      LAB_PASSWORD: 'pw-value-3',
      OPENAI_API_KEY: 'key-value-4',
      SSH_PRIVATE_KEY: 'pk-value-5',
      HOME: '/home/me',
      SLACK_PORT: '3000',
      EMPTY_TOKEN: '',
      UNSET_SECRET: undefined,
    };
    expect(secretsFromEnvironment(env).sort()).toEqual(['key-value-4', 'pk-value-5', 'pw-value-3', 'sign-value-2', 'tok-value-1']);
  });
});

describe('createScrubber: prose survives untouched', () => {
  const prose = [
    'Fixed the flaky auth test: the token cache was not cleared between runs.',
    'All 42 tests pass; coverage is 87%.',
    'Set max_tokens: 1000 and temperature: 0.2 in the request.',
    'The password reset flow now sends one email instead of two.',
    'See https://example.com/docs/a:b for details, or ssh git@github.com:org/repo.git.',
    'const total = items.reduce((a, b) => a + b, 0);',
    'if (password === confirmation) { return ok; }',
    'docker login --password-stdin registry.example.com',
    'secretName: db-credentials',
    'The commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 fixed it (uuid 123e4567-e89b-12d3-a456-426614174000).',
    'Install scikit-learn and run task-runner --verbose.',
    'Use `sk-` prefixed keys and `ghp_` tokens; never paste them.',
    'Meeting at 10:30, room B; bring the slides.',
    'token_count: 1234, tokens=5678',
    'private_key_path = ~/.ssh/id_ed25519',
    '日本語のテキストもそのまま残る。 ✅ 🔄 🔲',
    '',
  ];
  it.each(prose.map((p) => [p]))('%j', (text) => {
    expect(scrub(text)).toBe(text);
  });
});

describe('scrubReply', () => {
  const secret = `password=hunter22 ${GITHUB_CLASSIC}`;
  const reply: Reply = {
    blocks: [
      { type: 'text', text: `text ${secret}` },
      { type: 'verbatim', text: `verbatim ${secret}`, title: `title ${GITHUB_CLASSIC}` },
      { type: 'output', text: `output ${secret}`, title: 'Output' },
      {
        type: 'choices',
        choiceId: 'c1',
        prompt: `prompt ${secret}`,
        options: [{ label: `label ${GITHUB_CLASSIC}`, description: `description ${secret}`, style: 'primary' }, { label: 'plain' }],
      },
    ],
    tone: 'info',
    data: { kept: true },
  };

  it('scrubs the text of every block type and every choice', () => {
    const result = scrubReply(reply, scrub);
    const all = JSON.stringify(result.blocks.map((b) => (b.type === 'choices' ? { ...b, prompt: b.prompt, options: b.options } : { ...b, title: undefined })));
    expect(all).not.toContain('hunter22');
    expect(all).not.toContain(GITHUB_CLASSIC);
    expect(result.blocks[0]).toEqual({ type: 'text', text: 'text password=[redacted] [redacted]' });
    expect(result.blocks[2]).toEqual({ type: 'output', text: 'output password=[redacted] [redacted]', title: 'Output' });
    expect(result.blocks[3]).toEqual({
      type: 'choices',
      choiceId: 'c1',
      prompt: 'prompt password=[redacted] [redacted]',
      options: [
        { label: 'label [redacted]', description: 'description password=[redacted] [redacted]', style: 'primary' },
        { label: 'plain' },
      ],
    });
    expect(result.tone).toBe('info');
    expect(result.data).toEqual({ kept: true });
  });

  it('scrubs every string in data, however deep, and keeps the rest of its shape', () => {
    const withData: Reply = {
      blocks: [],
      data: { output: `out ${GITHUB_CLASSIC}`, nested: [{ url: 'http://opencode:hunter2secret@host' }, 3, null, true], record: { result: SLACK_BOT } },
    };
    const result = scrubReply(withData, scrub);
    expect(JSON.stringify(result.data)).not.toMatch(/hunter2secret|xoxb-|ghp_/);
    expect(result.data).toEqual({
      output: 'out [redacted]',
      nested: [{ url: 'http://opencode:[redacted]@host' }, 3, null, true],
      record: { result: '[redacted]' },
    });
    expect('data' in scrubReply({ blocks: [] }, scrub)).toBe(false);
  });

  it('scrubs block titles too', () => {
    const result = scrubReply(reply, scrub);
    expect(JSON.stringify(result.blocks)).not.toContain(GITHUB_CLASSIC);
  });

  it('does not change the reply it was given', () => {
    const before = JSON.stringify(reply);
    scrubReply(reply, scrub);
    expect(JSON.stringify(reply)).toBe(before);
  });
});
