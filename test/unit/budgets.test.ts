import { afterEach, describe, expect, it } from 'vitest';
import {
  assessBudget,
  budgetedCard,
  budgetDefaults,
  budgetMigrations,
  compactDuration,
  createBudgetGuard,
  createBudgetStore,
  describeLimits,
  formatLimit,
  limitsFromOptions,
  stopLine,
  stopReason,
  type BudgetLimits,
} from '../../src/budgets/index.js';
import { budgetLine, renderCard, type CardState } from '../../src/monitor/card.js';
import { finalReport } from '../../src/monitor/reports.js';
import { replyToPlainText } from '../../src/core/reply.js';
import { openDatabase } from '../../src/sessions/database.js';
import { SwitchboardError } from '../../src/errors.js';
import { SAMPLE_CONFIG } from '../../src/config/sample.js';
import { errorCode, manualClock, plain, seedSession, seedTask, startCore, type Core } from './helpers/core-app.js';

const MIN = 60_000;

describe('assessment', () => {
  const limits: BudgetLimits = { costUsd: 1, tokens: 400_000, timeMs: 15 * MIN };

  it('under every limit: nothing to say', () => {
    expect(assessBudget(limits, { costUsd: 0.5, tokens: 100_000, elapsedMs: 5 * MIN })).toEqual({ near: [] });
  });

  it('past 80 % of a limit: a warning for that limit, with the share', () => {
    const verdict = assessBudget(limits, { costUsd: 0.85, tokens: 41_000, elapsedMs: 10 * MIN });
    expect(verdict.passed).toBeUndefined();
    expect(verdict.near).toEqual([{ kind: 'cost', share: 0.85 }]);
  });

  it('reaching a limit passes it; cost is named first when several are reached', () => {
    expect(assessBudget(limits, { costUsd: 1, tokens: 0, elapsedMs: 0 }).passed).toBe('cost');
    expect(assessBudget(limits, { costUsd: 2, tokens: 500_000, elapsedMs: 20 * MIN }).passed).toBe('cost');
    expect(assessBudget(limits, { tokens: 500_000, elapsedMs: 20 * MIN }).passed).toBe('tokens');
    expect(assessBudget({ timeMs: 3_000 }, { tokens: 9e9, elapsedMs: 3_000 }).passed).toBe('time');
  });

  it('a cost not reported yet (a Claude task before its result) neither passes nor warns', () => {
    expect(assessBudget({ costUsd: 0.0001 }, { tokens: 5_000, elapsedMs: 1_000 })).toEqual({ near: [] });
  });

  it('no limits: never passed', () => {
    expect(assessBudget({}, { costUsd: 1e6, tokens: 1e12, elapsedMs: 1e9 })).toEqual({ near: [] });
  });
});

