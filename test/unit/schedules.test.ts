import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, allMigrations } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { replyToPlainText } from '../../src/core/reply.js';
import { SwitchboardError } from '../../src/errors.js';
import { openDatabase } from '../../src/sessions/database.js';
import { formatFire, nextFire, parseWhen, shortestGap } from '../../src/schedules/index.js';
import { FIRES_KEPT } from '../../src/schedules/store.js';
import { renderCard } from '../../src/monitor/card.js';
import { errorCode, plain as plainText, seedTask, startCore, type Core } from './helpers/core-app.js';
import { join } from 'node:path';

/**
 * Schedules through the real core (createApp on a temp SQLite file, the real config loader): what `schedule`
 * accepts and refuses, and what a fire does on the beat (driven by hand with a manual clock). Fires run a line
 * that needs no network (`help …`) or meets a seeded task; what the channel would read is the outbox.
 */

const ALICE = { id: 'slack:UALICE', name: 'alice' };
const BOB = { id: 'slack:UBOB', name: 'bob' };
const ADMIN = { id: 'slack:UADMIN' };
const VIEWER = { id: 'slack:UVIEW' };

function yaml(members = '[slack:UALICE, slack:UBOB]'): string {
  return [
    'executors:',
    '  - name: crib',
    '    type: ssh',
    '    host: 127.0.0.1',
    '    port: 2222',
    '    user: builder',
    '    identityFile: /dev/null',
    '    connectTimeoutSec: 1',
    'access:',
    '  admins: [slack:UADMIN]',
    `  members: ${members}`,
    '  viewers: [slack:UVIEW]',
    'limits:',
    '  commandsPerMinute: 10000',
  ].join('\n');
}

/** A reply as a person reads it, bold marks aside. */
const plain = (reply: Parameters<typeof plainText>[0]) => plainText(reply).replaceAll('**', '');

let core: Core;
afterEach(async () => {
  await core?.close();
});

/** What went into the outbox for the channel, oldest first (what a person there reads). */
function posted(c: Core): string[] {
  return c.db
    .prepare<[], { reply: string }>('SELECT reply FROM outbox ORDER BY id')
    .all()
    .map((row) => replyToPlainText(JSON.parse(row.reply)).replaceAll('**', ''));
}

