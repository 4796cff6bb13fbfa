/**
 * Time for the core comes only from here, so tests drive it deterministically (ManualScheduler).
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  /** Runs `fn` once after `ms`. Timers must not keep the process alive. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` on a later turn of the event loop, after pending I/O (like setImmediate). */
  defer(fn: () => void): void;
}

export const systemClock: Clock = { now: () => Date.now() };

export const systemScheduler: Scheduler = {
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  defer(fn) {
    setImmediate(fn);
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A Clock and Scheduler for tests: time only moves with `advance`, deferred work only runs with
 * `runDeferred`/`advance`. Exported so protocol sessions can test against a real core deterministically.
 */
export class ManualScheduler implements Clock, Scheduler {
  private time: number;
  private seq = 0;
  private timers: ManualTimer[] = [];
  private deferred: Array<() => void> = [];

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  defer(fn: () => void): void {
    this.deferred.push(fn);
  }

  get pendingDeferred(): number {
    return this.deferred.length;
  }

  /** Runs deferred work, including work deferred while running, up to `limit` rounds. */
  runDeferred(limit = 1000): void {
    for (let round = 0; round < limit && this.deferred.length > 0; round++) {
      const batch = this.deferred;
      this.deferred = [];
      for (const fn of batch) fn();
    }
  }

  /** Moves time forward, firing due timers in order (and deferred work after each). */
  advance(ms: number): void {
    const end = this.time + ms;
    this.runDeferred();
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = t;
        }
      }
      if (next === undefined) break;
      this.time = Math.max(this.time, next.at);
      next.cancelled = true;
      next.fn();
      this.runDeferred();
    }
    this.time = end;
  }
}
