import { SwitchboardError } from '../errors.js';
import type { QuestionRequest } from '../opencode/schemas.js';

type Question = QuestionRequest['questions'][number];

/** How several questions are answered in one line: `answer kumo Red | Tall`. */
export const ANSWER_SEPARATOR = ' | ';

function labelFor(question: Question, wanted: string, at: string): string {
  const option = question.options.find((o) => o.label.toLowerCase() === wanted.toLowerCase());
  if (option) return option.label;
  // A question without choices takes free text; one with choices takes one of them (a typo is not an answer).
  if (question.options.length === 0 && wanted !== '') return wanted;
  throw new SwitchboardError('usage', wanted === '' ? `no answer${at}` : `\`${wanted.slice(0, 60)}\` is not one of the choices${at}`, {
    hint: question.options.length ? `choices${at}: ${question.options.map((o) => o.label).join(', ')}` : `type an answer${at}`,
  });
}

/**
 * What `answer` sends for a pending question request: one list of labels per question, in order. Several
 * questions take one answer each, separated by ` | `; a question that allows several choices takes them
 * separated by commas.
 */
export function answersFor(request: Pick<QuestionRequest, 'questions'>, text: string): string[][] {
  const questions = request.questions;
  const parts = questions.length > 1 ? text.split('|').map((p) => p.trim()) : [text.trim()];
  if (parts.length !== questions.length) {
    throw new SwitchboardError('usage', `${questions.length} questions need ${questions.length} answers, separated by \`|\`; got ${parts.length}`, {
      hint: `for example: ${questions.map((q) => q.options[0]?.label ?? '…').join(ANSWER_SEPARATOR)}`,
    });
  }
  return questions.map((question, i) => {
    const at = questions.length > 1 ? ` for question ${i + 1} (“${question.question.slice(0, 60)}”)` : '';
    const wanted = parts[i]!;
    if (!question.multiple) return [labelFor(question, wanted, at)];
    const labels = wanted.split(',').map((w) => labelFor(question, w.trim(), at));
    return [...new Set(labels)];
  });
}