describe('<when>', () => {
  const UNIT = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

  it('an interval is a whole number and a unit, up to 366 days', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999 }), fc.constantFrom('s', 'm', 'h', 'd', 'S', 'M', 'H', 'D'), (n, unit) => {
        const ms = n * UNIT[unit.toLowerCase() as keyof typeof UNIT];
        if (ms > 366 * 86_400_000) {
          expect(() => parseWhen(`${n}${unit}`)).toThrow(/too long an interval: the longest is 366d/);
        } else {
          expect(parseWhen(`${n}${unit}`)).toEqual({ kind: 'every', ms, text: `${n}${unit.toLowerCase()}` });
        }
      }),
    );
  });

  it('any text either parses or is refused with a usage error, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (raw) => {
        try {
          const when = parseWhen(raw);
          expect(['every', 'cron']).toContain(when.kind);
        } catch (error) {
          expect(error).toBeInstanceOf(SwitchboardError);
          expect((error as SwitchboardError).code).toBe('usage');
        }
      }),
    );
  });

  const RANGES = [
    { field: 'minute', min: 0, max: 59 },
    { field: 'hour', min: 0, max: 23 },
    { field: 'day of month', min: 1, max: 28 },
    { field: 'month', min: 1, max: 12 },
    { field: 'day of week', min: 0, max: 6 },
  ];

  it('a cron expression of values in range parses; one field out of range is named by its place', () => {
    fc.assert(
      fc.property(
        fc.tuple(...RANGES.map((r) => fc.integer({ min: r.min, max: r.max }))),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 2 }),
        (values, broken, how) => {
          const good = values.join(' ');
          expect(parseWhen(good)).toEqual({ kind: 'cron', expression: good, text: good });
          const bad = [...values] as (number | string)[];
          const range = RANGES[broken]!;
          // Past the top of the field's range, or not a value at all.
          bad[broken] = how === 0 ? range.max + 1 + (range.field === 'day of month' ? 3 : range.field === 'day of week' ? 1 : 0) : how === 1 ? 'x' : '1-';
          const error = (() => {
            try {
              parseWhen(bad.join(' '));
            } catch (caught) {
              return caught as SwitchboardError;
            }
            return undefined;
          })();
          expect(error, bad.join(' ')).toBeInstanceOf(SwitchboardError);
          expect(error!.message).toContain(`field ${broken + 1}, the ${range.field}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('six fields take seconds; seven, or a bare number, are refused with the right form', () => {
    expect(parseWhen('*/5 * * * * *')).toMatchObject({ kind: 'cron' });
    expect(() => parseWhen('0 0 9 * * 1 2')).toThrow(/has 7 fields: a cron expression has 5 \(or 6 with seconds\)/);
    expect(() => parseWhen('0')).toThrow(/the units are s, m, h and d .*; a cron expression goes in quotes/);
    expect(() => parseWhen('10 minutes')).toThrow(/a cron expression has 5 fields \(or 6 with seconds\), this has 2/);
    expect(() => parseWhen('0 0 31 2 *')).toThrow(/field 3, the day of month \(1–31\): `31` never happens/);
  });

  it('an interval keeps its phase; a cron fire is the next match, in its zone', () => {
    const every = parseWhen('10m');
    const anchor = 1_000_000;
    expect(nextFire(every, 'UTC', anchor, anchor)).toBe(anchor + 600_000);
    // Late by 25 minutes: the next fire is on the schedule's grid, not 10 minutes after the late one.
    expect(nextFire(every, 'UTC', anchor, anchor + 1_500_000)).toBe(anchor + 1_800_000);
    const weekdays = parseWhen('0 9 * * 1-5');
    const now = Date.now();
    const next = nextFire(weekdays, 'Europe/Paris', now, now);
    expect(next).toBeGreaterThan(now);
    expect(formatFire(next, 'Europe/Paris')).toMatch(/^(Mon|Tue|Wed|Thu|Fri) \d+ \w+ 09:00 \(Europe\/Paris\)$/);
    expect(shortestGap(parseWhen('*/5 * * * * *'), 'UTC')).toBe(5_000);
  });
});

describe('the run card', () => {
  it('names the schedule that started the run, on working and final cards alike', () => {
    const base = { name: 'nightly', startedAt: 0, todos: [], schedule: 'schedule #3 · every 6h · next Sat 5 Dec 07:00 (UTC)' };
    for (const phase of ['working', 'finished'] as const) {
      const card = replyToPlainText(renderCard({ ...base, phase, ...(phase === 'finished' ? { endedAt: 1_000 } : {}) }, 2_000));
      expect(card.split('\n').at(-1), phase).toBe('⏰ schedule #3 · every 6h · next Sat 5 Dec 07:00 (UTC)');
    }
  });
});

describe('schedule, schedules, unschedule', () => {
  it('a schedule is made with its owner and channel, and listed with its next fire', async () => {
    core = startCore({ yaml: yaml() });
    const made = await core.run(ALICE, 'schedule 2h --tz Europe/Paris help send');
    expect(plain(made)).toMatch(/^⏰ schedule #1 · every 2h · next .* \(Europe\/Paris\) · runs as alice in this channel:\nhelp send\n/);
    const list = await core.run(ALICE, 'schedules');
    expect(plain(list)).toMatch(/#1 · every 2h · next [^·]+\(Europe\/Paris\), in 2h 00m · `help send` · alice · not run yet/);
    // The audit row of the making says which schedule it made.
    const rows = core.app.switchboard.services.audit.list({ limit: 5 }).filter((row) => row.verb === 'schedule');
    expect(rows[0]).toMatchObject({ verb: 'schedule', outcome: 'ok', detail: 'schedule #1' });
  });

  const BAD: Array<[string, RegExp]> = [
    ['schedule "0 25 * * *" help', /cron `0 25 \* \* \*`: field 2, the hour \(0–23\): `25` is out of range or malformed/],
    ['schedule 5x help', /`5x` is not an interval: the units are s, m, h and d/],
    ['schedule every-day help', /`every-day` is not a schedule: a cron expression has 5 fields \(or 6 with seconds\), this has 1/],
    ['schedule 0s help', /`0s` is no interval/],
    ['schedule --tz Mars/Olympus 1h help', /unknown time zone `Mars\/Olympus`/],
    ['schedule 30s help', /`30s` fires every 30s, more often than the minimum of 1m/],
    ['schedule "*/10 * * * * *" help', /fires every 10s, more often than the minimum of 1m/],
    ['schedule 1h sned kumo hi', /the command to schedule is not valid: unknown command `sned` \(did you mean `send`\?\)/],
    ['schedule 1h send nosuch hi', /no name `nosuch`/],
    ['schedule 1h run nowhere -- true', /no executor named 'nowhere'/],
    ['schedule 1h schedules', /`schedules` cannot be scheduled/],
    ['schedule 1h --catch-up maybe help', /`--catch-up maybe` must be once or none/],
    ['schedule 1h', /`schedule` needs <command…>/],
  ];

  it('bad input gets a specific message and makes nothing', async () => {
    core = startCore({ yaml: yaml() });
    for (const [line, message] of BAD) {
      const reply = await core.run(ALICE, line);
      expect(errorCode(reply), line).toMatch(/^(usage|unknown_command|unknown_name|unknown_executor)$/);
      expect(plain(reply), line).toMatch(message);
    }
    expect(core.app.switchboard.services.schedules.list()).toEqual([]);
  });

  it('making one needs the role the command needs; removing one is for its owner or an admin', async () => {
    core = startCore({ yaml: yaml() });
    seedTask(core, { name: 'auth', executor: 'crib', actor: ALICE.id, status: 'succeeded' });
    const refused = await core.run(VIEWER, 'schedule 1h run crib -- make audit');
    expect(errorCode(refused)).toBe('forbidden');
    expect(plain(refused)).toMatch(/slack:UVIEW may not schedule `run`: it needs the member role/);
    // A viewer may schedule what a viewer may do.
    expect(errorCode(await core.run(VIEWER, 'schedule 1h logs auth'))).toBeUndefined();
    expect(errorCode(await core.run(ALICE, 'schedule 1h run crib --name nightly -- make audit'))).toBeUndefined();
    const other = await core.run(BOB, 'unschedule 2');
    expect(plain(other)).toMatch(/slack:UBOB may not remove schedule #2: it belongs to slack:UALICE/);
    expect(plain(await core.run(BOB, 'unschedule 9'))).toMatch(/there is no schedule #9/);
    expect(plain(await core.run(BOB, 'unschedule x1'))).toMatch(/`x1` is not a schedule id/);
    expect(core.app.switchboard.services.schedules.list().map((s) => s.id)).toEqual([1, 2]);
    expect(plain(await core.run(ADMIN, 'unschedule #2'))).toMatch(/🗑 schedule #2 removed; it will not run `run crib --name nightly -- make audit` again/);
    expect(core.app.switchboard.services.schedules.list().map((s) => s.id)).toEqual([1]);
  });
});

describe('who sees a schedule', () => {
  it('a viewer of one name sees the schedules about it and no others', async () => {
    core = startCore({ yaml: yaml().replace('  viewers: [slack:UVIEW]', '  viewers: [slack:UVIEW]\n  names:\n    auth:\n      viewers: [slack:UAUTH]') });
    seedTask(core, { name: 'auth', executor: 'crib', actor: ALICE.id, status: 'succeeded' });
    seedTask(core, { name: 'other', executor: 'crib', actor: ALICE.id, status: 'succeeded' });
    await core.run(ALICE, 'schedule 1h logs auth');
    await core.run(ALICE, 'schedule 1h logs other');
    const scoped = { id: 'slack:UAUTH' };
    expect(plain(await core.run(scoped, 'schedules auth'))).toMatch(/^⏰ 1 schedule\n#1 · every 1h · .*`logs auth`/);
    expect(plain(await core.run(scoped, 'schedules other'))).toMatch(/slack:UAUTH may not use `schedules`/);
    // Everyone with a role everywhere sees both.
    expect(plain(await core.run(VIEWER, 'schedules'))).toMatch(/^⏰ 2 schedules/);
  });
});

describe('firing', () => {
  it('fires once per slot through the core as its owner, audited as scheduled', async () => {
    core = startCore({ yaml: yaml() });
    await core.run(ALICE, 'schedule 1m help send');
    await core.app.schedules.tick();
    expect(posted(core)).toEqual([]);
    core.clock.advance(60_000);
    await core.app.schedules.tick();
    await core.app.schedules.tick();
    const out = posted(core);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^send: relay a prompt/);
    const row = core.app.switchboard.services.audit.list({ limit: 1 })[0]!;
    expect(row).toMatchObject({ actor: ALICE.id, verb: 'help', command: 'help send', outcome: 'ok', scheduleId: 1 });
    expect(plain(await core.run(ALICE, 'audit'))).toContain('slack:UALICE (⏰ schedule #1)');
    core.clock.advance(60_000);
    await core.app.schedules.tick();
    expect(posted(core)).toHaveLength(2);
  });

  it('two processes on one database fire a slot once', async () => {
    core = startCore({ yaml: yaml() });
    await core.run(ALICE, 'schedule 1m help send');
    const env = { SLACK_ALLOWED_CHANNELS: 'CWORK' };
    const db2 = openDatabase(join(core.dir, 'data', 'switchboard.db'), allMigrations);
    const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const second = createApp({ config: loadConfig(core.dir, env), env, db: db2, clock: core.clock, logger, schedule: false, monitor: { streams: false } });
    try {
      core.clock.advance(60_000);
      await Promise.all([core.app.schedules.tick(), second.schedules.tick(), core.app.schedules.tick(), second.schedules.tick()]);
      expect(posted(core)).toHaveLength(1);
      expect(core.db.prepare('SELECT COUNT(*) AS n FROM schedule_fires').get()).toEqual({ n: 1 });
    } finally {
      await second.stop();
      db2.close();
    }
  });

  it('fires missed while down: one catch-up run, or none with --catch-up none', async () => {
    core = startCore({ yaml: yaml() });
    await core.run(ALICE, 'schedule 1m help send');
    await core.run(ALICE, 'schedule 1m --catch-up none help run');
    core.clock.advance(30 * 60_000);
    await core.app.schedules.tick();
    await core.app.schedules.tick();
    const out = posted(core);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^send: relay a prompt/);
    expect(out[1]).toMatch(/^⏰ schedule #1: that was the run due .*, missed while Switchboard was down \(one catch-up run\)$/);
    const list = plain(await core.run(ALICE, 'schedules'));
    expect(list).toMatch(/#2 · every 1m · next .* · last: missed while Switchboard was down \(--catch-up none\)/);
    // Back on the grid: the next fire is the next whole minute after now.
    const next = core.app.switchboard.services.schedules.get(1)!.nextAt;
    expect(next - core.clock.now()).toBeGreaterThan(0);
    expect(next - core.clock.now()).toBeLessThanOrEqual(60_000);
  });

  it('a busy name skips the fire and says so once; --queue runs it when the name is free', async () => {
    core = startCore({ yaml: yaml() });
    seedTask(core, { name: 'auth', executor: 'crib', actor: ALICE.id, status: 'running' });
    expect(plain(await core.run(ALICE, 'schedule 1m run crib --name auth -- make audit'))).toMatch(/^⏰ schedule #1/);
    expect(plain(await core.run(ALICE, 'schedule 1m --queue run crib --name auth -- make lint'))).toMatch(/^⏰ schedule #2/);
    for (let i = 0; i < 3; i++) {
      core.clock.advance(60_000);
      await core.app.schedules.tick();
    }
    const out = posted(core);
    expect(out.filter((line) => line.startsWith('⏭ schedule #1 skipped a run: auth is still busy'))).toHaveLength(1);
    expect(out.filter((line) => line.startsWith('⏳ schedule #2: auth is still busy; this run starts when the current one ends'))).toHaveLength(1);
    expect(out).toHaveLength(2);
    // The run ends: the queued fire goes at the next beat (the unreachable test host refuses it, and says so).
    core.db.prepare("UPDATE executor_tasks SET status = 'succeeded', finished_at = ? WHERE name = 'auth'").run(core.clock.now());
    await core.app.schedules.tick();
    expect(core.app.switchboard.services.schedules.get(2)!.pendingAt).toBeUndefined();
    expect(posted(core).slice(2).join('\n')).toMatch(/schedule #2 could not run `run crib --name auth -- make lint`: .*cannot be reached/);
  });

  it('an owner who lost the role: paused, said once, quiet while refused, back by itself when allowed', async () => {
    core = startCore({ yaml: yaml() });
    await core.run(BOB, 'schedule 1m help send');
    await core.close({ keep: true });
    // Restarted with bob no longer a member (nor a viewer).
    core = startCore({ yaml: yaml('[slack:UALICE]'), dir: core.dir, clock: core.clock });
    for (let i = 0; i < 3; i++) {
      core.clock.advance(60_000);
      await core.app.schedules.tick();
    }
    const out = posted(core);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^⏸ schedule #1 is paused: slack:UBOB may not use `help`: it needs the viewer role\. an admin can add .* It runs again by itself once that is allowed; `unschedule 1` removes it\.$/);
    expect(plain(await core.run(ADMIN, 'schedules'))).toMatch(/#1 · every 1m · ⏸ paused \(slack:UBOB may not use `help`/);
    const audit = core.app.switchboard.services.audit.list({ limit: 5 }).filter((row) => row.scheduleId === 1);
    expect(audit.map((row) => row.outcome)).toEqual(['error:forbidden']);
    // The quiet looks while paused leave no history: one refused fire, not one a slot.
    expect(core.db.prepare("SELECT COUNT(*) AS n FROM schedule_fires WHERE outcome = 'refused'").get()).toEqual({ n: 1 });
    await core.close({ keep: true });
    core = startCore({ yaml: yaml(), dir: core.dir, clock: core.clock });
    core.clock.advance(60_000);
    await core.app.schedules.tick();
    const back = posted(core).slice(1);
    expect(back[0]).toBe('▶️ schedule #1 runs again: slack:UBOB may run `help send` here now');
    expect(back[1]).toMatch(/^send: relay a prompt/);
  });

  it('keeps the newest fires of each schedule, not every fire forever', async () => {
    core = startCore({ yaml: yaml() });
    await core.run(ALICE, 'schedule 1m help send');
    const store = core.app.switchboard.services.schedules;
    for (let i = 0; i < FIRES_KEPT + 30; i++) store.fired(1, { at: i, outcome: 'started', result: 'ran' });
    const rows = core.db.prepare<[], { n: number; first: number }>('SELECT COUNT(*) AS n, MIN(at) AS first FROM schedule_fires WHERE schedule_id = 1').get()!;
    expect(rows).toEqual({ n: FIRES_KEPT, first: 30 });
  });

  it('three runs in a row stopped by their budget pause the schedule', async () => {
    core = startCore({ yaml: yaml() });
    seedTask(core, { name: 'auth', executor: 'crib', actor: ALICE.id, status: 'succeeded' });
    await core.run(ALICE, 'schedule 1m logs auth');
    const { store } = { store: core.app.switchboard.services.schedules };
    for (let i = 0; i < 3; i++) {
      core.clock.advance(60_000);
      await core.app.schedules.tick();
      expect(store.get(1)!.lastResult, `fire ${i}`).toBe('ran auth');
      core.app.schedules.budgetStopped('auth', core.clock.now());
      expect(store.get(1)!.paused, `after ${i + 1}`).toBe(i === 2 ? 'budget' : undefined);
    }
    expect(posted(core).at(-1)).toMatch(/^⏸ schedule #1 paused itself: its last 3 runs were stopped by their budget\. `budget auth` shows the limits/);
    core.clock.advance(60_000);
    const before = posted(core).length;
    await core.app.schedules.tick();
    expect(posted(core)).toHaveLength(before);
  });
});
