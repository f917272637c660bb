import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../fakes/llm/fake-llm.js';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../helpers/opencode-server.js';

/**
 * A `kill -9` while the real bot process writes a 1 MB final to a console pipe that its reader has stopped
 * draining: after a restart on the same database the whole final appears again, marked as a repeat, and
 * nothing that was written whole before the kill is ever printed twice.
 */

const REPEAT = '(repeated: the bot stopped while writing this)';
const BIG_LINES = 10_000;

let llm: FakeLlm;
let server: OpencodeServer;
let workdir: string;
const bots: ConsoleBot[] = [];

async function startBot(): Promise<ConsoleBot> {
  const bot = await startConsoleBot({ cwd: workdir, env: { SWITCHBOARD_HTTP_TIMEOUT: '20' }, crashable: true });
  bots.push(bot);
  return bot;
}

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  workdir = mkdtempSync(join(tmpdir(), 'sb-crash-'));
  writeFileSync(join(workdir, 'switchboard.yaml'), ['servers:', '  - name: lab', `    url: ${server.url}`].join('\n'));
}, 120_000);

afterAll(async () => {
  for (const bot of bots) await bot.crash().catch(() => undefined);
  await server?.stop();
  await llm?.close();
  if (server) removeServerRoot(server);
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** Checks `condition` every 20 ms (a state of another process: there is no event to wait on) until it holds. */
async function until(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The bot has begun delivering a message it has not finished: the outbox row says an attempt started. */
function attemptUnderWay(): boolean {
  const db = new Database(join(workdir, 'data', 'switchboard.db'), { readonly: true });
  try {
    return db.prepare("SELECT 1 FROM outbox WHERE attempt_started_at IS NOT NULL AND sent_at IS NULL AND reply LIKE '%END-OF-BIG%'").get() !== undefined;
  } finally {
    db.close();
  }
}

/** Kills the bot with SIGKILL and returns everything it had written to stdout, read to the end of the pipe. */
async function killHard(bot: ConsoleBot): Promise<string> {
  const stdout = bot.child.stdout!;
  const drained = new Promise<void>((resolve) => stdout.once('close', () => resolve()));
  await bot.crash();
  stdout.resume();
  await drained;
  return bot.stdout();
}

const bigLines = (text: string) => text.split('\n').filter((line) => /^line-\d{7}-x{86}[. ]$/.test(line)).length;

describe('kill -9 during a console write', () => {
  it('a final cut short is printed again whole after a restart, marked as a repeat; what was written whole is not', async () => {
    const first = await startBot();
    await first.exec('new kumo lab --agent build', /Send it work/, 60_000);
    await first.exec('send kumo BIG:1000000', /^BIG:1000000$/m);
    // The reader stops draining: the pipe fills, and the bot's 1 MB write cannot complete.
    first.child.stdout!.pause();
    await until(attemptUnderWay, 'the final to be under way');
    // Read just enough to see the final begin (each read lets the bot write at most another pipe's worth).
    await until(() => {
      first.child.stdout!.read();
      return first.stdout().includes('📋 **kumo** finished');
    }, 'the first bytes of the final');
    const before = await killHard(first);
    const cut = before.slice(before.indexOf('📋 **kumo** finished'));
    expect(cut).toMatch(/^📋 \*\*kumo\*\* finished/);
    expect(cut).toContain('line-0000000-');
    expect(cut).not.toContain('END-OF-BIG');
    expect(bigLines(cut)).toBeLessThan(BIG_LINES);

    const second = await startBot();
    const repeated = await second.waitFor(/^END-OF-BIG$/m, 60_000);
    const whole = repeated.slice(repeated.indexOf(REPEAT));
    expect(whole).toMatch(/^\(repeated: the bot stopped while writing this\)\n📋 \*\*kumo\*\* finished · ✅/);
    expect(bigLines(whole)).toBe(BIG_LINES);
    // Only the cut message comes back: the echo and the reply to `new`, written whole, are not printed again.
    const afterRestart = await second.exec('sessions', /kumo · opencode.*$/m);
    for (const text of [repeated, afterRestart]) {
      expect(text).not.toMatch(/^BIG:1000000$/m);
      expect(text).not.toContain('Send it work');
    }
    expect(second.stdout().split(REPEAT)).toHaveLength(2);
  }, 300_000);

  it('a final written whole before a kill -9 is never printed again', async () => {
    const bot = bots.at(-1)!;
    await bot.exec('send kumo BIG:300000', /^BIG:300000$/m);
    const shown = await bot.waitFor(/^END-OF-BIG$/m, 120_000);
    expect(bigLines(shown)).toBe(3_000);
    // The next reply on the console comes after the final: the final was recorded as sent before it.
    await bot.exec('sessions', /kumo · opencode.*$/m);
    await killHard(bot);

    const next = await startBot();
    const answer = await next.exec('sessions', /kumo · opencode.*$/m);
    expect(answer).not.toContain('END-OF-BIG');
    expect(next.stdout()).not.toContain(REPEAT);
    expect(next.stdout()).not.toContain('line-0000000-');
  }, 300_000);
});
