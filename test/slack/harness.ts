import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Receiver, webApi } from '@slack/bolt';
import { createSlackAdapter, type SlackAdapter } from '../../adapters/slack/index.js';
import { slackAdapterFactory } from '../../adapters/slack/factory.js';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import { slackSettingsFromEnv } from '../../adapters/slack/settings.js';
import { allMigrations, createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { startBot, stopBot } from '../helpers/bot-lifecycle.js';
import {
  startSlackTwin,
  type EphemeralMessage,
  type InvocationResult,
  type SlackMessage,
  type SlackTwin,
  type SlackTwinOptions,
  type ViaOption,
} from '../twins/slack/index.js';

/**
 * The whole bot as a Slack workspace sees it: the Slack twin, the real core (createApp on a temp SQLite file)
 * and the Slack adapter built by its real factory from an environment object, with the real Bolt App inside.
 * Tests act as users through the twin and assert on what the channel shows.
 */
export const SECRET = 'slack-adapter-test-signing-secret';
export const BOT_TOKEN = 'xoxb-slack-adapter-test';
export const APP_TOKEN = 'xapp-slack-adapter-test';

/** People: two members, an admin from switchboard.yaml, and someone nobody allowed. */
export const ALICE = 'UALICE';
export const BOB = 'UBOB';
export const ADMIN = 'UADMIN';
export const EVE = 'UEVE';
/** Channels: two allowed, one not. */
export const WORK = 'CWORK';
export const OTHER = 'COTHER';
export const BLOCKED = 'CBLOCKED';

export interface RecordingLogger extends Logger {
  readonly lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface HarnessOptions {
  mode: 'http' | 'socket';
  /** `servers:` entries for switchboard.yaml, e.g. `{ lab: server.url }`. */
  servers?: Record<string, string>;
  env?: Record<string, string>;
  /** A receiver to use instead of the one the environment describes (Socket Mode reconnect tests). */
  receiver?: (slack: SlackTwin) => Receiver;
  clientOptions?: webApi.WebClientOptions;
  /** OpenCode request timeout (default 15 s, as in production; a busy machine needs it). */
  requestTimeoutMs?: number;
  /** More of switchboard.yaml (executors, defaults), appended as is. */
  yaml?: string;
  /** Twin settings: Slack's retry deadline and delays, which events a message produces. */
  twin?: Pick<SlackTwinOptions, 'eventRetries' | 'subscribedEvents'>;
}

export interface Harness {
  slack: SlackTwin;
  app: App;
  db: Db;
  adapter: SlackAdapter;
  logger: RecordingLogger;
  env: Record<string, string>;
  /** A user runs `/sb <text>`. The text goes out as Slack sends it: `&`, `<` and `>` escaped. */
  sb(user: string, text: string, options?: { channel?: string; via?: ViaOption }): Promise<InvocationResult>;
  /** A high-water mark: the waits below only match what happens after it. */
  mark(): number;
  /** The first bot message after `mark` matching the filter. */
  botMessage(after: number, filter?: { channel?: string; text?: string | RegExp; threadTs?: string; topLevel?: boolean; timeoutMs?: number }): Promise<SlackMessage>;
  ephemeral(after: number, filter: { user: string; channel?: string; text?: string | RegExp; timeoutMs?: number }): Promise<EphemeralMessage>;
  /** Stops the bot (adapter, core, database) and starts it again on the same SQLite file; the twin stays. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** What Slack does to typed slash-command text before sending it to the app. */
export function asSlackSends(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Creates `name` on the server `lab` and sends it `prompt`; resolves with the echo, which opens the name's thread. */
export async function startWork(h: Harness, name: string, prompt: string, by = ALICE): Promise<SlackMessage> {
  let at = h.mark();
  await h.sb(by, `new ${name} lab --agent build`);
  await h.botMessage(at, { text: `🆕 *${name}*` });
  at = h.mark();
  await h.sb(by, `send ${name} ${prompt}`);
  return h.botMessage(at, { text: `📨 *${name}*`, topLevel: true });
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-slack-'));
  const slack = await startSlackTwin({
    signingSecret: SECRET,
    botToken: BOT_TOKEN,
    appToken: APP_TOKEN,
    // Agent work runs through the real opencode binary, which a loaded machine is slow to start.
    defaultTimeoutMs: 60_000,
    ...options.twin,
    users: [
      { id: ALICE, name: 'alice' },
      { id: BOB, name: 'bob' },
      { id: ADMIN, name: 'admin' },
      { id: EVE, name: 'eve' },
    ],
    channels: [{ id: WORK, name: 'work' }, { id: OTHER, name: 'other' }, { id: BLOCKED, name: 'blocked' }],
  });
  const servers = Object.entries(options.servers ?? {});
  writeFileSync(
    join(dir, 'switchboard.yaml'),
    [
      ...(servers.length ? ['servers:', ...servers.flatMap(([name, url]) => [`  - name: ${name}`, `    url: ${url}`])] : []),
      'access:',
      `  admins: [slack:${ADMIN}]`,
      'limits:',
      '  commandsPerMinute: 1000',
      ...(options.yaml ? [options.yaml] : []),
    ].join('\n'),
  );
  const env: Record<string, string> = {
    // The bot's whole environment: like any process it has a PATH and a HOME (a local executor needs both).
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    SLACK_ALLOWED_USERS: `${ALICE},${BOB}`,
    SLACK_ALLOWED_CHANNELS: `${WORK},${OTHER}`,
    ...(options.mode === 'socket'
      ? { SLACK_APP_TOKEN: APP_TOKEN }
      : { SLACK_SIGNING_SECRET: SECRET, SLACK_PORT: '0', SLACK_HOST: '127.0.0.1' }),
    ...options.env,
  };
  const logger = recordingLogger();
  const config = loadConfig(dir, env);
  const boot = async () => {
    const db = openDatabase(join(dir, 'switchboard.db'), allMigrations);
    const app = createApp({ config, env, db, clock: systemClock, logger, requestTimeoutMs: options.requestTimeoutMs ?? 15_000 });
    const adapter = (
      options.receiver || options.clientOptions
        ? createSlackAdapter(app.switchboard, {
            settings: slackSettingsFromEnv(env),
            logger,
            ...(options.receiver ? { receiver: options.receiver(slack) } : {}),
            ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
          })
        : await slackAdapterFactory.create({ core: app.switchboard, env, logger })
    ) as SlackAdapter;
    await startBot({ db, app, adapter });
    if (options.mode === 'http') slack.setEventsUrl(`http://127.0.0.1:${adapter.port}/slack/events`);
    return { db, app, adapter };
  };
  let bot = await boot();
  const shutdown = () => stopBot(bot, 'slack');

  const mark = () =>
    Math.max(0, ...slack.messages({ includeDeleted: true }).map((m) => m.seq), ...slack.ephemerals().map((e) => e.seq), ...slack.invocations().map((i) => i.seq));

  return {
    slack,
    get app() {
      return bot.app;
    },
    get db() {
      return bot.db;
    },
    get adapter() {
      return bot.adapter;
    },
    logger,
    env,
    sb: (user, text, opts = {}) =>
      slack.user(user).command('/sb', asSlackSends(text), { channel: opts.channel ?? WORK, ...(opts.via ? { via: opts.via } : {}) }),
    mark,
    botMessage: (after, filter = {}) => {
      const { timeoutMs, text, ...rest } = filter;
      return slack
        .waitForMessage({
          channel: WORK,
          user: 'bot',
          ...rest,
          ...(timeoutMs ? { timeoutMs } : {}),
          predicate: (m) => m.seq > after && matchesShown(m.visibleText, text),
        })
        .catch((error: unknown) => {
          // A reply that went private instead (an error) is the usual reason; say so in the failure.
          const privately = slack.ephemerals().filter((e) => e.seq > after).map((e) => `  - to ${e.user}: ${e.visibleText}`);
          // Replies from the monitor depend on its event stream; its last words explain a missing report.
          const monitor = logger.lines.filter((l) => /monitor|event stream|outbox/.test(l)).slice(-25);
          throw new Error(
            `${error instanceof Error ? error.message : String(error)}\nEphemerals since:\n${privately.join('\n') || '  (none)'}` +
              `\nMonitor and outbox log (last 25):\n${monitor.join('\n') || '  (none)'}`,
          );
        });
    },
    ephemeral: (after, filter) => {
      const { timeoutMs, text, ...rest } = filter;
      return slack.waitForEphemeral({
        channel: WORK,
        ...rest,
        ...(timeoutMs ? { timeoutMs } : {}),
        predicate: (e) => e.seq > after && matchesShown(e.visibleText, text),
      });
    },
    async restart() {
      await shutdown();
      bot = await boot();
    },
    async stop() {
      await shutdown();
      await slack.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Text filters match what a person reads: the rendered blocks with Slack's entities decoded. */
function matchesShown(visible: string, expected: string | RegExp | undefined): boolean {
  if (expected === undefined) return true;
  const decoded = decodeEntities(visible);
  return typeof expected === 'string' ? decoded.includes(expected) : expected.test(decoded);
}
