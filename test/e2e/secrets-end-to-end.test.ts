import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic/fake-anthropic.js';
import { LEAKED_SECRETS, PEM_BODY_LINES, startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { killTmuxServer, startWebhookSink, tempDir, type WebhookSink } from '../executors/harness.js';
import { CLAUDE_PATH, claudeEnv } from '../helpers/claude-env.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { fakeProviderConfig, opencodeIsolationEnv, removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';
import * as discordHarness from '../discord/harness.js';
import * as slackHarness from '../slack/harness.js';
import { everyRow, fileBytes, leaks } from './secrets-scan.js';

/**
 * Secrets an agent writes reach nobody: the scripted model (SECRETS in the fake LLM) puts token-shaped strings, a
 * multi-line private key, the configured server's password and the password Switchboard generated for a server
 * it manages into its todo list, its tool arguments and its output, through the real `opencode` binary; a Claude
 * task (the real `claude` CLI, SECRETS in the fake Messages API) does the same. One bot per adapter (console as
 * a process, Slack and Discord against their twins) runs both kinds of server. Each secret must be hidden in
 * everything the bot sent to the platform (every API call, every attached file), in every table and byte of its
 * database, in its log lines, and in the completion webhook's body; the redaction marks show there was
 * something to hide.
 */

const OPENCODE_BIN = new URL('../../node_modules/.bin/opencode', import.meta.url).pathname;
/** The configured server's password (OPENCODE_SERVER_PASSWORD of `lab`, read by the bot from LAB_PASSWORD). */
const LAB_PASSWORD = 'lab-pw-Kq83nZ0vX1wT';

/** Everything that must never show, by a label that is safe to print. */
const FIXED: Record<string, string> = {
  'github token': LEAKED_SECRETS[0]!,
  'slack token': LEAKED_SECRETS[1]!,
  'aws key': LEAKED_SECRETS[2]!,
  ...Object.fromEntries(PEM_BODY_LINES.map((line, i) => [`private key line ${i + 1}`, line])),
  'lab password': LAB_PASSWORD,
};

let llm: FakeLlm;
let anthropic: FakeAnthropic;
let lab: OpencodeServer;
let webhook: WebhookSink;
/** The passwords the managed servers' bash printed, one per bot: secrets nobody configured. */
const managed: Record<string, string> = {};

beforeAll(async () => {
  [llm, anthropic, webhook] = await Promise.all([startFakeLlm(), startFakeAnthropic(), startWebhookSink()]);
  // The model knows the configured password (it is in its tool arguments too); the managed one it only prints.
  llm.leakAlso.push(LAB_PASSWORD);
  lab = await startOpencodeServer({ llmBaseUrl: llm.baseUrl, password: LAB_PASSWORD });
}, 180_000);

afterAll(async () => {
  await lab?.stop();
  await Promise.all([llm?.close(), anthropic?.close(), webhook?.close()]);
  if (lab) removeServerRoot(lab);
});

/** One bot's world: a local executor that runs Claude (fake API) and hosts OpenCode (fake LLM) for `new … @local`. */
function world(prefix: string): { root: string; project: string; socket: string; yaml: string[] } {
  const root = tempDir(`sb-secrets-${prefix}-`);
  const project = join(root, 'project');
  const socket = `sb-secrets-${prefix}-${process.pid}`;
  const xdg = (name: string) => join(root, 'xdg', name);
  for (const dir of [project, join(root, 'tasks'), join(xdg('config'), 'opencode')]) mkdirSync(dir, { recursive: true });
  const opencodeConfig = fakeProviderConfig(llm.baseUrl);
  writeFileSync(join(xdg('config'), 'opencode', 'opencode.json'), opencodeConfig);
  writeFileSync(join(project, 'opencode.json'), opencodeConfig);
  const env: Record<string, string> = {
    ...claudeEnv({ baseUrl: anthropic.baseUrl, configDir: join(root, 'claude'), todoTools: true }),
    ...opencodeIsolationEnv(xdg),
  };
  const yaml = [
    'servers:',
    '  - name: lab',
    `    url: ${lab.url}`,
    '    passwordEnv: LAB_PASSWORD',
    'monitor:',
    '  interval: 10s',
    'defaults:',
    `  webhookUrl: ${webhook.url}`,
    '  killGraceSec: 1',
    'executors:',
    '  - name: local',
    '    type: local',
    `    tmuxSocket: ${socket}`,
    `    tasksDir: ${join(root, 'tasks')}`,
    `    claudePath: ${CLAUDE_PATH}`,
    `    opencodePath: ${OPENCODE_BIN}`,
    // The Claude task's Bash prints $LAB_PASSWORD: a server password its environment was given.
    '    envFrom: [LAB_PASSWORD]',
    '    env:',
    ...Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
  ];
  return { root, project, socket, yaml };
}

/**
 * Ends what a world started and removes its files. The managed OpenCode server outlives its tmux server (the bot
 * leaves a server it owns running, on purpose): its processes are found by the world's XDG_DATA_HOME in their
 * environment and killed by pid.
 */
function removeWorld(root: string): void {
  const marker = `XDG_DATA_HOME=${join(root, 'xdg', 'data')}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}

/** Re-reads `probe` until it returns something; a quarter second apart (a transcript is rebuilt each time). */
async function until<T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The held last request of a SECRETS run (three tool results in): what its bash printed, the server's password last. */
async function heldRun(marker: string): Promise<string[]> {
  const request = await until(
    () => llm.requests.find((r) => r.lastUserText.includes(marker) && r.messages.filter((m) => m.role === 'tool').length === 3),
    `the run ${marker} to reach its final request`,
    180_000,
  );
  const printed = request.messages.filter((m) => m.role === 'tool')[1]?.content;
  return String(typeof printed === 'string' ? printed : JSON.stringify(printed)).trim().split('\n');
}

/** How a person drives one adapter, and everything it showed (for a chat platform: every API call it made). */
interface Door {
  prefix: string;
  command(text: string): Promise<void>;
  transcript(): string;
  /** What the adapter shows of a todo list while the run holds (a chat card shows it; the console asks `todo`). */
  showTodo(name: string): Promise<string>;
  dbPath(): string;
  logs(): string;
}

/** A chat door (Slack, Discord): the run's card shows the todo; the harness holds the bot's database and log. */
function chatDoor(prefix: string, h: { db: { name: string }; logger: { lines: string[] } }, command: Door['command'], transcript: () => string): Door {
  return {
    prefix,
    command,
    transcript,
    showTodo: (name) => until(() => (/🔧 bash: printf/.test(transcript()) ? /Rotate what bash printed[^"]*/.exec(transcript())?.[0] : undefined), `${name}'s card with its tool and todo`, 60_000),
    dbPath: () => h.db.name,
    logs: () => h.logger.lines.join('\n'),
  };
}

