import { readFileSync, readdirSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEntities } from '../adapters/slack/render/mrkdwn.js';
import { REPEAT_NOTICE } from '../src/core/adapter.js';
import { startFakeAnthropic } from '../test/fakes/anthropic/fake-anthropic.js';
import { startFakeLlm } from '../test/fakes/llm/fake-llm.js';
import { killTmuxServer } from '../test/executors/harness.js';
import { CLAUDE_PATH, claudeEnv } from '../test/helpers/claude-env.js';
import { startConsoleBot, type ConsoleBot } from '../test/helpers/console-bot.js';
import { freePort } from '../test/helpers/free-port.js';
import { removeServerRoot, startOpencodeServer, type OpencodeServer } from '../test/helpers/opencode-server.js';
import { startDiscordTwin, testSnowflake } from '../test/twins/discord/index.js';
import { startSlackTwin } from '../test/twins/slack/index.js';
import { round } from './machine.js';

/**
 * The chaos run: N prompts across two OpenCode servers and two executors (Claude tasks), from Slack and Discord
 * (the twins), while the bot process, the OpenCode servers and the Claude processes are killed with SIGKILL at
 * random and the twins answer storms of 429s. At the end every run must have exactly one final message and every
 * prompt exactly one echo: what is missing is lost, what is there twice is duplicated (both goal 0).
 *
 * CHAOS_RUNS (default 10) sets N; CHAOS_SEED replays a run (the seed is printed). The bot is the real process
 * (`src/cli.ts`, as `npm start` runs it) so a kill is a real `kill -9`; the twins, servers and fakes live here.
 */
export interface ChaosFigure {
  seed: number;
  runs: number;
  servers: number;
  executors: number;
  botKills: number;
  serverKills: number;
  claudeKills: number;
  http429: number;
  /** Finals and echoes missing. */
  lost: number;
  /** Finals and echoes shown more than once; `repeatsFlagged` of them carry the bot's repeat notice. */
  duplicated: number;
  repeatsFlagged: number;
  /** From each bot restart (process spawned) to the first message it posted or edited on a platform. */
  restartToDeliveryP50Ms: number;
  restartToDeliveryMaxMs: number;
  wallS: number;
}

type Platform = 'slack' | 'discord';
type Action = 'bot' | 'server' | 'claude' | 'storm';

interface Run {
  marker: string;
  name: string;
  platform: Platform;
  kind: 'opencode' | 'claude';
}

const SLACK_ADMIN = 'UADMIN';
const SLACK_CHANNEL = 'CWORK';
const GUILD = testSnowflake(1);
const DISCORD_CHANNEL = testSnowflake(2);
const DISCORD_ADMIN = testSnowflake(12);
const SETTLE_MS = 240_000;

/** mulberry32: small, seedable, good enough to pick what to kill. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Processes (pid) whose command line has all of `parts` and, if given, whose environment has `envEntry`. */
function processes(parts: readonly string[], envEntry?: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!parts.every((part) => cmdline.includes(part))) continue;
      if (envEntry && !readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(envEntry)) continue;
      found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function kill9(pids: readonly number[]): number {
  let killed = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch {
      // already gone
    }
  }
  return killed;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;
}

