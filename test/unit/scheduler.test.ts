import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../src/core/scheduler.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A hand-driven interval: `fire()` is one beat. */
function manualInterval() {
  let fn: (() => void) | undefined;
  return {
    setInterval: (f: () => void) => ((fn = f), 'handle'),
    clearInterval: () => (fn = undefined),
    fire: () => fn?.(),
    get armed() {
      return fn !== undefined;
    },
  };
}

describe('the app scheduler', () => {
  it('runs every job on each beat, skips a job still running, and keeps going when one fails', async () => {
    const timer = manualInterval();
    const errors: string[] = [];
    const scheduler = createScheduler({ logger: { ...quiet, error: (message) => errors.push(message) }, setInterval: timer.setInterval, clearInterval: timer.clearInterval });
    const runs = { quick: 0, slow: 0, broken: 0 };
    let releaseSlow!: () => void;
    scheduler.add('quick', () => void runs.quick++);
    scheduler.add('slow', () => {
      runs.slow++;
      return new Promise<void>((resolve) => (releaseSlow = resolve));
    });
    scheduler.add('broken', () => {
      runs.broken++;
      throw new Error('boom');
    });
    scheduler.start();
    expect(timer.armed).toBe(true);
    for (let i = 0; i < 3; i++) {
      timer.fire();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(runs).toEqual({ quick: 3, slow: 1, broken: 3 });
    expect(errors).toEqual(['scheduler: the broken job failed', 'scheduler: the broken job failed', 'scheduler: the broken job failed']);
    releaseSlow();
    await new Promise((resolve) => setImmediate(resolve));
    timer.fire();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.slow).toBe(2);
    const stopped = scheduler.stop();
    expect(timer.armed).toBe(false);
    releaseSlow();
    await stopped;
  });

  it('beat() runs the jobs once by hand, without the timer', async () => {
    const timer = manualInterval();
    const scheduler = createScheduler({ logger: quiet, setInterval: timer.setInterval, clearInterval: timer.clearInterval });
    const seen: string[] = [];
    scheduler.add('a', async () => void seen.push('a'));
    scheduler.add('b', () => void seen.push('b'));
    await scheduler.beat();
    expect(seen).toEqual(['a', 'b']);
    expect(timer.armed).toBe(false);
  });
});
