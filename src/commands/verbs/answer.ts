import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import type { CommandDefinition } from '../context.js';
import { requireAnswerer } from '../answerer.js';
import { ANSWER_SEPARATOR, answersFor } from '../question-answers.js';
import { onSession, opencodeName, requireName } from '../targets.js';

export const answer: CommandDefinition<'access' | 'monitor' | 'registry' | 'servers'> = {
  verb: 'answer',
  summary: 'answer the question a name is asking',
  positionals: [{ name: 'name' }],
  options: [],
  text: { name: 'choice', required: true },
  level: 'work',
  examples: ['answer kumo Blue', 'answer kumo Blue | staging'],
  details: 'Several questions at once take one answer each, separated by `|`; a question that allows several choices takes them separated by commas.',
  async handle(ctx) {
    const record = requireName(ctx);
    requireAnswerer(ctx, record, `answer the questions of ${record.name}`);
    const target = opencodeName(ctx, record, 'answer');
    const { directory, sessionId } = target.target;
    const question = (await onSession(target, () => target.client.questions(directory))).find((q) => q.sessionID === sessionId);
    if (!question) throw new SwitchboardError('nothing_pending', `**${record.name}** is not asking anything`);
    const answers = answersFor(question, ctx.text ?? '');
    await target.client.replyQuestion(question.id, directory, answers);
    const label = answers.map((labels) => labels.join(', ')).join(ANSWER_SEPARATOR);
    return reply(`💬 answered **${record.name}**: ${label} (by ${ctx.actor.id})`, { data: { name: record.name, requestId: question.id, answer: label, answers } });
  },
};
