/**
 * Time and randomness are injected into every group protocol so that the same state machines run on real
 * timers in production and on the simulated network's virtual clock in tests (src/group/testing/).
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds; only differences are meaningful. */
  now(): number;
  /** Runs `fn` once after `ms`. Real timers are unref'd: an idle channel must not keep the process alive. */
  setTimer(ms: number, fn: () => void): Timer;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

export { type Random, seededRandom } from '../util/random.js';

/** A repeating timer built on `Clock`, rescheduled after each run so that a slow tick never overlaps. */
export function every(clock: Clock, ms: number, fn: () => void): Timer {
  let current: Timer;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    fn();
    if (!stopped) current = clock.setTimer(ms, tick);
  };
  current = clock.setTimer(ms, tick);
  return {
    cancel() {
      stopped = true;
      current.cancel();
    },
  };
}
