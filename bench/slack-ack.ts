import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { slackAdapterFactory } from '../adapters/slack/factory.js';
import { allMigrations, createApp } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { openDatabase } from '../src/sessions/database.js';
import { ALICE, APP_TOKEN, BOT_TOKEN, SECRET, WORK, startHarness } from '../test/slack/harness.js';
import { slackSignatureHeaders } from '../test/twins/slack/signing.js';
import { startSlackTwin } from '../test/twins/slack/index.js';
import { percentile, round } from './machine.js';

export interface AckFigure {
  concurrent: number;
  commands: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface SignedCommand {
  body: string;
  headers: Record<string, string>;
}

/** One signed slash command, as Slack sends it. Built ahead of its round, so the timing is the bot's, not the signing's. */
function signedCommand(text: string): SignedCommand {
  const body = new URLSearchParams({
    command: '/sb',
    text,
    user_id: ALICE,
    user_name: 'alice',
    channel_id: WORK,
    channel_name: 'work',
    team_id: 'T1',
    team_domain: 'bench',
    trigger_id: 't',
    response_url: 'http://127.0.0.1:9/response',
    api_app_id: 'A1',
  }).toString();
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...slackSignatureHeaders(SECRET, body, Date.now()) } };
}

/** Posts a signed command; resolves with the time until the ack (the HTTP answer). */
function postCommand(url: string, agent: Agent, command: SignedCommand): Promise<number> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const req = request(url, { method: 'POST', agent, headers: command.headers }, (res) => {
      const acked = performance.now() - started;
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? done(acked) : fail(new Error(`ack status ${res.statusCode}`))));
    });
    req.on('error', fail);
    req.end(command.body);
  });
}

/**
 * Slack command ack latency through the real Bolt HTTP receiver (the Switchboard Slack adapter and the real
 * core; the Slack twin answers their Web API calls): p50 / p99 with 1, 10 and 50 commands in flight. The
 * signed requests come from another process, as Slack's would, so the figure is the bot's own. Slack's
 * deadline is 3 000 ms; the target is p99 < 50 ms at 50 concurrent.
 */
export async function benchSlackAck(levels: readonly number[] = [1, 10, 50], rounds = 10): Promise<AckFigure[]> {
  const harness = await startHarness({ mode: 'http', env: { SLACK_THREADS: 'false' } });
  const url = `http://127.0.0.1:${harness.adapter.port}/slack/events`;
  try {
    const child = fork(import.meta.filename, ['--load', url, JSON.stringify(levels), String(rounds)], {
      execArgv: ['--import', 'tsx'],
      cwd: resolve(import.meta.dirname, '..'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return await new Promise<AckFigure[]>((done, fail) => {
      child.once('message', (figures: AckFigure[]) => done(figures));
      child.once('exit', (code) => code !== 0 && fail(new Error(`the load generator exited with ${code}`)));
    });
  } finally {
    await harness.stop();
  }
}

/** Runs the rounds: `burst(n)` sends n commands at once and resolves with each one's time to its ack. */
async function measure(levels: readonly number[], rounds: number, burst: (size: number) => Promise<number[]>): Promise<AckFigure[]> {
  // Warm up: Bolt's first requests verify the token and JIT-compile the paths.
  for (let i = 0; i < 20; i++) await burst(1);
  const figures: AckFigure[] = [];
  for (const concurrent of levels) {
    const latencies: number[] = [];
    for (let r = 0; r < rounds; r++) latencies.push(...(await burst(concurrent)));
    figures.push({
      concurrent,
      commands: latencies.length,
      p50Ms: round(percentile(latencies, 50), 1),
      p99Ms: round(percentile(latencies, 99), 1),
      maxMs: round(Math.max(...latencies), 1),
    });
  }
  return figures;
}

function childReply<T>(child: ChildProcess, kind: string): Promise<T> {
  return new Promise<T>((done, fail) => {
    const onMessage = (message: { kind: string; value: T }) => {
      if (message.kind !== kind) return;
      child.off('message', onMessage);
      done(message.value);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => code !== 0 && fail(new Error(`the load generator exited with ${code}`)));
  });
}

/**
 * The same ack latency through Socket Mode: the Slack twin (Web API and the Socket Mode server) runs in another
 * process and times each slash-command envelope from the moment it is written to the WebSocket until the app's
 * ack frame arrives, with the bot (the Slack adapter's SocketModeReceiver and the real core) alone in this one.
 */
export async function benchSlackSocketAck(levels: readonly number[] = [1, 10, 50], rounds = 10): Promise<AckFigure[]> {
  const child = fork(import.meta.filename, ['--socket-twin', JSON.stringify(levels), String(rounds)], {
    execArgv: ['--import', 'tsx'],
    cwd: resolve(import.meta.dirname, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-socket-'));
  try {
    const apiUrl = await childReply<string>(child, 'api');
    writeFileSync(join(dir, 'switchboard.yaml'), 'limits:\n  commandsPerMinute: 100000\n');
    const env = { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: apiUrl, SLACK_ALLOWED_USERS: ALICE, SLACK_ALLOWED_CHANNELS: WORK, SLACK_THREADS: 'false' };
    const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
    const app = createApp({ config: loadConfig(dir, env), env, db, clock: systemClock, logger: silentLogger });
    const adapter = await slackAdapterFactory.create({ core: app.switchboard, env, logger: silentLogger });
    app.switchboard.register(adapter);
    await adapter.start();
    await app.start();
    try {
      const figures = childReply<AckFigure[]>(child, 'figures');
      child.send({ kind: 'go' });
      return await figures;
    } finally {
      await adapter.stop();
      await app.stop();
      db.close();
    }
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--socket-twin' && process.send) {
  const levels = JSON.parse(process.argv[3] ?? '[]') as number[];
  const rounds = Number(process.argv[4]);
  const twin = await startSlackTwin({
    signingSecret: SECRET,
    botToken: BOT_TOKEN,
    appToken: APP_TOKEN,
    users: [{ id: ALICE, name: 'alice' }],
    channels: [{ id: WORK, name: 'work' }],
    defaultTimeoutMs: 60_000,
  });
  process.send({ kind: 'api', value: twin.apiUrl });
  await new Promise<void>((go) => process.once('message', () => go()));
  await twin.waitForSocketConnection();
  const alice = twin.user(ALICE);
  const one = async () => {
    const started = performance.now();
    await alice.command('/sb', 'help', { channel: WORK, via: 'socket' });
    return performance.now() - started;
  };
  const figures = await measure(levels, rounds, (size) => Promise.all(Array.from({ length: size }, one)));
  await twin.close();
  process.send({ kind: 'figures', value: figures }, () => process.exit(0));
}

if (process.argv[2] === '--load' && process.send) {
  const url = process.argv[3]!;
  const levels = JSON.parse(process.argv[4] ?? '[]') as number[];
  const rounds = Number(process.argv[5]);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const burst = (size: number) => Promise.all(Array.from({ length: size }, () => signedCommand('help')).map((command) => postCommand(url, agent, command)));
  process.send(await measure(levels, rounds, burst), () => process.exit(0));
}
