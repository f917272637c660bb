import { isAbsolute } from 'node:path';
import { SwitchboardError } from '../../errors.js';
import { reply, text } from '../../core/reply.js';
import { channelOf } from '../../core/origin.js';
import { assertValidName, pickFreeName } from '../../sessions/names.js';
import type { CommandDefinition } from '../context.js';
import { quoteArg } from '../grammar.js';
import { requireAgent, requireModel, selectableAgents, serverFor } from '../servers.js';
import { managedExecutorOf } from '../../opencode/server-directory.js';
import { checkBranch } from '../../worktrees/index.js';
import { WORKTREE_DETAILS, WORKTREE_OPTION } from './start.js';

export const newSession: CommandDefinition = {
  verb: 'new',
  summary: 'create an OpenCode session on a server and give it a name',
  positionals: [{ name: 'name', optional: true }, { name: 'server' }],
  options: [
    { name: 'agent', value: 'string', placeholder: 'A', description: 'the agent to use (without it, pick from the server’s agents)' },
    { name: 'model', value: 'string', placeholder: 'provider/model', description: 'the model to use, e.g. anthropic/claude-sonnet-4-6' },
    { name: 'dir', value: 'string', placeholder: 'PATH', description: 'absolute project directory on the server (default: the server’s own); on @executor, ~/… works' },
    { name: 'title', value: 'string', placeholder: 'T', description: 'the session title shown in OpenCode' },
    { ...WORKTREE_OPTION, description: `on @executor only: ${WORKTREE_OPTION.description}` },
  ],
  level: 'work',
  examples: ['new kumo lab --agent build', 'new http://127.0.0.1:4096 --dir /home/me/app', 'new kumo @crib --dir ~/repo', 'new kumo @crib --dir ~/repo --worktree=fix/login'],
  details:
    'With two arguments the first is the name; with one it is the server and a free name is picked. ' +
    '`@<executor>` is an OpenCode server Switchboard runs there itself (started on first use, reached through SSH, restarted when it dies). ' +
    `On @executor, --worktree gives the session its own git worktree of --dir (the executor's workspace, else its home, without it). ${WORKTREE_DETAILS}`,
  async handle(ctx) {
    const { registry, choices } = ctx.services;
    const explicitName = ctx.args.name;
    if (explicitName !== undefined) {
      assertValidName(explicitName);
      if (registry.isTaken(explicitName)) {
        throw new SwitchboardError('name_taken', `the name \`${explicitName}\` is already taken`, {
          hint: `pick another name, or \`forget ${explicitName}\` first`,
        });
      }
    }
    const dirGiven = ctx.options.dir as string | undefined;
    const wantsWorktree = ctx.options.worktree;
    const worktreeExecutor = managedExecutorOf(ctx.args.server!);
    if (wantsWorktree !== undefined && worktreeExecutor === null) {
      throw new SwitchboardError('usage', '--worktree works on an OpenCode server Switchboard runs on an executor (`@executor`): the worktree is made on that executor', {
        hint: 'new <name> @executor --dir PATH --worktree[=B]',
      });
    }
    if (typeof wantsWorktree === 'string') checkBranch(wantsWorktree);
    // On a server Switchboard runs on an executor (`@crib`), `~/repo` means the executor user's home.
    const tilde = dirGiven !== undefined && managedExecutorOf(ctx.args.server!) !== null && /^~(\/|$)/.test(dirGiven);
    if (dirGiven !== undefined && !isAbsolute(dirGiven) && !tilde) {
      throw new SwitchboardError('usage', `--dir must be an absolute path on the server, not \`${dirGiven.slice(0, 80)}\``);
    }
    const { ref, client, home } = await serverFor(ctx, ctx.args.server!);
    if (tilde && !home) throw new SwitchboardError('usage', `the home directory on ${ref.label} is not known yet; give --dir as an absolute path`);
    const directory = tilde ? `${home}${dirGiven!.slice(1)}` : dirGiven;
    ctx.audit.target = explicitName ?? ref.label;
    const agents = await client.agents();
    const model = ctx.options.model as string | undefined;
    if (model !== undefined) await requireModel(client, model, ref.label);
    const name = explicitName ?? pickFreeName((candidate) => registry.isTaken(candidate));
    ctx.audit.target = name;

    const wantedAgent = ctx.options.agent as string | undefined;
    if (wantedAgent === undefined) {
      const selectable = selectableAgents(agents);
      if (selectable.length === 0) throw new SwitchboardError('opencode_error', `server ${ref.label} offers no agent to pick`);
      const rest = [
        model ? `--model ${quoteArg(model)}` : '',
        directory ? `--dir ${quoteArg(directory)}` : '',
        ctx.options.title !== undefined ? `--title ${quoteArg(String(ctx.options.title))}` : '',
        wantsWorktree === true ? '--worktree' : typeof wantsWorktree === 'string' ? `--worktree=${quoteArg(wantsWorktree)}` : '',
      ].filter(Boolean);
      const block = choices.offer(
        ctx.actor,
        ctx.origin,
        `Which agent should **${name}** use on ${ref.label}?`,
        selectable.map((agent, index) => ({
          label: agent.name,
          ...(agent.description ? { description: agent.description } : {}),
          ...(index === 0 ? { style: 'primary' as const } : {}),
          command: ['new', name, quoteArg(ctx.args.server!), '--agent', quoteArg(agent.name), ...rest].join(' '),
        })),
        `pick the agent of ${name}`,
      );
      return reply([block, text('Pick one by number or name (or give `--agent` next time).')], {
        data: { name, server: ref.label, agents: selectable.map((a) => a.name) },
      });
    }

    requireAgent(agents, wantedAgent, ref.label);
    const title = ctx.options.title as string | undefined;
    // The worktree comes right before the session: a refusal (not a repository, staged changes) creates nothing.
    const worktree =
      wantsWorktree === undefined
        ? undefined
        : await ctx.services.worktrees.create({
            name,
            executor: worktreeExecutor!,
            kind: 'session',
            ...(directory !== undefined ? { workspace: directory } : {}),
            ...(typeof wantsWorktree === 'string' ? { branch: wantsWorktree } : {}),
          });
    const sessionDirectory = worktree ? worktree.workdir : directory;
    let session: Awaited<ReturnType<typeof client.createSession>>;
    try {
      session = await client.createSession({
        ...(sessionDirectory ? { directory: sessionDirectory } : {}),
        ...(title ? { title } : {}),
        agent: wantedAgent,
      });
    } catch (error) {
      if (worktree) await ctx.services.worktrees.discard(name).catch(() => undefined);
      throw error;
    }
    registry.insert({
      name,
      target: { kind: 'opencode', server: ref.label, serverUrl: ref.url, sessionId: session.id, directory: session.directory },
      agent: wantedAgent,
      ...(model ? { model } : {}),
      owner: ctx.actor.id,
      origin: channelOf(ctx.origin),
    });
    return reply(
      [
        `🆕 **${name}** → OpenCode session \`${session.id}\` on ${ref.label}`,
        `agent ${wantedAgent}${model ? ` · model ${model}` : ''} · dir ${session.directory}${worktree ? ` · 🌿 branch \`${worktree.branch}\`${worktree.createdBranch ? ' (new)' : ''}` : ''}`,
        `Send it work with \`send ${name} <prompt>\`.`,
      ].join('\n'),
      { tone: 'success', data: { name, server: ref.label, url: ref.url, sessionId: session.id, directory: session.directory, agent: wantedAgent, ...(worktree ? { branch: worktree.branch } : {}) } },
    );
  },
};
