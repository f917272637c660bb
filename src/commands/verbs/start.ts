import { promptEcho } from '../../core/echo.js';
import { reply, text } from '../../core/reply.js';
import { channelOf } from '../../core/origin.js';
import { SwitchboardError } from '../../errors.js';
import type { CommandContext, CommandDefinition } from '../context.js';
import { newTaskName, registerTask } from '../task-names.js';
import { checkPrompt } from './send.js';

/** Starts a task and registers its name; shared by `start` (Claude Code) and `run` (shell). */
async function startTask(ctx: CommandContext, kind: 'claude' | 'shell'): Promise<ReturnType<typeof reply>> {
  const { fleet, access, config } = ctx.services;
  const body = checkPrompt(ctx.text, config.limits.promptMaxChars);
  const executor = ctx.args.executor;
  const label = ctx.options.label as string | undefined;
  if (executor !== undefined) access.require(ctx.actor, 'work', `start tasks on ${executor}`, { executor });
  else access.require(ctx.actor, 'work', 'start tasks');
  const name = newTaskName(ctx);
  ctx.audit.target = name;
  const origin = channelOf(ctx.origin);
  const task = await fleet.start({
    name,
    ...(executor !== undefined ? { executor } : {}),
    ...(label !== undefined ? { label } : {}),
    kind,
    text: body,
    ...(ctx.options.workspace !== undefined ? { workspace: String(ctx.options.workspace) } : {}),
    ...(ctx.options.model !== undefined ? { model: String(ctx.options.model) } : {}),
    ...(ctx.options['max-turns'] !== undefined ? { maxTurns: Number(ctx.options['max-turns']) } : {}),
    actor: ctx.actor.id,
    channel: JSON.stringify(origin),
  });
  // (A --label needed the member role everywhere, checked above, so whichever executor it picked is allowed.)
  const promptId = registerTask(ctx, { name, task, body, origin });
  const icon = kind === 'claude' ? '🤖' : '⚙️';
  const where = task.status === 'queued' ? `queued on ${task.executor} (position ${task.queuePosition ?? '?'})` : `started on ${task.executor}`;
  return reply(
    [
      text(`${icon} task **${name}** ${where}${task.workspace ? ` in ${task.workspace}` : ''} ← ${ctx.actor.name ?? ctx.actor.id}`),
      ...promptEcho(body),
    ],
    { data: { name, taskId: task.id, executor: task.executor, status: task.status, promptId } },
  );
}

const common = [
  { name: 'name', value: 'string' as const, placeholder: 'N', description: 'the task’s name (default: a free four-letter one)' },
  { name: 'workspace', value: 'string' as const, placeholder: 'P', description: 'directory to work in on the executor (default: its workspace:, else the home directory there; a relative path is under that, never under Switchboard’s own directory)' },
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
  level: 'work',
  examples: ['start crib --name auth --workspace ~/app Refactor the auth module', 'start --label rust Fix the build'],
  details: 'The prompt travels as a file (mode 0600) and reaches Claude on stdin, byte for byte. Progress and the result come back here.',
  handle: (ctx) => startTask(ctx, 'claude'),
};

export const run: CommandDefinition = {
  verb: 'run',
  summary: 'run a shell command (bash -c) as a task on an executor',
  positionals: [{ name: 'executor' }],
  options: common,
  text: { name: 'command', required: true },
  level: 'work',
  examples: ['run local --name build --workspace ~/app -- make build && make test'],
  details: 'Put `--` before the command when it starts with a dash. The command text is kept byte for byte.',
  async handle(ctx) {
    if (ctx.args.executor === undefined) throw new SwitchboardError('usage', '`run` needs <executor>');
    return startTask(ctx, 'shell');
  },
};
