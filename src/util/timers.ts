/**
 * Clock and timers, injectable so that protocol sessions run on fake time in tests. Handles are opaque.
 * Shared by every protocol session (protocols may not import each other).
 */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

type NodeTimer = ReturnType<typeof setTimeout>;

/** Resolves the globals at call time, so that fake timers installed after import still apply. */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeTimer),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeTimer),
};
