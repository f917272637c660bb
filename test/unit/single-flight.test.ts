import { describe, expect, it } from 'vitest';
import { singleFlight } from '../../src/core/single-flight.js';

/** A promise the test settles by hand, so nothing here depends on timing. */
function gate<T>() {
  let open!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe('singleFlight', () => {
  it('a call made while a run is under way joins it; the next call after it ends starts a new run', async () => {
    const gates = [gate<number>(), gate<number>()];
    let runs = 0;
    const flight = singleFlight(() => gates[runs++]!.promise);
    const first = flight.run();
    const joined = flight.run();
    expect(joined).toBe(first);
    expect(runs).toBe(1);
    gates[0]!.open(1);
    expect(await first).toBe(1);
    const second = flight.run();
    expect(runs).toBe(2);
    gates[1]!.open(2);
    expect(await second).toBe(2);
  });

  it('a failed run fails every caller that joined it, and does not block the next run', async () => {
    const gates = [gate<string>(), gate<string>()];
    let runs = 0;
    const flight = singleFlight(() => gates[runs++]!.promise);
    const a = flight.run();
    const b = flight.run();
    gates[0]!.fail(new Error('probe failed'));
    await expect(a).rejects.toThrow('probe failed');
    await expect(b).rejects.toThrow('probe failed');
    const next = flight.run();
    gates[1]!.open('ok');
    expect(await next).toBe('ok');
    expect(runs).toBe(2);
  });

  it('settled() waits for the run under way, even one that fails, and resolves at once when none is', async () => {
    await expect(singleFlight(async () => 0).settled()).resolves.toBeUndefined();
    const g = gate<number>();
    const flight = singleFlight(() => g.promise);
    const run = flight.run().catch((error: Error) => error.message);
    let settled = false;
    const waiting = flight.settled().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    g.fail(new Error('down'));
    await waiting;
    expect(settled).toBe(true);
    expect(await run).toBe('down');
  });
});
