import { describeExecutor } from '../executors/index.js';
import type { HostRegistry } from './host-registry.js';
import { labelOf } from './published-refs.js';
import type { HostRow } from './store.js';
import type { ManagedServerStatus } from './types.js';

/** Each owned server as `servers` shows it: its row, with what this process knows of it live. */
export function serverStatuses(rows: readonly HostRow[], registry: HostRegistry): ManagedServerStatus[] {
  return rows.map((row) => {
    const live = registry.known(row.executor)?.live;
    const config = registry.configured(row.executor);
    const state: ManagedServerStatus['state'] = row.state === 'failed' ? 'failed' : live?.unreachable ? 'unreachable' : live?.server ? 'running' : 'not attached';
    return {
      executor: row.executor,
      label: labelOf(row.executor),
      where: config ? describeExecutor(config) : `executor '${row.executor}' (no longer configured)`,
      state,
      url: live?.server?.url ?? null,
      remotePort: row.remotePort,
      startedAt: row.startedAt,
      restarts: row.restarts,
      lastError: row.lastError,
      passwordKept: row.passwordSealed !== null,
    };
  });
}