export async function benchChaos(): Promise<ChaosFigure> {
  const started = Date.now();
  const seed = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  const runCount = Number(process.env['CHAOS_RUNS'] ?? 10);
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  process.stderr.write(`chaos: seed ${seed} (CHAOS_SEED=${seed} replays it), ${runCount} runs (CHAOS_RUNS)\n`);

  const dir = mkdtempSync(join(tmpdir(), 'sb-chaos-'));
  const [llm, anthropic] = await Promise.all([startFakeLlm(), startFakeAnthropic()]);
  const servers: OpencodeServer[] = [];
  for (let i = 0; i < 2; i++) servers.push(await startOpencodeServer({ llmBaseUrl: llm.baseUrl }));
  const slack = await startSlackTwin({
    signingSecret: 'chaos-secret',
    botToken: 'xoxb-chaos',
    appToken: 'xapp-chaos',
    defaultTimeoutMs: 60_000,
    users: [{ id: SLACK_ADMIN, name: 'admin' }],
    channels: [{ id: SLACK_CHANNEL, name: 'work' }],
  });
  const discord = await startDiscordTwin({
    defaultTimeoutMs: 60_000,
    guilds: [{ id: GUILD, name: 'lab', channels: [{ id: DISCORD_CHANNEL, name: 'work' }], members: [{ id: DISCORD_ADMIN, username: 'admin' }] }],
  });
  const executors = ['crib', 'attic'];
  const sockets = executors.map((name) => `sb-chaos-${name}-${process.pid}`);
  const claudeDir = join(dir, 'claude');
  const env = claudeEnv({ baseUrl: anthropic.baseUrl, configDir: claudeDir });
  writeFileSync(
    join(dir, 'switchboard.yaml'),
    [
      'servers:',
      ...servers.flatMap((server, i) => [`  - name: lab${i}`, `    url: ${server.url}`]),
      'access:',
      `  admins: [slack:${SLACK_ADMIN}, discord:${DISCORD_ADMIN}]`,
      'limits:',
      '  commandsPerMinute: 1000',
      'monitor:',
      '  interval: 10s',
      'defaults:',
      `  claudePath: ${CLAUDE_PATH}`,
      '  killGraceSec: 1',
      'executors:',
      ...executors.flatMap((name, i) => [
        `  - name: ${name}`,
        '    type: local',
        `    tmuxSocket: ${sockets[i]}`,
        `    tasksDir: ${join(dir, `tasks-${name}`)}`,
        '    env:',
        ...Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
      ]),
    ].join('\n'),
  );
  const slackPort = await freePort();
  const botEnv = {
    SLACK_BOT_TOKEN: 'xoxb-chaos',
    SLACK_API_URL: slack.apiUrl,
    SLACK_SIGNING_SECRET: 'chaos-secret',
    SLACK_PORT: String(slackPort),
    SLACK_HOST: '127.0.0.1',
    SLACK_ALLOWED_CHANNELS: SLACK_CHANNEL,
    DISCORD_TOKEN: discord.botToken,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_GUILD_ID: GUILD,
    DISCORD_API_URL: discord.restApi,
    DISCORD_ALLOWED_CHANNELS: DISCORD_CHANNEL,
    LOG_LEVEL: 'warn',
  };
  slack.setEventsUrl(`http://127.0.0.1:${slackPort}/slack/events`);

  const restarts: number[] = [];
  /**
   * The console's banner comes before the platform adapters start: a command is sent once Slack's port answers
   * and discord.js has identified, as a person would only type once the bot is back.
   */
  const startBot = async (): Promise<ConsoleBot> => {
    const identified = discord.identifies().length;
    const started = await startConsoleBot({ cwd: dir, env: botEnv, crashable: true });
    await discord.waitForIdentify({ index: identified, timeoutMs: 60_000 });
    await waitFor(() => portAnswers(slackPort), 'the Slack receiver to listen', 60_000, true);
    return started;
  };
  let bot: ConsoleBot = await startBot();
  const counts = { botKills: 0, serverKills: 0, claudeKills: 0 };
  const command = async (platform: Platform, text: string) => {
    if (platform === 'slack') await slack.user(SLACK_ADMIN).command('/sb', text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'), { channel: SLACK_CHANNEL });
    else await discord.channel(DISCORD_CHANNEL).user(DISCORD_ADMIN).sendMessage(`!sb ${text}`);
  };
  /** Bot messages on one platform, as people read them (deleted ones are gone for them too). */
  const shown = (platform: Platform): string[] =>
    platform === 'slack'
      ? slack.messages({ user: 'bot' }).map((m) => decodeEntities(m.visibleText))
      : discord.messages({ author: 'bot' }).map((m) => m.content);

  const echoesOf = (run: Run) => shown(run.platform).filter((t) => t.includes(run.marker) && (t.includes('📨') || t.includes('🤖 task'))).length;

  const act: Record<Action, () => Promise<void>> = {
    async bot() {
      await bot.crash();
      counts.botKills += 1;
      restarts.push(Date.now());
      bot = await startBot();
    },
    async server() {
      const i = Math.floor(random() * servers.length);
      const server = servers[i]!;
      if (kill9(processes(['serve', `--port\0${server.port}\0`])) === 0) return;
      counts.serverKills += 1;
      await server.stop();
      await sleep(500 + random() * 2_500);
      servers[i] = await startOpencodeServer({ llmBaseUrl: llm.baseUrl, root: server.root, port: server.port });
    },
    async claude() {
      // The CLI's own node process, not the wrapper or tmux: what a crash of Claude Code looks like.
      const claudes = () => processes(['claude'], `CLAUDE_CONFIG_DIR=${claudeDir}`).filter((pid) => !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('tmux'));
      // Tasks are short: wait a little for one to be running rather than kill nothing.
      await waitFor(() => claudes().length > 0, 'a Claude process to kill', 15_000).catch(() => undefined);
      const pids = claudes();
      if (pids.length) counts.claudeKills += kill9([pick(pids)]);
    },
    async storm() {
      const count = 5 + Math.floor(random() * 10);
      slack.failNext('*', { status: 429, retryAfterSec: 1, count });
      discord.failNext(/^(?:POST|PATCH) /, { retryAfterSec: 1, count });
    },
  };

  const runs: Run[] = [];
  try {
    // The names: two per server, made before the chaos starts (each run is one prompt, not one name).
    const names = ['oc0', 'oc1', 'oc2', 'oc3'];
    for (const [i, name] of names.entries()) {
      const platform: Platform = i % 2 ? 'discord' : 'slack';
      await command(platform, `new ${name} lab${i % servers.length} --agent build`);
      await waitFor(() => shown(platform).some((t) => t.includes(`🆕`) && t.includes(name)), `${name} to be made`, 120_000);
    }
    // Every kind of fault at least once, the rest at random, spread over the runs.
    const plan: Action[] = ['bot', 'server', 'claude', 'storm'];
    while (plan.length < Math.max(4, Math.round(runCount * 0.6))) plan.push(pick(['bot', 'server', 'claude', 'storm'] as const));
    const at = new Map<number, Action[]>();
    for (const action of plan) {
      const step = 1 + Math.floor(random() * Math.max(1, runCount - 1));
      at.set(step, [...(at.get(step) ?? []), action]);
    }

    for (let i = 0; i < runCount; i++) {
      const platform: Platform = random() < 0.5 ? 'slack' : 'discord';
      const marker = `run${String(i).padStart(3, '0')}`;
      process.stderr.write(`chaos: ${marker} from ${platform}\n`);
      // A Claude kill comes after a Claude run, so there is a Claude process to kill.
      const claudeRun = random() >= 0.6 || (at.get(i) ?? []).includes('claude');
      if (!claudeRun) {
        const name = pick(names);
        runs.push({ marker, name, platform, kind: 'opencode' });
        await command(platform, `send ${name} ${marker} TODO WAIT:1500 chaos`);
      } else {
        const name = `t${marker}`;
        runs.push({ marker, name, platform, kind: 'claude' });
        await command(platform, `start ${pick(executors)} --name ${name} ${marker} HANG:3 chaos`);
      }
      // Faults come once the bot has taken the prompt (its echo is out): a Discord message sent into the moment
      // the process dies is never seen by it (a new gateway session replays nothing), which is the platform's
      // limit, not a message Switchboard lost.
      const run = runs.at(-1)!;
      await waitFor(() => echoesOf(run) > 0, `${marker}'s echo`, 60_000).catch((error: unknown) => process.stderr.write(`chaos: ${String(error)}\n`));
      // A Claude kill first: the task it aims at is short, and the other faults take seconds.
      for (const action of [...(at.get(i) ?? [])].sort((a, b) => Number(b === 'claude') - Number(a === 'claude'))) {
        process.stderr.write(`chaos: after ${marker}: ${action}\n`);
        await act[action]();
      }
      await sleep(300 + random() * 2_000);
    }

    const finalsOf = (run: Run) =>
      shown(run.platform).filter((t) => new RegExp(`📋 \\W*${run.name}\\W* (?:finished|failed) ·`).test(t)).length;
    const expected = (run: Run) => runs.filter((r) => r.name === run.name && r.platform === run.platform).length;
    const settled = () => runs.every((run) => finalsOf(run) >= expected(run));
    await waitFor(settled, 'every run to post its final', SETTLE_MS).catch((error: unknown) => process.stderr.write(`chaos: ${String(error)}\n`));
    // Late repeats (a redelivery after a restart) would come now.
    await sleep(10_000);

    let lost = 0;
    let duplicated = 0;
    const seenNames = new Set<string>();
    for (const run of runs) {
      const echoes = echoesOf(run);
      if (echoes !== 1) process.stderr.write(`chaos: ${run.marker} (${run.platform}, ${run.name}) has ${echoes} echoes\n`);
      if (echoes === 0) lost += 1;
      duplicated += Math.max(0, echoes - 1);
      const key = `${run.platform}:${run.name}`;
      if (seenNames.has(key)) continue;
      seenNames.add(key);
      const finals = finalsOf(run);
      if (finals !== expected(run)) process.stderr.write(`chaos: ${run.name} on ${run.platform}: ${finals} finals for ${expected(run)} prompts\n`);
      lost += Math.max(0, expected(run) - finals);
      duplicated += Math.max(0, finals - expected(run));
    }

    if (lost + duplicated > 0) {
      // What each platform showed, one line a message: where to start reading a lost or doubled run.
      for (const platform of ['slack', 'discord'] as const) {
        process.stderr.write(`chaos: ${platform} showed:\n${shown(platform).map((t) => `  ${t.split('\n').slice(0, 2).join(' ⏎ ').slice(0, 160)}`).join('\n')}\n`);
      }
      process.stderr.write(`chaos: the bot's stderr (last run):\n${bot.stderr().slice(-4_000)}\n`);
    }
    const deliveries = [
      ...slack.apiCalls({}).filter((c) => c.status === 200 && (c.method === 'chat.postMessage' || c.method === 'chat.update')).map((c) => c.at),
      ...discord.restCalls({}).filter((c) => c.status === 200 && (c.method === 'POST' || c.method === 'PATCH')).map((c) => c.at),
    ].sort((a, b) => a - b);
    const toDelivery = restarts.flatMap((restart) => {
      const first = deliveries.find((t) => t >= restart);
      return first === undefined ? [] : [first - restart];
    });
    process.stderr.write(`chaos: restart → first delivery (ms): ${toDelivery.map(round).join(', ') || '(no restart)'}\n`);
    const sorted = [...toDelivery].sort((a, b) => a - b);
    const http429 = slack.apiCalls({}).filter((c) => c.status === 429).length + discord.restCalls({ status: 429 }).length;
    return {
      seed,
      runs: runs.length,
      servers: servers.length,
      executors: executors.length,
      ...counts,
      http429,
      lost,
      duplicated,
      repeatsFlagged: (['slack', 'discord'] as const).reduce((sum, platform) => sum + shown(platform).filter((t) => t.startsWith(REPEAT_NOTICE)).length, 0),
      restartToDeliveryP50Ms: round(percentile(sorted, 50)),
      restartToDeliveryMaxMs: round(sorted.at(-1) ?? 0),
      wallS: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await bot.end(10_000).catch(() => undefined);
    for (const socket of sockets) killTmuxServer(socket);
    for (const server of servers) {
      await server.stop();
      removeServerRoot(server);
    }
    await Promise.all([llm.close(), anthropic.close(), slack.close(), discord.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs: number, quick = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(quick ? 50 : 250);
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
