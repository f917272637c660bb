import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coreMigrations } from '../../src/sessions/migrations.js';
import { createAuditLog, type AuditLog } from '../../src/sessions/audit.js';
import { openDatabase, type Db } from '../../src/sessions/database.js';
import { createRegistry } from '../../src/sessions/registry.js';
import { createScrubber } from '../../src/core/scrub.js';

let db: Db;
let now: number;
let audit: AuditLog;
const clock = { now: () => now };

beforeEach(() => {
  db = openDatabase(':memory:', coreMigrations);
  now = 1_700_000_000_000;
  audit = createAuditLog(db, clock);
});
afterEach(() => {
  db.close();
});

describe('audit log', () => {
  it('writes one row per record, with the clock time, read back in order', () => {
    audit.record({ actor: 'slack:U1', origin: 'slack:C1', verb: 'status', target: 'kumo', command: 'status kumo', outcome: 'ok' });
    now += 1_000;
    audit.record({ actor: 'console:alice', origin: 'console:tty', verb: 'forget', target: 'hetc', outcome: 'error', detail: 'forbidden' });
    const rows = audit.list();
    expect(rows).toEqual([
      { id: 1, at: 1_700_000_000_000, actor: 'slack:U1', origin: 'slack:C1', verb: 'status', target: 'kumo', command: 'status kumo', outcome: 'ok' },
      { id: 2, at: 1_700_000_001_000, actor: 'console:alice', origin: 'console:tty', verb: 'forget', target: 'hetc', outcome: 'error', detail: 'forbidden' },
    ]);
    expect((db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n).toBe(2);
  });

  it('the database refuses UPDATE and DELETE on audit (append-only)', () => {
    audit.record({ actor: 'slack:U1', origin: 'slack:C1', verb: 'send', target: 'kumo', outcome: 'ok' });
    expect(() => db.prepare("UPDATE audit SET outcome = 'forged'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(() => db.exec('DELETE FROM audit WHERE id = 1')).toThrow(/append-only/);
    expect(audit.list()).toHaveLength(1);
    expect(audit.list()[0]!.outcome).toBe('ok');
  });

  it('joins the prompt text from `prompts` instead of copying it', () => {
    const registry = createRegistry(db, clock);
    const prompt = 'fix the flaky auth test\n  keep   the spacing';
    const promptId = registry.recordPrompt({ name: 'kumo', actor: 'slack:U1', text: prompt });
    audit.record({ actor: 'slack:U1', origin: 'slack:C1', verb: 'send', target: 'kumo', command: 'send kumo', promptId, outcome: 'ok' });
    const [row] = audit.list();
    expect(row).toMatchObject({ promptId, prompt });
    const stored = db.prepare('SELECT command, prompt_id FROM audit').get() as { command: string; prompt_id: number };
    expect(stored).toEqual({ command: 'send kumo', prompt_id: promptId });
  });

  it('bounds the stored command text', () => {
    audit.record({ actor: 'slack:U1', origin: 'slack:C1', verb: 'send', command: `send kumo ${'x'.repeat(10_000)}`, outcome: 'ok' });
    const { command } = db.prepare('SELECT command FROM audit').get() as { command: string };
    expect(command.length).toBe(2_000);
    expect(command.startsWith('send kumo xxx')).toBe(true);
  });

  it('filters by target and time, and limits to the newest rows (oldest first)', () => {
    for (let i = 0; i < 10; i++) {
      now = 1_000 + i;
      audit.record({ actor: 'slack:U1', origin: 'slack:C1', verb: 'status', target: i % 2 ? 'kumo' : 'hetc', outcome: `n${i}` });
    }
    expect(audit.list({ target: 'kumo' }).map((r) => r.outcome)).toEqual(['n1', 'n3', 'n5', 'n7', 'n9']);
    expect(audit.list({ since: 1_007 }).map((r) => r.outcome)).toEqual(['n7', 'n8', 'n9']);
    expect(audit.list({ limit: 3 }).map((r) => r.outcome)).toEqual(['n7', 'n8', 'n9']);
    expect(audit.list({ target: 'hetc', since: 1_004, limit: 2 }).map((r) => r.outcome)).toEqual(['n6', 'n8']);
  });

  it('scrubs every field before it is written: a password in a refused URL never reaches the table', () => {
    const scrubbed = createAuditLog(db, clock, createScrubber(['Sup3r-configured']));
    const line = 'new k2 http://opencode:hunter2secret@127.0.0.1:1 --agent build';
    scrubbed.record({
      actor: 'slack:U1',
      origin: 'slack:C1',
      verb: 'new',
      target: 'k2 Sup3r-configured',
      command: line,
      outcome: 'error:invalid_url',
      detail: `cannot reach http://opencode:hunter2secret@127.0.0.1:1 as Sup3r-configured`,
    });
    const stored = JSON.stringify(db.prepare('SELECT * FROM audit').all());
    expect(stored).not.toContain('hunter2secret');
    expect(stored).not.toContain('Sup3r-configured');
    expect(scrubbed.list()[0]).toMatchObject({
      command: 'new k2 http://opencode:[redacted]@127.0.0.1:1 --agent build',
      detail: 'cannot reach http://opencode:[redacted]@127.0.0.1:1 as [redacted]',
    });
  });

  it('scrubs a long command before cutting it, so a cut cannot leave part of a token', () => {
    const scrubbed = createAuditLog(db, clock, createScrubber([]));
    const token = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
    scrubbed.record({ actor: 'slack:U1', origin: 'slack:C1', verb: 'send', command: `${'x'.repeat(1_990)} ${token}`, outcome: 'ok' });
    const { command } = db.prepare('SELECT command FROM audit').get() as { command: string };
    expect(command).not.toContain('ghp_a1B2');
  });

  it('refers to prompts by a foreign key', () => {
    expect(() => audit.record({ actor: 'slack:U1', origin: 'slack:C1', verb: 'send', promptId: 999, outcome: 'ok' })).toThrow(/FOREIGN KEY/);
  });
});
