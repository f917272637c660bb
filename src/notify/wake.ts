import type { Clock } from '../core/clock.js';

/** Injected so tests drive time by hand; the real one is `setTimeout`. Timers are unref'd where they can be. */
export type SetTimer = (fn: () => void, ms: number) => { unref?: () => void } | unknown;

/**
 * One timer for the earliest wake-up asked for: a later request while one is pending is dropped (the pending one
 * comes sooner, and whoever runs then asks again for what is still to do). A stopped owner asks for nothing.
 */
export function createWake(clock: Clock, setTimer: SetTimer, run: () => void, stopped: () => boolean) {
  let wakeAt = Number.POSITIVE_INFINITY;
  return function wakeAtTime(at: number): void {
    if (stopped() || at >= wakeAt) return;
    wakeAt = at;
    const timer = setTimer(() => {
      wakeAt = Number.POSITIVE_INFINITY;
      run();
    }, Math.max(0, at - clock.now())) as { unref?: () => void };
    timer?.unref?.();
  };
}
