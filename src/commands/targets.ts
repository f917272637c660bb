import { SwitchboardError } from '../errors.js';
import type { OpencodeClient } from '../opencode/client.js';
import type { ServerRef } from '../opencode/server-ref.js';
import type { Scope } from '../sessions/access.js';
import type { NameRecord, OpencodeTarget } from '../sessions/registry.js';
import { assertValidName, NAME_PATTERN } from '../sessions/names.js';
import type { Registry } from '../sessions/registry.js';
import type { ContextWith } from './context.js';

export interface OpencodeName {
  record: NameRecord;
  target: OpencodeTarget;
  server: ServerRef;
  client: OpencodeClient;
}

/** The registered name in `args.name`, validated first so hostile names never reach a query or a message. */
export function requireName(ctx: ContextWith<'registry'>, key = 'name'): NameRecord {
  const name = ctx.args[key] ?? '';
  assertValidName(name);
  ctx.audit.target = name;
  return ctx.services.registry.require(name);
}

/** What a name's per-name and per-executor grants apply to: the name, and for a task its executor too. */
export function scopeOf(record: NameRecord): Scope {
  return record.target.kind === 'task' ? { name: record.name, executor: record.target.executor } : { name: record.name };
}

/**
 * What a command line is about, for the role check at the door: the name it names (for a task, its executor
 * too) or the executor it starts on, so grants under `access.names` and `access.executors` count there as well.
 */
export function scopeOfArgs(args: Record<string, string>, registry: Pick<Registry, 'get'>): Scope {
  const name = args.name !== undefined && NAME_PATTERN.test(args.name) ? args.name : undefined;
  const record = name !== undefined ? registry.get(name) : undefined;
  const scope: Scope = record ? scopeOf(record) : name !== undefined ? { name } : {};
  if (args.executor !== undefined && NAME_PATTERN.test(args.executor)) scope.executor = args.executor;
  return scope;
}

export function opencodeName(ctx: Pick<ContextWith<'servers'>, 'services'>, record: NameRecord, verb: string): OpencodeName {
  if (record.target.kind !== 'opencode') {
    throw new SwitchboardError('usage', `\`${verb}\` works on OpenCode sessions; ${record.name} is a task on ${record.target.executor}`);
  }
  const server = ctx.services.servers.forStored(record.target.server, record.target.serverUrl);
  return { record, target: record.target, server, client: ctx.services.servers.client(server) };
}

/** Runs a call on a name's session, turning "session not found" into advice to `forget` the name. */
export async function onSession<T>(name: OpencodeName, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SwitchboardError && error.code === 'session_gone') {
      throw new SwitchboardError(
        'session_gone',
        `the OpenCode session ${name.target.sessionId} of ${name.record.name} no longer exists on ${name.server.label}`,
        { cause: error, hint: `\`forget ${name.record.name}\` drops the name` },
      );
    }
    throw error;
  }
}