describe('words', () => {
  it('limits read as typed', () => {
    expect(formatLimit('cost', 1)).toBe('1.00 USD');
    expect(formatLimit('cost', 0.0001)).toBe('0.0001 USD');
    expect(formatLimit('tokens', 400_000)).toBe('400k tokens');
    expect(formatLimit('time', 15 * MIN)).toBe('15m');
    expect(compactDuration(2 * 3_600_000)).toBe('2h');
    expect(compactDuration(90_000)).toBe('1m 30s');
    expect(describeLimits({ costUsd: 1.5, tokens: 400_000, timeMs: 15 * MIN })).toBe('1.50 USD · 400k tokens · 15m');
  });

  it('the stop line: the limit passed, then the use', () => {
    const reason = stopReason('kumo', 'cost', { costUsd: 1, tokens: 400_000 }, { costUsd: 1.03, tokens: 412_000, elapsedMs: 14 * MIN + 10_000 });
    expect(stopLine(reason)).toBe('❌ kumo stopped: budget 1.00 USD reached (1.03 USD, 412k tokens, 14m 10s)');
    expect(stopLine(stopReason('kumo', 'tokens', { tokens: 400_000 }, { costUsd: 0.5, tokens: 400_100, elapsedMs: 42_000 }))).toBe(
      '❌ kumo stopped: budget 400k tokens reached (0.50 USD, 400k tokens, 42s)',
    );
    // No cost reported: the use says tokens and time only.
    expect(stopLine(stopReason('auth', 'time', { timeMs: 15 * MIN }, { tokens: 950, elapsedMs: 15 * MIN }))).toBe(
      '❌ auth stopped: budget 15m reached (950 tokens, 15m 00s)',
    );
  });

  it('the final message starts with the stop line, as plain text, and does not repeat the reason', () => {
    const line = '❌ kumo stopped: budget 1.00 USD reached (1.03 USD, 412k tokens, 14m 10s)';
    const report = finalReport({ name: 'kumo', ok: false, stopped: line, problem: 'kumo stopped: budget …', todos: [], elapsedMs: 850_000, output: 'half done' });
    const text = replyToPlainText(report);
    expect(text.split('\n')[0]).toBe(line);
    expect(text.split('\n')[1]).toBe('📋 **kumo** failed · ❌ · 14m 10s');
    expect(text.match(/stopped: budget/g)).toHaveLength(1);
  });

  it('typed values: tokens with k/M, dollars with or without $, durations; each bad one a specific usage error', () => {
    expect(limitsFromOptions({ tokens: '400k', cost: '$1.50', time: '15m' })).toEqual({ tokens: 400_000, costUsd: 1.5, timeMs: 15 * MIN });
    expect(limitsFromOptions({ tokens: '1.5M' })).toEqual({ tokens: 1_500_000 });
    expect(limitsFromOptions({})).toEqual({});
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ cost: 'abc' }, /--cost must be an amount of US dollars such as 1\.50 \(got `abc`\)/],
      [{ cost: '-1' }, /--cost must be more than 0 USD \(got `-1`\)/],
      [{ cost: '0' }, /--cost must be more than 0 USD/],
      [{ tokens: '-5' }, /--tokens must be more than 0 \(got `-5`\)/],
      [{ tokens: 'lots' }, /--tokens must be a number of tokens such as 400000 or 400k \(got `lots`\)/],
      [{ time: 'soon' }, /--time must be a duration such as 15m or 2h/],
      [{ time: '-5m' }, /--time must be a duration such as 15m or 2h \(got `-5m`\)/],
    ];
    for (const [options, message] of bad) {
      let error: unknown;
      try {
        limitsFromOptions(options);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(SwitchboardError);
      expect((error as SwitchboardError).code).toBe('usage');
      expect((error as SwitchboardError).message).toMatch(message);
    }
  });
});

describe('the card line', () => {
  const usage = { input: 40_000, output: 1_000, cached: 0, costUsd: 0.7 };
  const limits = { costUsd: 1, tokens: 400_000, timeMs: 15 * MIN };

  it('shows the use against each limit on one line', () => {
    expect(budgetLine(limits, usage, 10 * MIN)).toBe('budget $0.70 / $1.00 · 41k / 400k tokens · 10m / 15m');
    expect(budgetLine({ timeMs: 30_000 }, undefined, 12_000)).toBe('budget 12s / 30s');
    expect(budgetLine({}, usage, 1)).toBeUndefined();
  });

  it('past 80 % of a limit the line carries a visible warning naming it', () => {
    expect(budgetLine(limits, { ...usage, costUsd: 0.85 }, 12 * MIN)).toBe('⚠️ budget $0.85 / $1.00 · 41k / 400k tokens · 12m / 15m (cost at 85 %, time at 80 %)');
  });

  it('a cost not reported yet shows as unknown', () => {
    expect(budgetLine({ costUsd: 0.5 }, { input: 10, output: 5, cached: 0 }, 1_000)).toBe('budget $? / $0.50');
  });

  it('renderCard draws it under the usage, live and final', () => {
    const state: CardState = { name: 'kumo', phase: 'working', startedAt: 0, todos: [], usage, budget: limits };
    const lines = replyToPlainText(renderCard(state, 10 * MIN)).split('\n');
    expect(lines.at(-1)).toBe('budget $0.70 / $1.00 · 41k / 400k tokens · 10m / 15m');
    const stopped = renderCard({ ...state, phase: 'failed', endedAt: 16 * MIN, detail: 'kumo stopped: budget 15m reached (0.70 USD, 41k tokens, 16m 00s)' }, 20 * MIN);
    expect(replyToPlainText(stopped)).toContain('❌ kumo stopped: budget 15m reached (0.70 USD, 41k tokens, 16m 00s)');
    expect(replyToPlainText(stopped)).toContain('⚠️ budget $0.70 / $1.00 · 41k / 400k tokens · 16m / 15m (time at 106 %)');
    expect(replyToPlainText(renderCard({ ...state, budget: undefined as never }, 0))).not.toContain('budget');
  });
});

