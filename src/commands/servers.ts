import { SwitchboardError } from '../errors.js';
import { assertNotMetadataAddress } from '../opencode/address-guard.js';
import type { OpencodeClient } from '../opencode/client.js';
import type { Agent } from '../opencode/schemas.js';
import type { ServerRef } from '../opencode/server-ref.js';
import { managedExecutorOf } from '../opencode/server-directory.js';
import type { CommandContext } from './context.js';

/**
 * The server a user named, with the rules for raw URLs applied: only admins may point Switchboard at a
 * server that is not in the config, and never at link-local or metadata addresses unless allowed.
 */
export async function serverFor(ctx: CommandContext, input: string): Promise<{ ref: ServerRef; client: OpencodeClient; home?: string }> {
  const executor = managedExecutorOf(input);
  if (executor !== null) return managedServer(ctx, executor);
  const { ref, configured } = ctx.services.servers.resolve(input);
  if (!configured) {
    ctx.services.access.require(ctx.actor, 'admin', 'use a server that is not in switchboard.yaml');
    if (!ctx.services.config.access.allowMetadataAddresses) await assertNotMetadataAddress(ref.url, ctx.services.lookupHost);
  }
  const client = ctx.services.servers.client(ref);
  const health = await client.health();
  if (!health.healthy) throw new SwitchboardError('unreachable', `server ${ref.label} reports that it is not healthy`);
  return { ref, client };
}

/**
 * `@executor`: Switchboard's own OpenCode server there. Using a running one is like using a configured server;
 * starting one is work on that executor, so it takes the same rights as starting a task there.
 */
async function managedServer(ctx: CommandContext, executor: string): Promise<{ ref: ServerRef; client: OpencodeClient; home?: string }> {
  const { hosts, servers } = ctx.services;
  if (!hosts.canHost(executor)) {
    const hostable = ctx.services.config.executors.filter((e) => e.type !== 'container').map((e) => `@${e.name}`);
    throw new SwitchboardError('unknown_executor', `\`@${executor}\` is not an ssh or local executor`, {
      hint: hostable.length ? `executors that can run an OpenCode server: ${hostable.join(', ')}` : 'add an ssh executor under `executors:` in switchboard.yaml',
    });
  }
  if (!hosts.running(executor)) ctx.services.access.require(ctx.actor, 'work', `start an OpenCode server on ${executor}`, { executor });
  const ref = await servers.managed(executor);
  const client = servers.client(ref);
  const health = await client.health();
  if (!health.healthy) throw new SwitchboardError('unreachable', `server ${ref.label} reports that it is not healthy`);
  const home = hosts.home(executor);
  return home ? { ref, client, home } : { ref, client };
}

/** Agents a user may pick: primary (or all-mode) agents that are not hidden. */
export function selectableAgents(agents: readonly Agent[]): Agent[] {
  return agents.filter((agent) => agent.mode !== 'subagent' && !agent.hidden);
}

export function requireAgent(agents: readonly Agent[], wanted: string, serverLabel: string): Agent {
  const selectable = selectableAgents(agents);
  const found = selectable.find((agent) => agent.name === wanted);
  if (found) return found;
  throw new SwitchboardError('usage', `server ${serverLabel} has no agent \`${wanted.slice(0, 40)}\``, {
    hint: `agents there: ${selectable.map((a) => a.name).join(', ') || '(none)'}`,
  });
}

/** Checks `provider/model` against the models the server has configured (a bad model sticks to a session). */
export async function requireModel(client: OpencodeClient, model: string, serverLabel: string): Promise<void> {
  if (!/^[\w.-]+\/[\w.:@-]+$/.test(model)) {
    throw new SwitchboardError('usage', `\`${model.slice(0, 60)}\` is not a model: use provider/model, such as anthropic/claude-sonnet-4-6`);
  }
  const { providers } = await client.providers();
  const available = providers.flatMap((provider) => Object.keys(provider.models).map((id) => `${provider.id}/${id}`));
  if (!available.includes(model)) {
    throw new SwitchboardError('usage', `server ${serverLabel} has no model \`${model}\``, {
      hint: `models there: ${available.slice(0, 20).join(', ')}${available.length > 20 ? ', …' : ''}`,
    });
  }
}
