import type { Origin } from '../core/origin.js';
import type { Reply } from '../core/reply.js';
import type { ServerRef } from '../opencode/server-ref.js';
import type { Db } from '../sessions/database.js';
import type { NameRecord } from '../sessions/registry.js';
import { backNotice, unreachableNotice } from './reports.js';

export interface ServerHealthDeps {
  db: Db;
  /** Failed checks in a row before a server is said to be unreachable. */
  unreachableAfter: number;
  /** The watched names on a server, to tell their channels. */
  namesOn: (server: ServerRef) => NameRecord[];
  notify: (origin: Origin, message: Reply) => void;
}

/**
 * One notice when a server stops answering and one when it is back, per channel with names on it. Failure
 * counts are mirrored in SQLite so a restart neither repeats nor forgets a notice.
 */
export function createServerHealth(deps: ServerHealthDeps) {
  const { db } = deps;
  const healthGet = db.prepare<[string], { failures: number; down_noticed: number }>('SELECT failures, down_noticed FROM server_health WHERE server_key = ?');
  const healthSet = db.prepare(
    'INSERT INTO server_health (server_key, failures, down_noticed) VALUES (?, ?, ?) ON CONFLICT (server_key) DO UPDATE SET failures = excluded.failures, down_noticed = excluded.down_noticed',
  );
  const health = new Map<string, { failures: number; down: boolean }>();
  const healthOf = (key: string) => {
    let value = health.get(key);
    if (!value) {
      const row = healthGet.get(key);
      value = { failures: row?.failures ?? 0, down: row?.down_noticed === 1 };
      health.set(key, value);
    }
    return value;
  };

  function byChannel(server: ServerRef): Map<string, { origin: Origin; names: string[] }> {
    const byOrigin = new Map<string, { origin: Origin; names: string[] }>();
    for (const record of deps.namesOn(server)) {
      const lane = `${record.origin.adapter}:${record.origin.channel}`;
      const entry = byOrigin.get(lane) ?? { origin: { adapter: record.origin.adapter, channel: record.origin.channel }, names: [] };
      entry.names.push(record.name);
      byOrigin.set(lane, entry);
    }
    return byOrigin;
  }

  return {
    serverFailed(server: ServerRef, reason: string): void {
      const state = healthOf(server.url);
      state.failures++;
      if (state.failures >= deps.unreachableAfter && !state.down) {
        state.down = true;
        for (const { origin, names } of byChannel(server).values()) deps.notify(origin, unreachableNotice(server.label, reason, names));
      }
      healthSet.run(server.url, state.failures, state.down ? 1 : 0);
    },
    serverAnswered(server: ServerRef): void {
      const state = healthOf(server.url);
      if (state.failures === 0 && !state.down) return;
      if (state.down) {
        for (const { origin, names } of byChannel(server).values()) deps.notify(origin, backNotice(server.label, names));
      }
      state.failures = 0;
      state.down = false;
      healthSet.run(server.url, 0, 0);
    },
  };
}
