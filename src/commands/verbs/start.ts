import { promptEcho } from '../../core/echo.js';
import { reply, text } from '../../core/reply.js';
import { channelOf } from '../../core/origin.js';
import { SwitchboardError } from '../../errors.js';
import type { CommandContext, CommandDefinition } from '../context.js';
import { newTaskName, registerTask } from '../task-names.js';
import { checkPrompt, filesData } from './send.js';
import { checkFiles, downloadFiles } from '../../files/index.js';

/** Starts a task and registers its name; shared by `start` (Claude Code) and `run` (shell). */
async function startTask(ctx: CommandContext, kind: 'claude' | 'shell'): Promise<ReturnType<typeof reply>> {
  const { fleet, access, config } = ctx.services;
  const body = checkPrompt(ctx.text, config.limits.promptMaxChars);
  const executor = ctx.args.executor;
  const label = ctx.options.label as string | undefined;
  if (executor !== undefined) access.require(ctx.actor, 'work', `start tasks on ${executor}`, { executor });
  else access.require(ctx.actor, 'work', 'start tasks');
  // Attached files: refused by declared size and type first, then fetched within the limits; nothing starts otherwise.
  if (ctx.files?.length) checkFiles(ctx.files, config.files);
  const attached = ctx.files?.length ? await downloadFiles(ctx.files, config.files, ctx.services.fetchFile) : [];
  const wantsWorktree = ctx.options.worktree;
  if (wantsWorktree !== undefined && executor === undefined) {
    throw new SwitchboardError('usage', '--worktree needs an executor named, not --label: the worktree is made on that executor before the task starts', {
      hint: 'start <executor> --worktree[=B] <prompt…>',
    });
  }
  const name = newTaskName(ctx);
  ctx.audit.target = name;
  const origin = channelOf(ctx.origin);
  const workspace = ctx.options.workspace !== undefined ? String(ctx.options.workspace) : undefined;
  // The worktree comes first: a refusal (not a repository, staged changes, a branch in use) starts nothing.
  const worktree =
    wantsWorktree === undefined
      ? undefined
      : await ctx.services.worktrees.create({
          name,
          executor: executor!,
          kind: 'task',
          ...(workspace !== undefined ? { workspace } : {}),
          ...(typeof wantsWorktree === 'string' ? { branch: wantsWorktree } : {}),
        });
  const where = worktree ? worktree.workdir : workspace;
  let task: Awaited<ReturnType<typeof fleet.start>>;
  try {
    task = await fleet.start({
      name,
      ...(executor !== undefined ? { executor } : {}),
      ...(label !== undefined ? { label } : {}),
      kind,
      text: body,
      ...(attached.length ? { files: attached } : {}),
      ...(where !== undefined ? { workspace: where } : {}),
      ...(ctx.options.model !== undefined ? { model: String(ctx.options.model) } : {}),
      ...(ctx.options['max-turns'] !== undefined ? { maxTurns: Number(ctx.options['max-turns']) } : {}),
      actor: ctx.actor.id,
      channel: JSON.stringify(origin),
    });
  } catch (error) {
    // Nothing ran in it: the worktree goes again, and its branch if it was made for it.
    if (worktree) await ctx.services.worktrees.discard(name).catch((e: unknown) => ctx.services.logger.warn('could not remove the worktree of a task that did not start', { name, error: String(e) }));
    throw error;
  }
  // (A --label needed the member role everywhere, checked above, so whichever executor it picked is allowed.)
  const promptId = registerTask(ctx, { name, task, body, origin });
  const icon = kind === 'claude' ? '🤖' : '⚙️';
  const state = task.status === 'queued' ? `queued on ${task.executor} (position ${task.queuePosition ?? '?'})` : `started on ${task.executor}`;
  return reply(
    [
      text(`${icon} task **${name}** ${state}${task.workspace ? ` in ${task.workspace}` : ''}${worktree ? ` · 🌿 branch \`${worktree.branch}\`${worktree.createdBranch ? ' (new)' : ''}` : ''} ← ${ctx.actor.name ?? ctx.actor.id}`),
      ...promptEcho(body, attached),
    ],
    { data: { name, taskId: task.id, executor: task.executor, status: task.status, promptId, ...filesData(attached), ...(worktree ? { branch: worktree.branch, worktree: worktree.path } : {}) } },
  );
}

/** `--worktree[=B]`, shared by start, run, offload and new. */
export const WORKTREE_OPTION = {
  name: 'worktree',
  value: 'optional-string' as const,
  placeholder: 'B',
  description:
    'work in a new git worktree of the workspace, on branch B (made from HEAD when it does not exist). `--worktree` alone makes the branch sb/<name>. The branch is attached with `=` (`--worktree=fix/login`): a word after a space is the prompt',
};

/** What `help` says about worktrees, for every verb that takes one. */
export const WORKTREE_DETAILS =
  '`--worktree` alone runs in a new worktree on branch sb/<name>; `--worktree=B` on branch B. The branch goes after `=`, never after a space, so `--worktree fix the build` is a worktree on sb/<name> and the prompt "fix the build". ' +
  'The worktree is <repo>/.git/sb-worktrees/<name> on the executor (inside the repository, so inside a container’s mounted workspace too). ' +
  'Refused before anything starts: a workspace that is not a git repository, staged but uncommitted changes, a branch checked out in another worktree, a name git would not accept. ' +
  '`kill <name> --cleanup` removes it (not while it has uncommitted changes, unless `--force`); the branch stays. `tasks --worktrees` lists them.';

const common = [
  { name: 'name', value: 'string' as const, placeholder: 'N', description: 'the task’s name (default: a free four-letter one)' },
  { name: 'workspace', value: 'string' as const, placeholder: 'P', description: 'directory to work in on the executor (default: its workspace:, else the home directory there; a relative path is under that, never under Switchboard’s own directory)' },
  WORKTREE_OPTION,
];

export const start: CommandDefinition = {
  verb: 'start',
  summary: 'start a Claude Code task on an executor',
  positionals: [{ name: 'executor', skipWhen: 'label' }],
  options: [
    ...common,
    { name: 'model', value: 'string', placeholder: 'M', description: 'opus, sonnet, haiku (aliases from `models:`) or a full model name' },
    { name: 'max-turns', value: 'int', placeholder: 'N', description: 'stop after this many agent turns' },
    { name: 'label', value: 'string', placeholder: 'L', description: 'instead of an executor: the reachable one with this label and the fewest tasks' },
  ],
  text: { name: 'prompt', required: true },
  files: true,
  level: 'work',
  examples: ['start crib --name auth --workspace ~/app Refactor the auth module', 'start --label rust Fix the build', 'start crib --workspace ~/app --worktree=fix/login Fix the login redirect'],
  details: 'The prompt travels as a file (mode 0600) and reaches Claude on stdin, byte for byte. Progress and the result come back here. Files attached to the command (Slack: on the @-mention; Discord: on the `!sb` message or the `file` option) are written into the task directory (mode 0600) and named on a line after the prompt. ' + WORKTREE_DETAILS,
  handle: (ctx) => startTask(ctx, 'claude'),
};

export const run: CommandDefinition = {
  verb: 'run',
  summary: 'run a shell command (bash -c) as a task on an executor',
  positionals: [{ name: 'executor' }],
  options: common,
  text: { name: 'command', required: true },
  level: 'work',
  examples: ['run local --name build --workspace ~/app -- make build && make test', 'run crib --workspace ~/app --worktree -- make test'],
  details: `Put \`--\` before the command when it starts with a dash. The command text is kept byte for byte. ${WORKTREE_DETAILS}`,
  async handle(ctx) {
    if (ctx.args.executor === undefined) throw new SwitchboardError('usage', '`run` needs <executor>');
    return startTask(ctx, 'shell');
  },
};
