import { SwitchboardError } from '../../errors.js';
import { reply, text, verbatim } from '../../core/reply.js';
import { channelOf } from '../../core/origin.js';
import { firstLine } from '../../opencode/turns.js';
import type { CommandContext, CommandDefinition } from '../context.js';
import type { NameRecord } from '../../sessions/registry.js';
import { onSession, opencodeName, requireName, scopeOf } from '../targets.js';
import { requireAgent } from '../servers.js';

/** Checks a prompt before anything is sent: not empty, not over the configured length. */
export function checkPrompt(prompt: string | undefined, maxChars: number): string {
  if (prompt === undefined || prompt.trim() === '') {
    throw new SwitchboardError('empty_prompt', 'the prompt is empty', { hint: 'usage: send <name> <prompt…>' });
  }
  if (prompt.length > maxChars) {
    throw new SwitchboardError(
      'prompt_too_long',
      `the prompt is ${prompt.length.toLocaleString('en-US')} characters; the limit is ${maxChars.toLocaleString('en-US')}`,
      { hint: 'shorten it, or put the details in a file in the project and point the agent at it' },
    );
  }
  return prompt;
}

export const send: CommandDefinition = {
  verb: 'send',
  summary: 'relay a prompt to a name, echo it verbatim, and watch it',
  positionals: [{ name: 'name' }],
  options: [{ name: 'agent', value: 'string', placeholder: 'A', description: 'use this agent from now on for this name' }],
  text: { name: 'prompt', required: false },
  level: 'work',
  examples: ['send kumo fix the flaky auth test', 'send kumo --agent plan -- --verbose is broken, plan a fix'],
  details: 'Everything after the name (or after `--`) is sent byte for byte. The prompt is echoed back exactly.',
  async handle(ctx) {
    const record = requireName(ctx);
    const prompt = checkPrompt(ctx.text, ctx.services.config.limits.promptMaxChars);
    ctx.services.access.require(ctx.actor, 'work', `send prompts to ${record.name}`, scopeOf(record));
    if (record.target.kind === 'task') return sendToTask(ctx, record, prompt);
    const target = opencodeName(ctx, record, 'send');
    const agentOption = ctx.options.agent as string | undefined;
    if (agentOption !== undefined) requireAgent(await target.client.agents(), agentOption, target.server.label);
    const agent = agentOption ?? record.agent;

    const sentAt = ctx.services.clock.now();
    await onSession(target, () =>
      target.client.promptAsync(target.target.sessionId, {
        text: prompt,
        ...(agent ? { agent } : {}),
        ...(record.model ? { model: record.model } : {}),
      }),
    );
    const { registry, monitor } = ctx.services;
    const promptId = registry.recordPrompt({ name: record.name, actor: ctx.actor.id, text: prompt, ...(agent ? { agent } : {}) });
    ctx.audit.promptId = promptId;
    // The work now belongs to the channel it was started from: progress and the final output go there.
    registry.update(record.name, {
      currentTask: firstLine(prompt),
      lastPromptId: promptId,
      origin: channelOf(ctx.origin),
      ...(agentOption ? { agent: agentOption } : {}),
    });
    monitor.watch({ name: record.name, promptId, sender: ctx.actor.id, since: sentAt });
    ctx.route = { threadKey: record.name, opensThread: true };
    return reply(
      [text(`📨 **${record.name}** ← ${ctx.actor.name ?? ctx.actor.id}${agent ? ` (agent ${agent})` : ''}`), verbatim(prompt)],
      { data: { name: record.name, promptId, sessionId: target.target.sessionId, agent } },
    );
  },
};

/** A follow-up to a Claude Code task: a new run that resumes the same conversation. */
async function sendToTask(ctx: CommandContext, record: NameRecord, prompt: string) {
  if (ctx.options.agent !== undefined) throw new SwitchboardError('usage', '--agent is for OpenCode sessions; a task keeps its model');
  const task = await ctx.services.fleet.send(record.name, prompt);
  const { registry } = ctx.services;
  const promptId = registry.recordPrompt({ name: record.name, actor: ctx.actor.id, text: prompt });
  ctx.audit.promptId = promptId;
  registry.update(record.name, { currentTask: firstLine(prompt), lastPromptId: promptId, origin: channelOf(ctx.origin) });
  ctx.route = { threadKey: record.name, opensThread: true };
  return reply([text(`📨 **${record.name}** ← ${ctx.actor.name ?? ctx.actor.id} (resuming the conversation on ${task.executor})`), verbatim(prompt)], {
    data: { name: record.name, promptId, taskId: task.id, status: task.status },
  });
}
