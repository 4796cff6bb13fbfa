/**
 * Timers for the client, injectable so that failover and heart-beats run on a fake clock in tests. The
 * shape is the broker's (src/util/timers.ts); these defaults work in browsers too (no unref there).
 */
import type { Timers } from '../util/timers.js';

export type { Timers };

const unref = <T>(h: T): T => {
  (h as { unref?: () => void }).unref?.();
  return h;
};

export const clientTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as number),
  // Heart-beat intervals alone must not keep a Node process alive.
  setInterval: (fn, ms) => unref(setInterval(fn, ms)),
  clearInterval: (h) => clearInterval(h as number),
};

/**
 * Runs `fn` once the current event-loop turn's I/O has been handled (setImmediate in Node; a 0 ms
 * timeout where there is none): acks and writes of one turn are batched, where a microtask would
 * flush after every awaited step of a `for await` loop, i.e. once per message.
 */
export const afterTurn: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);
