/** Promises that resolve once a condition holds (room in a send window); re-checked when state changes. */
export class Waiters {
  private list: { ready: () => boolean; resolve: () => void }[] = [];

  wait(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.list.push({ ready, resolve }));
  }

  check(): void {
    if (this.list.length === 0) return;
    const still: typeof this.list = [];
    for (const w of this.list) {
      if (w.ready()) w.resolve();
      else still.push(w);
    }
    this.list = still;
  }

  /** On close: waiters wake up and find the protocol closed. */
  releaseAll(): void {
    for (const w of this.list) w.resolve();
    this.list = [];
  }
}
