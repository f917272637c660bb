import { formatDuration } from '../core/format.js';
import { output, reply, text, type Reply } from '../core/reply.js';
import type { MessageError, PermissionRequest, QuestionRequest, Todo } from '../opencode/schemas.js';
import { describeError, todoFraction } from '../opencode/turns.js';

/** Pure renderings of what the monitor posts. Kept apart so they are unit-tested and stable. */

export interface FinalReportInput {
  name: string;
  ok: boolean;
  output?: string;
  error?: MessageError;
  finish?: string;
  problem?: string;
  todos: readonly Todo[];
  elapsedMs?: number;
  /** More facts for the header line (cost, exit code). */
  facts?: string[];
  /**
   * The run was stopped by its budget: this line (`❌ kumo stopped: budget 1.00 USD reached (…)`) comes first,
   * as plain text, and stands for the failure's reason.
   */
  stopped?: string;
}

/** Why a finished turn counts as a failure, in words; undefined when it succeeded. */
export function failureOf(error: MessageError | undefined, finish: string | undefined): string | undefined {
  if (error) return describeError(error);
  if (finish === 'length') return 'the output hit the model’s length limit';
  if (finish === 'tool-calls') return 'it stopped after a tool call (a permission was denied?)';
  if (finish && !['stop', 'end_turn', 'end-turn'].includes(finish)) return `it ended with “${finish}”`;
  return undefined;
}

export function finalReport(input: FinalReportInput): Reply {
  const facts = [
    input.ok ? '✅' : '❌',
    input.todos.length ? `todo ${todoFraction(input.todos)}` : '',
    input.elapsedMs !== undefined ? formatDuration(input.elapsedMs) : '',
    ...(input.facts ?? []),
  ].filter(Boolean);
  const blocks = [text(`📋 **${input.name}** ${input.ok ? 'finished' : 'failed'} · ${facts.join(' · ')}`)];
  if (input.stopped) blocks.unshift(text(input.stopped));
  if (input.output) blocks.push(output(input.output));
  const problem = input.stopped ? undefined : (input.problem ?? (input.ok ? undefined : failureOf(input.error, input.finish)));
  if (problem) blocks.push(text(`❌ ${problem}`));
  if (!input.output && input.ok) blocks.push(text('(no text output)'));
  return reply(blocks, { tone: input.ok ? 'success' : 'error', data: { name: input.name, ok: input.ok, output: input.output ?? null } });
}

export function permissionAsk(name: string, request: PermissionRequest, sender: string | undefined): { prompt: string; note: string } {
  const what = [request.permission, ...request.patterns].join(' ').trim();
  return {
    prompt: `🔐 **${name}** asks permission: \`${what}\``,
    note: `Answer with \`approve ${name} [once|always]\` or \`deny ${name} [message]\`${sender ? `; only ${sender} or an admin may answer` : ''}.`,
  };
}

export function questionAsk(name: string, request: QuestionRequest): { prompt: string; note: string } {
  const asked = request.questions
    .map((q) => `${q.question}${q.options.length ? ` (${q.options.map((o) => o.label).join(' / ')})` : ''}`)
    .join('\n');
  return {
    prompt: `❓ **${name}** asks: ${asked}`,
    note:
      request.questions.length > 1
        ? `Answer with \`answer ${name} <first> | <second>${request.questions.length > 2 ? ' | …' : ''}\` (one answer a question, in order), or \`deny ${name}\` to decline.`
        : `Answer with \`answer ${name} <choice>\`, or \`deny ${name}\` to decline.`,
  };
}

export function unreachableNotice(serverLabel: string, reason: string, names: readonly string[]): Reply {
  return reply(`⚠️ server ${serverLabel} is unreachable (${reason}); watching ${names.join(', ')} resumes when it is back.`, { tone: 'warning' });
}

export function backNotice(serverLabel: string, names: readonly string[]): Reply {
  return reply(`✅ server ${serverLabel} is back; watching ${names.join(', ')} again.`, { tone: 'success' });
}

export function goneNotice(name: string, sessionId: string, serverLabel: string): Reply {
  return reply(`🗑 the OpenCode session ${sessionId} of **${name}** was deleted on ${serverLabel}; no longer watching. \`forget ${name}\` drops the name.`, {
    tone: 'warning',
  });
}
