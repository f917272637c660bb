import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAKED_SECRETS, startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { killTmuxServer } from '../executors/harness.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';
import { everyRow, fileBytes } from './secrets-scan.js';

/**
 * What the bot writes to its database, read back from the file while the real bot process (console adapter on a
 * pipe) runs against a real `opencode` server and the scripted fake LLM: an agent that prints tokens and a
 * password typed into a server URL reach no table and no byte of the WAL, and a 1 MB final is stored once.
 */

const TYPED_PASSWORD = 'hunter2secret';
const socket = `sb-at-rest-${process.pid}`;

let llm: FakeLlm;
let server: OpencodeServer;
let workdir: string;
let bot: ConsoleBot;

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  workdir = mkdtempSync(join(tmpdir(), 'sb-at-rest-'));
  writeFileSync(
    join(workdir, 'switchboard.yaml'),
    [
      'servers:',
      '  - name: lab',
      `    url: ${server.url}`,
      'executors:',
      '  - name: local',
      '    type: local',
      `    tmuxSocket: ${socket}`,
      `    tasksDir: ${join(workdir, 'tasks')}`,
    ].join('\n'),
  );
  bot = await startConsoleBot({ cwd: workdir, env: { SWITCHBOARD_HTTP_TIMEOUT: '20' } });
  await bot.exec('new kumo lab --agent build', /Send it work/, 60_000);
}, 180_000);

afterAll(async () => {
  await bot?.end().catch(() => undefined);
  killTmuxServer(socket);
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const dbPath = () => join(workdir, 'data', 'switchboard.db');

describe('nothing secret is written to the database', () => {
  it('an agent that prints tokens and a refused URL with a password leave no trace in any table or the WAL', async () => {
    await bot.exec('send kumo LEAK the keys', /^LEAK the keys$/m);
    // What the channel sees: the run's final output, with every token hidden.
    const final = await bot.waitFor(/^Found these in \.env:\n(?:- .*\n){2}- .*$/m, 120_000);
    expect(final).toMatch(/^- \[redacted\]\n- \[redacted\]\n- \[redacted\]$/m);
    for (const secret of LEAKED_SECRETS) expect(final).not.toContain(secret);
    // The agent did print them: the bot hid them, they were there to hide.
    await bot.exec('last kumo', /^- \[redacted\]$/m);

    const refused = await bot.exec(`new k2 http://opencode:${TYPED_PASSWORD}@127.0.0.1:1`, /❌.*\n/);
    expect(refused).toMatch(/^❌ server URLs must not carry credentials/m);
    expect(refused).not.toContain(TYPED_PASSWORD);
    // Answered after the refusal: its audit row is written by now.
    await bot.exec('audit', /new k2 http:\/\/opencode:\[redacted\]@127\.0\.0\.1:1/);

    // A shell task that prints a .env: its output is kept as the task's log tail and result.
    const workspace = join(workdir, 'project');
    mkdirSync(workspace);
    writeFileSync(join(workspace, '.env'), LEAKED_SECRETS.map((secret, i) => `KEY_${i}=${secret}\n`).join(''));
    await bot.exec(`run local --name leak --workspace ${workspace} -- cat .env`, /task \*\*leak\*\* started/);
    const taskFinal = await bot.waitFor(/📋 \*\*leak\*\* finished(?:.*\n)*?KEY_2=.*/, 60_000);
    expect(taskFinal).toMatch(/^KEY_0=\[redacted\]$/m);
    await bot.exec('logs leak', /KEY_2=\[redacted\]/);

    const { tables, text } = everyRow(dbPath());
    expect(tables).toEqual(expect.arrayContaining(['outbox', 'audit', 'prompts', 'watches']));
    expect(text).toContain('http://opencode:[redacted]@127.0.0.1:1');
    expect(text).toContain('Found these in .env');
    const bytes = fileBytes(dbPath());
    for (const secret of [...LEAKED_SECRETS, TYPED_PASSWORD]) {
      expect(text, secret).not.toContain(secret);
      expect(bytes.includes(Buffer.from(secret, 'utf8')), `${secret} in the database files`).toBe(false);
    }
  }, 180_000);

  it('stores a 1 MB final once: the outbox row is about the size of the output, not twice it', async () => {
    await bot.exec('send kumo BIG:1000000', /^BIG:1000000$/m);
    const shown = await bot.waitFor(/^END-OF-BIG$/m, 180_000);
    expect(shown).toMatch(/^line-0009998-x{86}\.$/m);
    const db = new Database(dbPath(), { readonly: true });
    try {
      const row = db.prepare("SELECT length(CAST(reply AS BLOB)) AS bytes FROM outbox WHERE reply LIKE '%END-OF-BIG%'").get() as { bytes: number };
      expect(row.bytes).toBeGreaterThan(1_000_000);
      expect(row.bytes).toBeLessThan(1_150_000);
    } finally {
      db.close();
    }
  }, 240_000);
});
