import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allMigrations } from '../../src/app.js';
import { createInboundLedger, INBOUND_RETENTION_MS, isRepeat } from '../../src/core/inbound-dedupe.js';
import type { Actor, Origin } from '../../src/core/origin.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { errorCode, manualClock, plain, startCore, type Core } from './helpers/core-app.js';

/**
 * The ledger that makes inbound deliveries run once: claims in memory while a command runs, identities recorded
 * with the command's outcome, recognised after a restart for at least an hour, then pruned.
 */
describe('the inbound ledger', () => {
  let db: Db;
  beforeAll(() => {
    db = openDatabase(':memory:', allMigrations);
  });
  afterAll(() => db.close());

  it('refuses a second claim while the first runs, and lets a retry of something that never ran run', () => {
    const ledger = createInboundLedger(db, manualClock());
    const first = ledger.claim(['slack:event:Ev1']);
    expect(first).toBeDefined();
    expect(ledger.claim(['slack:event:Ev1'])).toBeUndefined();
    // Released without a commit (it failed before recording anything): the retry must run.
    ledger.release(first!);
    expect(ledger.claim(['slack:event:Ev1'])).toBeDefined();
  });

  it('recognises a committed delivery under any of its names, and after a restart', () => {
    const clock = manualClock();
    const ledger = createInboundLedger(db, clock);
    const claim = ledger.claim(['slack:envelope:E1', 'slack:trigger:T1'])!;
    ledger.commit(claim, () => undefined);
    ledger.release(claim);
    expect(ledger.claim(['slack:trigger:T1'])).toBeUndefined();
    const restarted = createInboundLedger(db, clock);
    expect(restarted.claim(['slack:envelope:E1'])).toBeUndefined();
    expect(restarted.claim(['slack:envelope:E2', 'slack:trigger:T1'])).toBeUndefined();
  });

  it('records nothing when the outcome could not be written: the transaction is one', () => {
    const ledger = createInboundLedger(db, manualClock());
    const claim = ledger.claim(['discord:message:9'])!;
    expect(() =>
      ledger.commit(claim, () => {
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    ledger.release(claim);
    expect(ledger.claim(['discord:message:9'])).toBeDefined();
  });

  it('keeps identities for at least an hour, then prunes them', () => {
    const clock = manualClock();
    const ledger = createInboundLedger(db, clock);
    const commit = (key: string) => {
      const claim = ledger.claim([key])!;
      ledger.commit(claim, () => undefined);
      ledger.release(claim);
    };
    commit('discord:interaction:old');
    clock.advance(60 * 60_000);
    commit('discord:interaction:hour');
    expect(ledger.claim(['discord:interaction:old'])).toBeUndefined();
    clock.advance(INBOUND_RETENTION_MS);
    commit('discord:interaction:late');
    expect(ledger.claim(['discord:interaction:old'])).toBeDefined();
    expect(ledger.claim(['discord:interaction:late'])).toBeUndefined();
  });

  it('always claims a delivery without identities (the console, the CLI)', () => {
    const ledger = createInboundLedger(db, manualClock());
    const claims = [ledger.claim(), ledger.claim([])];
    expect(claims.every((c) => c !== undefined)).toBe(true);
  });
});

describe('the core runs each delivery once', () => {
  let core: Core;
  const alice: Actor = { id: 'slack:UALICE', name: 'alice' };
  const origin: Origin = { adapter: 'slack', channel: 'CWORK' };
  const auditRows = () => core.app.switchboard.services.audit.list({ limit: 1000 }).length;

  beforeAll(() => {
    core = startCore({ yaml: ['access:', '  members: [slack:UALICE]', 'limits:', '  commandsPerMinute: 1000'].join('\n') });
  });
  afterAll(() => core.close());

  it('two deliveries racing: one runs, one audit row, one reply queued; the other is a quiet repeat', async () => {
    const rows = auditRows();
    const queued = core.app.switchboard.outbox.pending('slack');
    const delivery = { text: 'help send', actor: alice, origin, identities: ['slack:event:EvRACE'] };
    const [first, second] = await Promise.all([core.app.switchboard.execute(delivery), core.app.switchboard.execute(delivery)]);
    expect([isRepeat(first), isRepeat(second)]).toEqual([false, true]);
    const late = await core.app.switchboard.execute(delivery);
    expect(isRepeat(late)).toBe(true);
    expect(auditRows()).toBe(rows + 1);
    expect(core.app.switchboard.outbox.pending('slack')).toBe(queued + 1);
  });

  it('a choice pressed twice at once runs once; both the racing and a later press are told who chose', async () => {
    const { choices } = core.app.switchboard.services;
    const block = choices.offer(alice, origin, 'Which one?', [{ label: 'help', command: 'help send' }], 'answer this choice');
    if (block.type !== 'choices') throw new Error('not a choice block');
    const rows = auditRows();
    const press = (id: string) => core.app.switchboard.press({ choiceId: block.choiceId, index: 0, actor: alice, origin, identities: [id] }, { post: false });
    const [first, second] = await Promise.all([press('slack:action:1'), press('slack:action:2')]);
    expect(errorCode(first)).toBeUndefined();
    expect(errorCode(second)).toBe('already_chosen');
    expect(plain(second)).toContain('that choice was already chosen by alice');
    const later = await press('slack:action:3');
    expect(plain(later)).toContain('that choice was already chosen by alice');
    expect(auditRows()).toBe(rows + 1);
  });

  it('a line without identities is a new command each time', async () => {
    const rows = auditRows();
    const console: Actor = { id: 'console:op' };
    const at: Origin = { adapter: 'console', channel: 'terminal' };
    const replies = [await core.app.switchboard.execute({ text: 'help', actor: console, origin: at }), await core.app.switchboard.execute({ text: 'help', actor: console, origin: at })];
    expect(replies.some(isRepeat)).toBe(false);
    expect(auditRows()).toBe(rows + 2);
  });
});
