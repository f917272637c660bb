import { reply } from '../../core/reply.js';
import { SwitchboardError } from '../../errors.js';
import { describeLimits, hasLimits, limitsFromOptions, type BudgetGuard, type BudgetLimits, type BudgetPlace } from '../../budgets/index.js';
import { budgetLine } from '../../monitor/card.js';
import type { NameRecord } from '../../sessions/registry.js';
import type { CommandDefinition } from '../context.js';
import { requireName, scopeOf } from '../targets.js';

const FORM = 'budget <name> [--tokens N] [--cost USD] [--time DURATION]';
const LIMIT_OPTIONS = ['tokens', 'cost', 'time'] as const;

export const budget: CommandDefinition<'access' | 'budgets' | 'registry'> = {
  verb: 'budget',
  summary: 'limit the tokens, cost and time of each run of a name; show them and the current run’s use',
  positionals: [{ name: 'name' }, { name: 'off', optional: true }],
  options: [
    { name: 'tokens', value: 'string', placeholder: 'N', description: 'tokens per run (input + output + cached), such as 400000 or 400k' },
    { name: 'cost', value: 'string', placeholder: 'USD', description: 'US dollars per run, as the agent reports its cost, such as 1.50' },
    { name: 'time', value: 'string', placeholder: 'DURATION', description: 'wall time per run, such as 15m or 2h' },
  ],
  level: 'read',
  examples: ['budget kumo', 'budget kumo --cost 1 --time 15m', 'budget auth --tokens 400k', 'budget kumo off'],
  details: [
    'Each run of the name (a prompt sent to its OpenCode session, a Claude or shell task) may use at most these; a new limit holds for the run under way too. ' +
      'The card shows the use against each limit and warns past 80 %. A run that reaches a limit is stopped (an OpenCode session aborted, a task killed with every process it started), ' +
      'and its final message says which limit, the use and the limit. A Claude task also gets its cost limit as `--max-budget-usd`.',
    'Limits given are kept with the name’s others; the rest come from `budget:` of its server or executor in switchboard.yaml. `off` means no limits at all for the name.',
    'Showing needs the viewer role; setting or `off` needs the member role and the name’s owner or an admin.',
  ].join('\n'),
  async handle(ctx) {
    const budgets = ctx.services.budgets;
    if (!budgets) throw new SwitchboardError('internal', 'budgets are not available in this process');
    const record = requireName(ctx);
    const word = ctx.args.off;
    const given = LIMIT_OPTIONS.filter((key) => ctx.options[key] !== undefined);
    if (word !== undefined && word.toLowerCase() !== 'off') {
      throw new SwitchboardError('usage', `\`budget ${record.name}\` takes \`off\` or limits, not \`${word.slice(0, 40)}\``, { hint: `\`${FORM}\`, or \`budget ${record.name} off\`` });
    }
    if (word !== undefined && given.length) {
      throw new SwitchboardError('usage', `\`budget ${record.name} off\` removes every limit, so it takes no ${given.map((k) => `--${k}`).join(', ')}`, {
        hint: `\`budget ${record.name} off\` alone, or \`budget ${record.name} ${given.map((k) => `--${k} ${String(ctx.options[k])}`).join(' ')}\` to set limits`,
      });
    }
    if (word === undefined && given.length === 0) {
      ctx.services.access.require(ctx.actor, 'read', `budget ${record.name}`, scopeOf(record));
      return show(budgets, record);
    }
    const what = `budget ${record.name}`;
    ctx.services.access.require(ctx.actor, 'work', what, scopeOf(record));
    ctx.services.access.requireOwnerOrAdmin(ctx.actor, record.owner, what, scopeOf(record));
    if (word !== undefined) {
      budgets.off(record.name, ctx.actor.id);
      ctx.audit.detail = 'off';
      return reply(
        `💸 budget of **${record.name}** is off: its runs have no limits at all, not even the defaults of its ${placeWord(record)}. \`budget ${record.name} --cost 1 --time 30m\` sets new ones.`,
        { data: { name: record.name, off: true } },
      );
    }
    // Every value is checked before anything is written: one bad value changes nothing.
    const limits = limitsFromOptions(ctx.options);
    budgets.set(record.name, limits, ctx.actor.id);
    const now = budgets.limitsFor(record.name, placeOf(record));
    ctx.audit.detail = describeLimits(limits);
    return reply(`💰 budget of **${record.name}** set: ${describeLimits(now)} for each run, the current one included`, {
      data: { name: record.name, limits: now },
    });
  },
};

function placeOf(record: NameRecord): BudgetPlace {
  return record.target.kind === 'task' ? { kind: 'executor', executor: record.target.executor } : { kind: 'server', server: record.target.server };
}

function placeWord(record: NameRecord): string {
  return record.target.kind === 'task' ? `executor ${record.target.executor}` : `server ${record.target.server}`;
}

/** The name's limits, where each comes from, and the use of its run now. */
function show(budgets: BudgetGuard, record: NameRecord) {
  const name = record.name;
  const own = budgets.own(name);
  const limits: BudgetLimits = budgets.limitsFor(name, placeOf(record));
  if (own?.off) {
    return reply(`💸 budget of **${name}** is off: no limits for its runs. \`budget ${name} --cost 1 --time 30m\` sets new ones.`, { data: { name, off: true } });
  }
  if (!hasLimits(limits)) {
    return reply(`💸 **${name}** has no budget: its runs have no limits. \`budget ${name} --cost 1 --time 30m\` sets some.`, { data: { name, limits } });
  }
  const ownKeys = own ? Object.keys(own.limits) : [];
  const fromDefaults = Object.keys(limits).length > ownKeys.length;
  const origin = ownKeys.length && fromDefaults ? ` (set for ${name}, the rest from its ${placeWord(record)})` : ownKeys.length ? ` (set for ${name})` : ` (the defaults of its ${placeWord(record)})`;
  const lines = [`💰 budget of **${name}**: ${describeLimits(limits)} for each run${origin}`];
  const current = budgets.current(name);
  lines.push(current ? `current run: ${budgetLine(limits, current.look.usage, current.use.elapsedMs)}` : 'no run under way now');
  return reply(lines.join('\n'), { data: { name, limits, ...(current ? { use: current.use } : {}) } });
}

