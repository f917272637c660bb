import type { AddressInfo } from 'node:net';
import { App, SocketModeReceiver, type Receiver, type webApi } from '@slack/bolt';
import { DeliveryError, type Adapter, type DeliveryResult, type EditBudget, type OutgoingMessage } from '../../src/core/adapter.js';
import type { Logger } from '../../src/core/logger.js';
import { SwitchboardError } from '../../src/errors.js';
import { boltLoggerFor } from './bolt-logger.js';
import { platformErrorCode, rateLimitRetryAfterSec } from './errors.js';
import { registerInbound, type SlackCore } from './inbound.js';
import { createOutbound, createSlackCardEdit } from './outbound.js';
import { receiverFor } from './receiver.js';
import type { RenderLimits } from './render/limits.js';
import type { SlackSettings } from './settings.js';

export { slackSettingsFromEnv, SLACK_ENV, type SlackSettings } from './settings.js';
export type { SlackCore } from './inbound.js';

export interface SlackAdapterOptions {
  settings: SlackSettings;
  logger: Logger;
  /** Use this receiver instead of the one the settings describe (tests: Socket Mode with a short ping timeout). */
  receiver?: Receiver;
  /** Laid over the WebClient options below (tests: quicker retries). */
  clientOptions?: webApi.WebClientOptions;
  limits?: RenderLimits;
  /** Card edits allowed (tests shrink the window along with the twin's). */
  editBudget?: EditBudget;
  /** Spacing of posts to one channel (default one a second, as Slack asks); tests with a twin shorten it. */
  minIntervalMs?: number;
  /** How start-up waits out a 429 (tests inject their own). */
  sleep?: (ms: number) => Promise<void>;
}

/** A bot restarted in a burst of 429s waits them out this long in all before it gives up starting. */
const START_RATE_LIMIT_BUDGET_MS = 120_000;

/** Why start-up stopped: Slack's own reason for a refused token, or what went wrong on the way. */
function startFailure(error: unknown): SwitchboardError {
  const code = platformErrorCode(error);
  return new SwitchboardError(
    'config_invalid',
    code ? `Slack rejected SLACK_BOT_TOKEN (${code})` : `cannot reach Slack: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

export interface SlackAdapter extends Adapter {
  /** HTTP mode: the port Bolt listens on once started (SLACK_PORT=0 lets the OS choose). */
  readonly port: number | undefined;
}

/** Slack allows about one message a second per channel; the outbox spaces each channel's lane by this. */
const MIN_INTERVAL_MS = 1_000;
/** chat.update is Tier 3, about 50 a minute per workspace: cards stay at 40, leaving room for other edits. */
const EDIT_BUDGET: EditBudget = { edits: 40, perMs: 60_000, scope: 'adapter' };

/**
 * The Slack adapter: the real Bolt App, a receiver (Socket Mode or HTTP), handlers that turn slash commands,
 * button presses and mentions into core calls, and `deliver`, which renders Replies as Block Kit.
 */
export function createSlackAdapter(core: SlackCore, options: SlackAdapterOptions): SlackAdapter {
  const { settings, logger } = options;
  const boltLogger = boltLoggerFor(logger);
  const clientOptions: webApi.WebClientOptions = {
    ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
    // A 429 comes straight back as an error carrying Retry-After, and the outbox waits that long for that
    // channel only; web-api on its own would pause every call of the client and retry for up to 30 minutes.
    rejectRateLimitedCalls: true,
    // Network trouble: a couple of quick retries here, then the outbox's own backoff takes over.
    retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2_000 },
    ...options.clientOptions,
  };
  const receiver = options.receiver ?? receiverFor(settings, boltLogger, clientOptions);
  const app = new App({ token: settings.botToken, receiver, clientOptions, logger: boltLogger, deferInitialization: true });

  const inFlight = new Set<Promise<unknown>>();
  registerInbound(app, {
    core,
    command: settings.command,
    logger,
    background(work) {
      // After the ack has gone out and other requests already read have been acked too: acks first, work after.
      const running: Promise<unknown> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(work)
        .catch((error: unknown) => logger.error('slack: handling an event failed', { error: error instanceof Error ? error.message : String(error) }))
        .finally(() => inFlight.delete(running));
      inFlight.add(running);
    },
  });
  const deliverOutbound = createOutbound({ client: app.client, threads: settings.threads, logger, ...(options.limits ? { limits: options.limits } : {}) });

  // Deliveries under way when we stop are let finish (the outbox records them as sent); later ones are
  // refused as retryable, so they wait in the outbox for the next start instead of racing the shutdown.
  const deliveries = new Set<Promise<unknown>>();
  let refusing = false;
  const deliver = (message: OutgoingMessage): Promise<DeliveryResult> => {
    if (refusing) return Promise.reject(new DeliveryError('the Slack adapter is stopping; it will deliver this after a restart'));
    const delivery = deliverOutbound(message);
    const settle = () => deliveries.delete(delivery);
    deliveries.add(delivery);
    delivery.then(settle, settle);
    return delivery;
  };

  const editCard = createSlackCardEdit({ client: app.client, logger, ...(options.limits ? { limits: options.limits } : {}) });

  let port: number | undefined;
  let started = false;
  // Socket Mode can drop and redial while the process lives on; the HTTP receiver is up while it listens.
  let socketUp = false;
  if (receiver instanceof SocketModeReceiver) {
    receiver.client.on('connected', () => (socketUp = true));
    receiver.client.on('disconnected', () => (socketUp = false));
    receiver.client.on('reconnecting', () => (socketUp = false));
  }
  return {
    name: 'slack',
    minIntervalMs: options.minIntervalMs ?? MIN_INTERVAL_MS,
    get port() {
      return port;
    },
    async start() {
      const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
      let waitedMs = 0;
      for (;;) {
        try {
          // auth.test: a wrong or revoked token stops start-up here, with Slack's reason, not at the first event.
          await app.init();
          break;
        } catch (error) {
          // A 429 is Slack asking for patience, not a broken setup: a bot restarted mid-storm waits, then starts.
          const retryAfter = rateLimitRetryAfterSec(error);
          const pauseMs = retryAfter === undefined ? undefined : Math.max(retryAfter * 1000, 250);
          if (pauseMs !== undefined && waitedMs + pauseMs <= START_RATE_LIMIT_BUDGET_MS) {
            logger.warn('slack: rate limited while starting; waiting as asked', { retryAfterSec: retryAfter });
            waitedMs += pauseMs;
            await sleep(pauseMs);
            continue;
          }
          throw startFailure(error);
        }
      }
      if (settings.mode === 'http') {
        const server = await app.start({ port: settings.port, ...(settings.host ? { host: settings.host } : {}) });
        port = (server.address() as AddressInfo | null)?.port;
        logger.info('slack: listening for events over HTTP', { port, path: '/slack/events' });
      } else {
        await app.start();
        logger.info('slack: connected in Socket Mode');
      }
      started = true;
    },
    async stop() {
      if (started) await app.stop();
      started = false;
      // Commands already acked still get their replies queued before we report stopped.
      await Promise.allSettled([...inFlight]);
      refusing = true;
      await Promise.allSettled([...deliveries]);
    },
    deliver,
    edit: (message, messageId) =>
      refusing ? Promise.reject(new DeliveryError('the Slack adapter is stopping; the card is edited after a restart')) : editCard(message, messageId),
    editBudget: options.editBudget ?? EDIT_BUDGET,
    connected: () => started && (!(receiver instanceof SocketModeReceiver) || socketUp),
  };
}
