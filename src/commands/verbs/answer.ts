import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import type { CommandDefinition } from '../context.js';
import { requireAnswerer } from '../answerer.js';
import { onSession, opencodeName, requireName } from '../targets.js';

export const answer: CommandDefinition<'access' | 'monitor' | 'registry' | 'servers'> = {
  verb: 'answer',
  summary: 'answer the question a name is asking',
  positionals: [{ name: 'name' }],
  options: [],
  text: { name: 'choice', required: true },
  level: 'work',
  examples: ['answer kumo Blue'],
  async handle(ctx) {
    const record = requireName(ctx);
    requireAnswerer(ctx, record, `answer the questions of ${record.name}`);
    const target = opencodeName(ctx, record, 'answer');
    const { directory, sessionId } = target.target;
    const question = (await onSession(target, () => target.client.questions(directory))).find((q) => q.sessionID === sessionId);
    if (!question) throw new SwitchboardError('nothing_pending', `**${record.name}** is not asking anything`);
    const wanted = (ctx.text ?? '').trim();
    const first = question.questions[0]!;
    const option = first.options.find((o) => o.label.toLowerCase() === wanted.toLowerCase());
    if (first.options.length && !option) {
      throw new SwitchboardError('usage', `\`${wanted.slice(0, 60)}\` is not one of the choices`, {
        hint: `choices: ${first.options.map((o) => o.label).join(', ')}`,
      });
    }
    const label = option?.label ?? wanted;
    await target.client.replyQuestion(question.id, directory, question.questions.map(() => [label]));
    return reply(`💬 answered **${record.name}**: ${label} (by ${ctx.actor.id})`, { data: { name: record.name, requestId: question.id, answer: label } });
  },
};