describe('defaults', () => {
  it('a server’s for its sessions, an executor’s for its tasks and for the OpenCode server Switchboard runs there', () => {
    const defaults = budgetDefaults({
      servers: [{ name: 'lab', budget: { cost: 2 } }, { name: 'bare' }],
      executors: [{ name: 'crib', budget: { tokens: 1_000, time: '1h' } }],
    });
    expect(defaults({ kind: 'server', server: 'lab' })).toEqual({ limits: { costUsd: 2 }, from: 'server lab' });
    expect(defaults({ kind: 'server', server: '@crib' })).toEqual({ limits: { tokens: 1_000, timeMs: 3_600_000 }, from: 'executor crib' });
    expect(defaults({ kind: 'executor', executor: 'crib' }).from).toBe('executor crib');
    expect(defaults({ kind: 'server', server: 'bare' })).toEqual({ limits: {} });
    expect(defaults({ kind: 'server', server: 'http://10.0.0.5:4096' })).toEqual({ limits: {} });
    expect(defaults(undefined)).toEqual({ limits: {} });
  });
});

describe('the store and the guard', () => {
  function setup(options: { defaults?: BudgetLimits } = {}) {
    const db = openDatabase(':memory:', budgetMigrations);
    const clock = manualClock();
    const store = createBudgetStore(db, clock);
    const stops: string[] = [];
    const stopped: Array<[string, number]> = [];
    const make = () =>
      createBudgetGuard({
        store,
        clock,
        logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
        defaults: () => ({ limits: options.defaults ?? {} }),
        stop: async (name) => {
          stops.push(name);
        },
        onStopped: (name, at) => stopped.push([name, at]),
      });
    return { db, clock, store, stops, stopped, guard: make(), make };
  }

  it('a name’s limits are kept with the ones given later; off drops them all, defaults included', () => {
    const { guard } = setup({ defaults: { timeMs: 30 * MIN } });
    expect(guard.limitsFor('kumo')).toEqual({ timeMs: 30 * MIN });
    guard.set('kumo', { costUsd: 1 }, 'console:me');
    guard.set('kumo', { tokens: 1_000 }, 'console:me');
    expect(guard.limitsFor('kumo')).toEqual({ timeMs: 30 * MIN, costUsd: 1, tokens: 1_000 });
    guard.off('kumo', 'console:me');
    expect(guard.limitsFor('kumo')).toEqual({});
    expect(guard.own('kumo')).toMatchObject({ off: true, setBy: 'console:me' });
    // Setting after off starts again from the defaults, with only the new limit of its own.
    guard.set('kumo', { costUsd: 2 }, 'console:me');
    expect(guard.limitsFor('kumo')).toEqual({ timeMs: 30 * MIN, costUsd: 2 });
  });

  it('a look past a limit stops the run once and tells the listener once', async () => {
    const { guard, stops, stopped, clock } = setup();
    guard.set('kumo', { tokens: 100 }, 'x');
    const look = { key: 'kumo#p1', name: 'kumo', startedAt: clock.now() };
    expect(guard.observe({ ...look, usage: { input: 50, output: 10, cached: 0 } })).toEqual({ tokens: 100 });
    expect(stops).toEqual([]);
    guard.observe({ ...look, usage: { input: 90, output: 10, cached: 5 } });
    guard.observe({ ...look, usage: { input: 95, output: 10, cached: 5 } });
    await Promise.resolve();
    expect(stops).toEqual(['kumo']);
    expect(stopped).toEqual([['kumo', clock.now()]]);
    const end = guard.finish({ ...look, usage: { input: 95, output: 10, cached: 5 }, at: clock.now() + 1_000 });
    expect(end.stop?.line).toBe('❌ kumo stopped: budget 100 tokens reached (105 tokens, 0s)');
    expect(stopped).toHaveLength(1);
  });

  it('time passes without any report: the beat stops the run', async () => {
    const { guard, stops, clock } = setup({ defaults: { timeMs: 3_000 } });
    guard.observe({ key: 'quiet#p1', name: 'quiet', startedAt: clock.now() });
    clock.advance(2_000);
    await guard.tick();
    expect(stops).toEqual([]);
    expect(guard.current('quiet')?.use.elapsedMs).toBe(2_000);
    clock.advance(1_500);
    await guard.tick();
    expect(stops).toEqual(['quiet']);
  });

  it('a stop survives a restart: the final says why, the listener is not told twice, and a run still going is stopped again', async () => {
    const first = setup();
    first.guard.set('kumo', { timeMs: 2_000 }, 'x');
    const look = { key: 'kumo#p7', name: 'kumo', startedAt: first.clock.now() };
    first.guard.observe(look);
    first.clock.advance(2_500);
    await first.guard.tick();
    expect(first.stopped).toHaveLength(1);
    // A new guard on the same database: as after a restart between the abort and the final report.
    const again = first.make();
    first.clock.advance(60_000);
    again.observe(look);
    await Promise.resolve();
    expect(first.stops).toEqual(['kumo', 'kumo']);
    const end = again.finish({ ...look, at: first.clock.now() });
    expect(end.stop?.line).toBe('❌ kumo stopped: budget 2s reached (0 tokens, 3s)');
    expect(first.stopped).toHaveLength(1);
    // Another run of the name has its own key: no stop carried over.
    expect(again.finish({ key: 'kumo#p8', name: 'kumo', startedAt: first.clock.now(), at: first.clock.now() + 1_000 }).stop).toBeUndefined();
  });

  it('a follower’s look: waiting shows the limits only, live is judged, ended turns a stopped run’s card failed', () => {
    const { guard, clock, stops } = setup({ defaults: { timeMs: 1_000 } });
    const card: CardState = { name: 'kumo', phase: 'working', startedAt: clock.now() - 5_000, todos: [] };
    const look = { key: 'kumo#w1', name: 'kumo' };
    const waiting = budgetedCard(guard, look, card, 'waiting');
    expect(waiting.card.budget).toEqual({ timeMs: 1_000 });
    expect(guard.current('kumo')).toBeUndefined();
    expect(budgetedCard(guard, look, card, 'live').stop).toBeUndefined();
    expect(guard.current('kumo')).toBeDefined();
    expect(stops).toEqual(['kumo']);
    const ended = budgetedCard(guard, look, { ...card, phase: 'finished', endedAt: clock.now() }, 'ended');
    expect(ended.stop?.line).toBe('❌ kumo stopped: budget 1s reached (0 tokens, 5s)');
    expect(ended.card).toMatchObject({ phase: 'failed', detail: 'kumo stopped: budget 1s reached (0 tokens, 5s)', budget: { timeMs: 1_000 } });
    expect(guard.current('kumo')).toBeUndefined();
  });

  it('a run that ended past a limit (claude stopped itself at --max-budget-usd) is reported as stopped', () => {
    const { guard, stopped, stops, clock } = setup();
    guard.set('auth', { costUsd: 0.0001 }, 'x');
    const end = guard.finish({ key: 'auth#t1.1', name: 'auth', startedAt: clock.now(), usage: { input: 100, output: 20, cached: 0, costUsd: 0.0008 }, at: clock.now() + 3_000 });
    expect(end.stop?.line).toBe('❌ auth stopped: budget 0.0001 USD reached (0.0008 USD, 120 tokens, 3s)');
    expect(stopped).toHaveLength(1);
    expect(stops).toEqual([]);
  });
});

