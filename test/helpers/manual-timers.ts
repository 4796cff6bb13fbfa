import type { Timers } from '../../src/util/timers.js';

export class ManualTimers implements Timers {
  private time = 1_000_000;
  private seq = 0;
  private readonly tasks = new Map<number, { at: number; fn: () => void; every: number }>();

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.tasks.set(id, { at: this.time + ms, fn, every: 0 });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.tasks.delete(handle as number);
  }
  setInterval(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.tasks.set(id, { at: this.time + ms, fn, every: ms });
    return id;
  }
  clearInterval(handle: unknown): void {
    this.tasks.delete(handle as number);
  }
  get pending(): number {
    return this.tasks.size;
  }
  /** Moves time forward, running due tasks in time order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; every: number }] | undefined;
      for (const entry of this.tasks)
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      const [id, task] = next;
      this.time = task.at;
      if (task.every > 0) task.at += task.every;
      else this.tasks.delete(id);
      task.fn();
    }
    this.time = end;
  }
}
