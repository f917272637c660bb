import { output, reply, text } from '../../core/reply.js';
import { describeError, finalOutput, latestAssistantText, latestTurn } from '../../opencode/turns.js';
import type { CommandDefinition } from '../context.js';
import { onSession, opencodeName, requireName, scopeOf } from '../targets.js';
import { taskOf } from '../task-names.js';

export const last: CommandDefinition<'access' | 'fleet' | 'registry' | 'servers' | 'tasks'> = {
  verb: 'last',
  summary: 'the latest assistant output of a name, whole',
  positionals: [{ name: 'name' }],
  options: [],
  level: 'read',
  examples: ['last kumo'],
  async handle(ctx) {
    const record = requireName(ctx);
    ctx.services.access.require(ctx.actor, 'read', `read ${record.name}`, scopeOf(record));
    if (record.target.kind === 'task') {
      const task = taskOf(ctx, record, 'last');
      const body = task.result ?? ctx.services.tasks.view(record.name)?.lastText ?? (task.kind === 'shell' ? await ctx.services.fleet.logs(record.name, 60) : null);
      if (!body?.trim()) return reply(`**${record.name}** has no output yet.`, { data: { name: record.name, output: null } });
      return reply([text(`**${record.name}** latest output:`), output(body)], { data: { name: record.name, output: body } });
    }
    const target = opencodeName(ctx, record, 'last');
    const messages = await onSession(target, () => target.client.messages(target.target.sessionId, { limit: 50 }));
    const turn = latestTurn(messages);
    const body = (turn && finalOutput(turn)) ?? latestAssistantText(messages);
    if (!body) {
      const note = turn?.error ? ` (the last turn failed: ${describeError(turn.error)})` : '';
      return reply(`**${record.name}** has no assistant output yet${note}.`, { data: { name: record.name, output: null } });
    }
    const blocks = [text(`**${record.name}** latest output:`), output(body)];
    if (turn?.error) blocks.push(text(`❌ ${describeError(turn.error)}`));
    return reply(blocks, { data: { name: record.name, output: body } });
  },
};
