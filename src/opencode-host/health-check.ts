import { SwitchboardError } from '../errors.js';
import { createOpencodeClient } from '../opencode/client.js';
import type { ConnectionGuard } from '../opencode/connection-guard.js';
import type { ServerRef } from '../opencode/server-ref.js';

export type HealthVerdict = 'ok' | 'auth' | 'down';

export interface HealthCheckOptions {
  timeoutMs: number;
  guard?: ConnectionGuard | undefined;
}

/**
 * One `GET /global/health` through the OpenCode client: healthy, the password refused, or down (anything
 * else). Without keep-alive: the check is one-shot and no idle socket may hold the tunnel open.
 */
export async function checkHealth(server: ServerRef, options: HealthCheckOptions): Promise<HealthVerdict> {
  const client = createOpencodeClient(server, { timeoutMs: options.timeoutMs, keepAlive: false, ...(options.guard ? { guard: options.guard } : {}) });
  try {
    return (await client.health()).healthy ? 'ok' : 'down';
  } catch (error) {
    return error instanceof SwitchboardError && error.code === 'auth_failed' ? 'auth' : 'down';
  }
}

/**
 * Health through the tunnel, six tries over about 7 s: a server that has just printed its port (or one
 * that replaced a stopped one on the same port) can refuse its first connections on a loaded host.
 */
export async function waitHealthy(server: ServerRef, options: HealthCheckOptions): Promise<HealthVerdict> {
  let verdict: HealthVerdict = 'down';
  for (let i = 0; i < 6; i++) {
    verdict = await checkHealth(server, options);
    if (verdict !== 'down' || i === 5) return verdict;
    await new Promise((r) => setTimeout(r, 500 * (i + 1)));
  }
  return verdict;
}
