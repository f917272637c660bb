import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { ALICE, SECRET, WORK, startHarness } from '../test/slack/harness.js';
import { slackSignatureHeaders } from '../test/twins/slack/signing.js';
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

if (process.argv[2] === '--load' && process.send) {
  const url = process.argv[3]!;
  const levels = JSON.parse(process.argv[4] ?? '[]') as number[];
  const rounds = Number(process.argv[5]);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const burst = (size: number) => Promise.all(Array.from({ length: size }, () => signedCommand('help')).map((command) => postCommand(url, agent, command)));
  // Warm up: Bolt's first requests verify the token and JIT-compile the paths.
  for (let i = 0; i < 20; i++) await burst(1);
  const figures: AckFigure[] = [];
  for (const concurrent of levels) {
    const latencies: number[] = [];
    for (let r = 0; r < rounds; r++) {
      latencies.push(...(await burst(concurrent)));
    }
    figures.push({
      concurrent,
      commands: latencies.length,
      p50Ms: round(percentile(latencies, 50), 1),
      p99Ms: round(percentile(latencies, 99), 1),
      maxMs: round(Math.max(...latencies), 1),
    });
  }
  process.send(figures, () => process.exit(0));
}
