import { describe, expect, it } from 'vitest';
import { answersFor } from '../../src/commands/question-answers.js';
import { SwitchboardError } from '../../src/errors.js';
import { questionAsk } from '../../src/monitor/reports.js';

const color = { question: 'Which color?', options: [{ label: 'Red' }, { label: 'Blue' }] };
const where = { question: 'Deploy where?', options: [{ label: 'staging' }, { label: 'prod' }] };
const why = { question: 'Why?', options: [] };
const tags = { question: 'Which tags?', options: [{ label: 'a' }, { label: 'b' }, { label: 'c' }], multiple: true };

function refusal(questions: Parameters<typeof answersFor>[0]['questions'], text: string): SwitchboardError {
  try {
    answersFor({ questions }, text);
  } catch (error) {
    if (error instanceof SwitchboardError) return error;
    throw error;
  }
  throw new Error(`expected ${text} to be refused`);
}

describe('what `answer` sends for a question request', () => {
  it('one question: its choice, in the label’s own spelling; free text only where there are no choices', () => {
    expect(answersFor({ questions: [color] }, ' blue ')).toEqual([['Blue']]);
    expect(answersFor({ questions: [why] }, 'because the tests | are flaky')).toEqual([['because the tests | are flaky']]);
    const typo = refusal([color], 'Bleu');
    expect(typo.message).toBe('`Bleu` is not one of the choices');
    expect(typo.hint).toBe('choices: Red, Blue');
  });

  it('several questions: one answer each, in order, separated by `|` (each its own, not the first one repeated)', () => {
    expect(answersFor({ questions: [color, where] }, 'Red | prod')).toEqual([['Red'], ['prod']]);
    expect(answersFor({ questions: [color, why] }, 'blue|it is calm')).toEqual([['Blue'], ['it is calm']]);
    const short = refusal([color, where], 'Red');
    expect(short.message).toBe('2 questions need 2 answers, separated by `|`; got 1');
    expect(short.hint).toBe('for example: Red | staging');
    const wrong = refusal([color, where], 'Red | moon');
    expect(wrong.message).toBe('`moon` is not one of the choices for question 2 (“Deploy where?”)');
    expect(refusal([color, where], 'Red | ').message).toBe('no answer for question 2 (“Deploy where?”)');
  });

  it('a question that allows several choices takes them separated by commas, each checked, once each', () => {
    expect(answersFor({ questions: [tags] }, 'a, C, a')).toEqual([['a', 'c']]);
    expect(refusal([tags], 'a, z').message).toBe('`z` is not one of the choices');
  });

  it('the ask says how to answer several questions', () => {
    expect(questionAsk('kumo', { id: 'q', sessionID: 's', questions: [color] }).note).toBe('Answer with `answer kumo <choice>`, or `deny kumo` to decline.');
    expect(questionAsk('kumo', { id: 'q', sessionID: 's', questions: [color, where] }).note).toBe(
      'Answer with `answer kumo <first> | <second>` (one answer a question, in order), or `deny kumo` to decline.',
    );
  });
});