/** After a chat door's tests: the bot, then the local executor's tmux server and the world's files. */
async function stopChat(h: { stop(): Promise<void> } | undefined, w: ReturnType<typeof world>): Promise<void> {
  await h?.stop();
  killTmuxServer(w.socket);
  removeWorld(w.root);
}

/** The same script through any door: a configured and a managed server, each running the SECRETS script. */
async function runSecrets(door: Door, project: string): Promise<void> {
  const { prefix } = door;
  const shows = (pattern: RegExp, what: string, timeoutMs = 120_000) =>
    until(() => (pattern.test(door.transcript()) ? true : undefined), what, timeoutMs);
  const failed = () => /❌[^\n]*/.exec(door.transcript())?.[0];

  await door.command(`new ${prefix}cfg lab --agent build`);
  await shows(new RegExp(`🆕 \\W*${prefix}cfg\\b`), `${prefix}cfg to be made`);
  await door.command(`new ${prefix}mng @local --agent build --dir ${project}`);
  await until(() => (new RegExp(`🆕 \\W*${prefix}mng\\b`).test(door.transcript()) ? true : failed()), `${prefix}mng on a managed server`, 180_000);
  expect(failed()).toBeUndefined();

  for (const name of [`${prefix}cfg`, `${prefix}mng`]) {
    const marker = `SECRETS:${name}-hold`;
    await door.command(`send ${name} ${marker} check the keys`);
    const printed = await heldRun(marker);
    // What the agent's bash printed: every secret, and the server's own password last.
    expect(printed).toEqual(expect.arrayContaining([...LEAKED_SECRETS]));
    const password = printed.at(-1)!;
    if (name.endsWith('cfg')) expect(password).toBe(LAB_PASSWORD);
    else {
      expect(password).toMatch(/^[\w-]{24,}$/);
      expect(password).not.toBe(LAB_PASSWORD);
      managed[prefix] = password;
    }
    // While the run holds, the todo list carries every secret, the second one what bash printed.
    const todo = await door.showTodo(name);
    expect(todo).toMatch(/Rotate what bash printed: \[redacted\]/);
    llm.release(`${name}-hold`);
    await shows(new RegExp(`📋 \\W*${name}\\W* finished`), `${name}'s final output`);
  }
  // A secret in a command line: the audit row keeps the command, scrubbed.
  await door.command(`status ${LEAKED_SECRETS[0]}`);
  await shows(/❌[^\n]*\[redacted\]/, 'the refusal naming a redacted name', 30_000);
}

/** Every check of where a secret could go, for one bot. */
function expectNoLeaks(door: Door): void {
  const secrets = { ...FIXED, [`${door.prefix} managed server password`]: managed[door.prefix]! };
  expect(managed[door.prefix], 'the managed server printed its password').toMatch(/^[\w-]{24,}$/);
  const transcript = door.transcript();
  // There was something to hide, and what hid it is visible.
  expect(transcript).toContain('Found these keys:');
  expect(transcript).toContain('[redacted]');
  expect(leaks(transcript, secrets), 'secrets shown').toEqual([]);
  const { tables, text } = everyRow(door.dbPath());
  expect(tables).toEqual(expect.arrayContaining(['outbox', 'prompts', 'audit']));
  expect(text).toMatch(/status \[redacted\]/);
  expect(text).toContain('Found these keys:');
  expect(leaks(text, secrets), 'secrets in a table').toEqual([]);
  expect(leaks(fileBytes(door.dbPath()), secrets), 'secrets in the database files').toEqual([]);
  const logs = door.logs();
  expect(logs.length).toBeGreaterThan(0);
  expect(leaks(logs, secrets), 'secrets in the log').toEqual([]);
}

