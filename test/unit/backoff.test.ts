import { EventEmitter } from 'node:events';
import type { Client } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/core/backoff.js';
import { silentLogger } from '../../src/core/logger.js';
import { executorDefaultsSchema } from '../../src/executors/config.js';
import { backoffMs } from '../../src/executors/fleet-context.js';
import { createSshConnection } from '../../src/executors/index.js';
import { webhookRetryDelayMs } from '../../src/executors/webhook.js';
import { refusalOf } from './helpers/refusal.js';

// Every retry waits retryDelayMs (base · 2^(n-1), capped); each user picks only its base and cap.

describe('the one backoff formula, as each user applies it', () => {
  it('task resumes: retryBackoffSec doubling per retry, capped at retryBackoffMaxSec', () => {
    const defaults = executorDefaultsSchema.parse({ retryBackoffSec: 10, retryBackoffMaxSec: 60 });
    expect([0, 1, 2, 3, 4].map((n) => backoffMs(defaults, n))).toEqual([10_000, 20_000, 40_000, 60_000, 60_000]);
    expect([0, 1, 2, 3, 4].map((n) => backoffMs(defaults, n))).toEqual([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 10_000, 60_000)));
  });

  it('webhook deliveries: 2 s after the first try, doubling, capped at 5 minutes', () => {
    expect([1, 2, 3, 8, 9, 20].map(webhookRetryDelayMs)).toEqual([2_000, 4_000, 8_000, 256_000, 300_000, 300_000]);
  });

  it('ssh reconnects: after each failed connect, uses fail at once until base · 2^(failures-1) has passed, capped', async () => {
    let now = 0;
    let attempts = 0;
    const createClient = () => {
      const client = new EventEmitter() as EventEmitter & { connect(): void; end(): void };
      client.connect = () => {
        attempts++;
        setImmediate(() => client.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
      };
      client.end = () => undefined;
      return client as unknown as Client;
    };
    const connection = createSshConnection({
      target: { executor: 'box', host: '127.0.0.1', port: 22, user: 'me', insecureAcceptNewHostKey: true, connectTimeoutMs: 1_000 },
      label: "ssh executor 'box' (me@127.0.0.1:22)",
      clock: { now: () => now },
      logger: silentLogger,
      createClient,
      reconnectBaseMs: 1_000,
      reconnectMaxMs: 4_000,
    });
    const waits: number[] = [];
    for (let failure = 1; failure <= 4; failure++) {
      const error = await refusalOf(connection.client());
      expect(error.code).toBe('executor_unreachable');
      expect(error.message).toContain('connection refused');
      // Within the wait: refused without a new attempt, saying when the next one is.
      const early = await refusalOf(connection.client());
      const seconds = Number(/next try in (\d+) s/.exec(early.message)?.[1]);
      waits.push(seconds * 1000);
      expect(attempts).toBe(failure);
      now += retryDelayMs(failure, 1_000, 4_000);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 4_000]);
    // retryNow (an explicit user action) tries at once, whatever the backoff says.
    await refusalOf(connection.client());
    connection.retryNow();
    await refusalOf(connection.client());
    expect(attempts).toBe(6);
    await connection.close();
  });
});