describe('the budget verb, through the core', () => {
  let core: Core;
  const owner = { id: 'slack:UALICE' };
  const other = { id: 'slack:UBOB' };
  const viewer = { id: 'slack:UVIEW' };
  const admin = { id: 'slack:UADMIN' };

  function start(extra: string[] = []): Core {
    core = startCore({
      yaml: [
        'servers:',
        '  - name: lab',
        '    url: http://127.0.0.1:9',
        '    budget: { cost: 2, time: 30m }',
        'executors:',
        '  - name: crib',
        '    type: local',
        '    budget: { tokens: 50000 }',
        'access:',
        '  admins: [slack:UADMIN]',
        '  members: [slack:UALICE, slack:UBOB]',
        '  viewers: [slack:UVIEW]',
        ...extra,
      ].join('\n'),
    });
    seedSession(core, 'kumo', { name: 'lab', url: 'http://127.0.0.1:9' }, owner.id);
    seedTask(core, { name: 'auth', executor: 'crib', actor: owner.id, status: 'succeeded' });
    return core;
  }

  afterEach(async () => {
    await core?.close();
  });

  it('shows the defaults of the server or executor, sets, shows where each comes from, and turns off', async () => {
    start();
    expect(plain(await core.run(viewer, 'budget kumo'))).toBe('💰 budget of **kumo**: 2.00 USD · 30m for each run (the defaults of its server lab)\nno run under way now');
    expect(plain(await core.run(viewer, 'budget auth'))).toContain('50k tokens for each run (the defaults of its executor crib)');
    expect(plain(await core.run(owner, 'budget kumo --cost 1 --tokens 400k'))).toBe('💰 budget of **kumo** set: 1.00 USD · 400k tokens · 30m for each run, the current one included');
    expect(plain(await core.run(viewer, 'budget kumo'))).toContain('1.00 USD · 400k tokens · 30m for each run (set for kumo, the rest from its server lab)');
    const off = plain(await core.run(admin, 'budget kumo off'));
    expect(off).toContain('💸 budget of **kumo** is off: its runs have no limits at all, not even the defaults of its server lab.');
    expect(off).toContain('`budget kumo --cost 1 --time 30m` sets new ones');
    expect(plain(await core.run(viewer, 'budget kumo'))).toContain('is off: no limits for its runs');
    // The audit row comes from the core, with what was set.
    const rows = core.app.switchboard.services.audit.list({ limit: 5 }).filter((r) => r.verb === 'budget');
    expect(rows.map((r) => r.actor)).toContain(owner.id);
  });

  it('a forgotten name takes its own limits with it: the next name spelled the same starts from the defaults', async () => {
    start();
    await core.run(owner, 'budget kumo --cost 1');
    expect(plain(await core.run(admin, 'forget kumo'))).toMatch(/^🗑 forgot \*\*kumo\*\*/);
    seedSession(core, 'kumo', { name: 'lab', url: 'http://127.0.0.1:9' }, other.id);
    expect(plain(await core.run(viewer, 'budget kumo'))).toContain('2.00 USD · 30m for each run (the defaults of its server lab)');
  });

  it('bad input: a specific error each, and nothing changed', async () => {
    start();
    const cases: Array<[string, string, RegExp]> = [
      ['budget kumo --cost abc', 'usage', /--cost must be an amount of US dollars/],
      ['budget kumo --cost -1', 'usage', /--cost must be more than 0 USD|needs a value/],
      ['budget kumo --tokens=-5', 'usage', /--tokens must be more than 0/],
      ['budget kumo --tokens 12x', 'usage', /--tokens must be a number of tokens/],
      ['budget kumo --time forever', 'usage', /--time must be a duration/],
      ['budget kumo --cost 1 --time nope', 'usage', /--time must be a duration/],
      ['budget kumo off --cost 1', 'usage', /`budget kumo off` removes every limit, so it takes no --cost/],
      ['budget kumo maybe', 'usage', /takes `off` or limits, not `maybe`/],
      ['budget kumu --cost 1', 'unknown_name', /kumo/],
    ];
    for (const [line, code, message] of cases) {
      const reply = await core.run(owner, line);
      expect(errorCode(reply), line).toBe(code);
      expect(plain(reply), line).toMatch(message);
    }
    expect(core.app.budgets.own('kumo')).toBeUndefined();
  });

  it('setting needs the work role and the name’s owner or an admin; showing needs read', async () => {
    start();
    expect(errorCode(await core.run(viewer, 'budget kumo --cost 1'))).toBe('forbidden');
    const refused = await core.run(other, 'budget kumo --cost 1');
    expect(errorCode(refused)).toBe('forbidden');
    expect(plain(refused)).toMatch(/belongs to slack:UALICE/);
    expect(errorCode(await core.run({ id: 'slack:UNOBODY' }, 'budget kumo'))).toBe('forbidden');
    expect(core.app.budgets.own('kumo')).toBeUndefined();
    expect(errorCode(await core.run(admin, 'budget kumo --time 1h'))).toBeUndefined();
    expect(core.app.budgets.limitsFor('kumo', { kind: 'server', server: 'lab' })).toEqual({ costUsd: 2, timeMs: 3_600_000 });
  });

  it('help budget reads well', async () => {
    start();
    const help = plain(await core.run(viewer, 'help budget'));
    expect(help).toContain('budget <name> [off] [--tokens N] [--cost USD] [--time DURATION]');
    expect(help).toContain('budget kumo --cost 1 --time 15m');
    expect(help).toMatch(/stopped/);
  });
});