describe('console: the bot process', () => {
  let bot: ConsoleBot;
  let root: string;
  let socket: string;
  let door: Door;

  beforeAll(async () => {
    const w = world('con');
    ({ root, socket } = w);
    writeFileSync(join(root, 'switchboard.yaml'), w.yaml.join('\n'));
    // Debug logging: the most the bot ever writes about what it relays.
    bot = await startConsoleBot({ cwd: root, env: { LAB_PASSWORD, LOG_LEVEL: 'debug', SWITCHBOARD_HTTP_TIMEOUT: '20' } });
    door = {
      prefix: 'con',
      command: async (text) => bot.write(text),
      transcript: () => bot.stdout(),
      // On a pipe a card prints only its headline: the todo list is what `todo` answers.
      showTodo: (name) => bot.exec(`todo ${name}`, /Rotate what bash printed.*/, 30_000),
      dbPath: () => join(root, 'data', 'switchboard.db'),
      logs: () => bot.stderr(),
    };
  }, 120_000);

  afterAll(async () => {
    await bot?.end().catch(() => undefined);
    killTmuxServer(socket);
    if (root) removeWorld(root);
  });

  it('hides every secret of an OpenCode agent on a configured and a managed server, and of a Claude task, in the console, the database, the log and the webhook', async () => {
    await runSecrets(door, join(root, 'project'));

    await bot.write('start local --name contask SECRETS check the keys');
    const final = await bot.waitFor(/📋 \*\*contask\*\* finished(?:.*\n)*?Bash printed:(?:\n.*){6}/, 180_000);
    expect(final).toMatch(/^Found these keys:\n\[redacted\]\n\[redacted\]\n\[redacted\]\n\[redacted\]$/m);
    // The Claude task's bash printed the server password its environment held: redacted as exactly as configured.
    expect(final).toMatch(/^Bash printed:\n(?:\[redacted\]\n){4}\[redacted\]$/m);
    await bot.exec('logs contask', /\[redacted\]/);
    expect(anthropic.requests.some((r) => JSON.stringify(r.messages).includes(LAB_PASSWORD)), 'the task printed LAB_PASSWORD').toBe(true);

    const hook = await until(() => webhook.received.find((r) => r.body.includes('contask')), 'the completion webhook', 30_000);
    expect(hook.body).toContain('[redacted]');
    expect(leaks(hook.body, FIXED), 'secrets in the webhook body').toEqual([]);

    expectNoLeaks(door);
  }, 600_000);
});

describe('Slack: Bolt against the twin', () => {
  let h: slackHarness.Harness;
  let w: ReturnType<typeof world>;
  let door: Door;

  beforeAll(async () => {
    w = world('slk');
    h = await slackHarness.startHarness({ mode: 'http', yaml: w.yaml.join('\n'), env: { LAB_PASSWORD, HOME: w.root } });
    /** Everything the bot asked Slack to show: every call's arguments, and the text of every file it uploaded. */
    const transcript = () =>
      decodeEntities([...h.slack.apiCalls({}).map((c) => JSON.stringify(c.args)), ...h.slack.files().map((f) => f.text)].join('\n'));
    door = chatDoor('slk', h, async (text) => void (await h.sb(slackHarness.ADMIN, text)), transcript);
  }, 120_000);

  afterAll(() => stopChat(h, w));

  it('hides every secret of an OpenCode agent on a configured and a managed server in every Slack call, the database and the log', async () => {
    await runSecrets(door, w.project);
    expectNoLeaks(door);
  }, 600_000);
});

describe('Discord: discord.js against the twin', () => {
  let h: discordHarness.Harness;
  let w: ReturnType<typeof world>;
  let door: Door;

  beforeAll(async () => {
    w = world('dsc');
    h = await discordHarness.startHarness({ yaml: w.yaml, env: { LAB_PASSWORD, HOME: w.root } });
    const transcript = () =>
      [...h.discord.restCalls({}).map((c) => JSON.stringify(c.body)), ...h.discord.files().map((f) => f.bytes.toString('utf8'))].join('\n');
    door = chatDoor('dsc', h, async (text) => void (await h.say(discordHarness.ADMIN, `!sb ${text}`)), transcript);
  }, 120_000);

  afterAll(() => stopChat(h, w));

  it('hides every secret of an OpenCode agent on a configured and a managed server in every Discord call and file, the database and the log', async () => {
    await runSecrets(door, w.project);
    expectNoLeaks(door);
  }, 600_000);
});
