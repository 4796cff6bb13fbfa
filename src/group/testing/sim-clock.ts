/**
 * A virtual clock driven by an event queue: time jumps straight to the next event, so thousands of
 * protocol timers and datagrams run in milliseconds of real time. Ties are broken by insertion order,
 * which keeps a seeded run exactly reproducible.
 */
import type { Clock, Timer } from '../clock.js';

interface SimEvent {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

export class SimClock implements Clock {
  private time = 0;
  private order = 0;
  private readonly heap: SimEvent[] = [];

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const ev = this.schedule(ms, fn);
    return {
      cancel: () => {
        ev.cancelled = true;
      },
    };
  }

  /** Internal scheduling shared by timers and datagrams. */
  schedule(ms: number, fn: () => void): SimEvent {
    const ev: SimEvent = { at: this.time + Math.max(0, ms), order: this.order++, fn, cancelled: false };
    this.push(ev);
    return ev;
  }

  /** Time of the next live event, or undefined when idle. */
  peek(): number | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0]?.at;
  }

  /** Runs the next event if it is due at or before `limit`; returns whether one ran. */
  step(limit: number): boolean {
    const at = this.peek();
    if (at === undefined || at > limit) return false;
    const ev = this.pop()!;
    this.time = ev.at;
    ev.fn();
    return true;
  }

  /** Moves time forward to `t` when no event is due before it. */
  advanceTo(t: number): void {
    if (t > this.time) this.time = t;
  }

  get pending(): number {
    return this.heap.length;
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