describe('config', () => {
  it('the sample switchboard.yaml documents budgets that load once uncommented', async () => {
    const yaml = SAMPLE_CONFIG.replace(/^(\s*)# (budget: .*?)\s+#.*$/gm, '$1$2');
    expect(yaml.match(/^\s*budget: /gm)).toHaveLength(2);
    const core = startCore({ yaml });
    try {
      expect(core.app.budgets.limitsFor('x', { kind: 'server', server: 'lab' })).toEqual({ tokens: 400_000, costUsd: 1.5, timeMs: 30 * MIN });
      expect(core.app.budgets.limitsFor('x', { kind: 'executor', executor: 'local' })).toEqual({ costUsd: 5, timeMs: 2 * 60 * MIN });
    } finally {
      await core.close();
    }
  });

  it('a negative or non-numeric budget points at its field', async () => {
    const bad: Array<[string[], RegExp]> = [
      [['servers:', '  - name: lab', '    url: http://127.0.0.1:9', '    budget: { cost: -1 }'], /servers\[0\]\.budget\.cost: must be more than 0 USD/],
      [['servers:', '  - name: lab', '    url: http://127.0.0.1:9', '    budget: { tokens: lots }'], /servers\[0\]\.budget\.tokens: must be a whole number of tokens/],
      [['executors:', '  - name: crib', '    type: local', '    budget: { time: forever }'], /executors\[0\]\.budget\.time: must be a duration such as 15m or 2h/],
      [['executors:', '  - name: crib', '    type: local', '    budget: { dollars: 3 }'], /executors\[0\]\.budget: unknown key `dollars`/],
    ];
    for (const [lines, message] of bad) {
      let error: unknown;
      try {
        startCore({ yaml: lines.join('\n') });
      } catch (caught) {
        error = caught;
      }
      expect((error as SwitchboardError)?.message, lines.join(' | ')).toMatch(message);
    }
  });
});
