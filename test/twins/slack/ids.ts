/**
 * Deterministic identifiers. Message ts values are Slack-shaped ("1700000000.000100") but derived from a counter,
 * not the clock, so transcripts and inline snapshots are identical on every run while still sorting like real ts.
 */
export interface IdSource {
  /** Next message ts, strictly increasing. */
  nextTs(): string;
  /** Next id with a Slack-like prefix: F (file), E (envelope), R (response url), I (invocation), T (trigger). */
  nextId(prefix: string): string;
  /** Global ordering number shared by every recorded item. */
  nextSeq(): number;
}

export function createIdSource(startSec = 1_700_000_000, stepMicros = 100): IdSource {
  let tsCount = 0;
  let seq = 0;
  const counters = new Map<string, number>();
  return {
    nextTs() {
      tsCount += 1;
      const micros = tsCount * stepMicros;
      const sec = startSec + Math.floor(micros / 1_000_000);
      return `${sec}.${String(micros % 1_000_000).padStart(6, '0')}`;
    },
    nextId(prefix) {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}TWIN${String(n).padStart(4, '0')}`;
    },
    nextSeq() {
      seq += 1;
      return seq;
    },
  };
}

/** Slack ts strings compare correctly as numbers once split; this avoids float rounding on the microseconds. */
export function compareTs(a: string, b: string): number {
  const [aSec = '0', aMicro = '0'] = a.split('.');
  const [bSec = '0', bMicro = '0'] = b.split('.');
  return Number(aSec) - Number(bSec) || Number(aMicro.padEnd(6, '0')) - Number(bMicro.padEnd(6, '0'));
}
