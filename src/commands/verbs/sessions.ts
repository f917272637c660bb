import { createLimiter } from '../../core/limiter.js';
import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import type { OpencodeClient } from '../../opencode/client.js';
import { todoFraction } from '../../opencode/turns.js';
import type { NameRecord } from '../../sessions/registry.js';
import type { CommandDefinition, ContextWith } from '../context.js';
import { describeTaskState } from '../task-names.js';

interface Line {
  name: string;
  kind: string;
  where: string;
  state: string;
  todo?: string;
  task?: string;
}

/** Runs `work` over items with at most `limit` in flight, so a fleet of names never floods a server. */
function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const limiter = createLimiter(limit);
  return Promise.all(items.map((item) => limiter.run(() => work(item))));
}

async function describeOpencodeNames(ctx: ContextWith<'clock' | 'fleet' | 'registry' | 'servers' | 'tasks'>, records: NameRecord[]): Promise<Line[]> {
  // One status call per server directory, then todos only for busy sessions.
  const groups = new Map<string, { client: OpencodeClient; label: string; directory: string; records: NameRecord[] }>();
  for (const record of records) {
    if (record.target.kind !== 'opencode') continue;
    const server = ctx.services.servers.forStored(record.target.server, record.target.serverUrl);
    const key = `${server.url}\u0000${record.target.directory}`;
    const group = groups.get(key) ?? { client: ctx.services.servers.client(server), label: server.label, directory: record.target.directory, records: [] };
    group.records.push(record);
    groups.set(key, group);
  }
  const lines = await mapLimited([...groups.values()], 8, async (group) => {
    let statuses: Record<string, { type: string }>;
    try {
      statuses = await group.client.status(group.directory);
    } catch (error) {
      const why = error instanceof SwitchboardError ? error.code : 'error';
      return group.records.map((record) => ({ name: record.name, kind: 'opencode', where: group.label, state: why === 'auth_failed' ? 'auth failed' : 'unreachable', ...(record.currentTask ? { task: record.currentTask } : {}) }));
    }
    return mapLimited(group.records, 8, async (record): Promise<Line> => {
      const sessionId = (record.target as { sessionId: string }).sessionId;
      const state = statuses[sessionId]?.type ?? 'idle';
      const line: Line = { name: record.name, kind: 'opencode', where: group.label, state, ...(record.currentTask ? { task: record.currentTask } : {}) };
      if (state !== 'idle') {
        try {
          const todos = await group.client.todo(sessionId);
          if (todos.length) line.todo = todoFraction(todos);
        } catch {
          // The line still says busy; the todo is a nicety.
        }
      }
      return line;
    });
  });
  return lines.flat();
}

function describeTask(ctx: ContextWith<'clock' | 'fleet' | 'registry' | 'servers' | 'tasks'>, record: NameRecord): Line {
  const task = ctx.services.fleet.get(record.name);
  const view = ctx.services.tasks.view(record.name);
  const done = view?.todos.filter((t) => t.status === 'completed').length;
  return {
    name: record.name,
    kind: task ? `${task.kind} task` : 'task',
    where: record.target.kind === 'task' ? record.target.executor : '',
    state: task ? describeTaskState(task, ctx.services.clock.now()) : 'unknown',
    ...(view?.todos.length ? { todo: `${done}/${view.todos.length}` } : {}),
    ...(record.currentTask ? { task: record.currentTask } : {}),
  };
}

export const sessions: CommandDefinition<'clock' | 'fleet' | 'registry' | 'servers' | 'tasks'> = {
  verb: 'sessions',
  summary: 'every name: kind, where, busy/idle, todo x/y, current task',
  positionals: [],
  options: [],
  level: 'read',
  async handle(ctx) {
    const records = ctx.services.registry.list();
    if (records.length === 0) {
      return reply('No names yet. Create one with `new <server>` (or `new <name> <server>`).', { data: [] });
    }
    const described = new Map((await describeOpencodeNames(ctx, records)).map((line) => [line.name, line]));
    const lines = records.map((record): Line => described.get(record.name) ?? describeTask(ctx, record));
    const width = Math.max(...lines.map((l) => l.name.length));
    const icon = (state: string) =>
      state === 'idle' ? '💤' : state === 'busy' || state === 'retry' || state.startsWith('running') ? '⚙️' : state.startsWith('succeeded') ? '✅' : state.startsWith('queued') ? '⏳' : '⚠️';
    const body = lines.map((l) =>
      [
        `${icon(l.state)} ${l.name.padEnd(width)}`,
        `${l.kind} on ${l.where}`,
        l.state,
        l.todo ? `todo ${l.todo}` : '',
        l.task ? `“${l.task}”` : '',
      ]
        .filter(Boolean)
        .join(' · '),
    );
    return reply(body.join('\n'), { data: lines });
  },
};
