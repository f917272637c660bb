import { SwitchboardError } from '../../errors.js';
import { reply } from '../../core/reply.js';
import { closest } from '../../core/closest.js';
import type { CommandDefinition } from '../context.js';
import { optionForm, usageOf } from '../spec.js';

export const help: CommandDefinition<'grammar'> = {
  verb: 'help',
  summary: 'list the commands, or explain one',
  positionals: [{ name: 'command', optional: true }],
  options: [],
  level: 'read',
  examples: ['help', 'help send'],
  async handle(ctx) {
    const grammar = ctx.services.grammar;
    const wanted = ctx.args.command?.toLowerCase();
    if (!wanted) {
      const width = Math.max(...grammar.map((spec) => spec.verb.length));
      const lines = grammar.map((spec) => `  ${spec.verb.padEnd(width)}  ${spec.summary}`);
      return reply(['**Switchboard commands**', ...lines, '', 'Type `help <command>` for its options and examples.'].join('\n'));
    }
    const spec = grammar.find((s) => s.verb === wanted);
    if (!spec) {
      const suggestion = closest(wanted, grammar.map((s) => s.verb));
      throw new SwitchboardError('unknown_command', `no command \`${wanted.slice(0, 40)}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}`, {
        hint: 'type `help` to see the commands',
      });
    }
    const lines = [`**${spec.verb}**: ${spec.summary}`, `usage: ${usageOf(spec)}`];
    if (spec.details) lines.push('', spec.details);
    if (spec.options.length) {
      lines.push('', 'options:');
      for (const option of spec.options) {
        const form = optionForm(option);
        lines.push(`  ${form}  ${option.description}`);
      }
    }
    if (spec.examples?.length) lines.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`));
    return reply(lines.join('\n'));
  },
};
