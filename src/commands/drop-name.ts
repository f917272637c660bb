import type { QueuedPrompt } from '../sessions/prompt-queue.js';
import type { NameRecord } from '../sessions/registry.js';
import type { Services } from './context.js';

/**
 * Drops a name and what hangs on it: a finished task's record (its directory on the host is cleaned up), the
 * watch, and the prompts queued for it, which must never reach a later name spelled the same. The remote
 * session or workspace is never touched. Returns the queued prompts that were dropped.
 */
export async function dropName(services: Pick<Services, 'fleet' | 'monitor' | 'followUps' | 'registry'>, record: NameRecord): Promise<QueuedPrompt[]> {
  // A task's record goes with its name; a live task must be killed first (never left running unnamed).
  if (record.target.kind === 'task' && services.fleet.get(record.name)) await services.fleet.forget(record.name);
  services.monitor.unwatch(record.name);
  const dropped = services.followUps.drop(record.name);
  services.registry.remove(record.name);
  return dropped;
}
