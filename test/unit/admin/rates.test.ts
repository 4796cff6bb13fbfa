import { describe, expect, it } from 'vitest';
import { RateWindow } from '../../../src/admin/management/rates.js';

describe('RateWindow', () => {
  it('is zero until two samples exist', () => {
    const w = new RateWindow(5000);
    expect(w.rates()).toEqual({ enqueuedPerSecond: 0, dequeuedPerSecond: 0 });
    w.add({ at: 0, enqueued: 10, dequeued: 0 });
    expect(w.rates()).toEqual({ enqueuedPerSecond: 0, dequeuedPerSecond: 0 });
  });

  it('divides the counter change by the time between oldest and newest sample', () => {
    const w = new RateWindow(5000);
    w.add({ at: 0, enqueued: 0, dequeued: 0 });
    w.add({ at: 1000, enqueued: 100, dequeued: 50 });
    w.add({ at: 2000, enqueued: 200, dequeued: 50 });
    expect(w.rates()).toEqual({ enqueuedPerSecond: 100, dequeuedPerSecond: 25 });
  });

  it('forgets samples older than the window, keeping one that spans it', () => {
    const w = new RateWindow(5000);
    w.add({ at: 0, enqueued: 0, dequeued: 0 });
    for (let t = 1000; t <= 10_000; t += 1000)
      w.add({ at: t, enqueued: t < 5000 ? 1_000_000 : 1_000_000 + (t - 5000), dequeued: 0 });
    // From t=5000 (1_000_000) to t=10_000 (1_005_000): 1000/s; the burst before t=5000 is out of the window.
    expect(w.rates().enqueuedPerSecond).toBe(1000);
  });

  it('starts over when a counter goes down (a queue was deleted)', () => {
    const w = new RateWindow(5000);
    w.add({ at: 0, enqueued: 100, dequeued: 100 });
    w.add({ at: 1000, enqueued: 10, dequeued: 10 });
    expect(w.rates()).toEqual({ enqueuedPerSecond: 0, dequeuedPerSecond: 0 });
    w.add({ at: 2000, enqueued: 20, dequeued: 10 });
    expect(w.rates()).toEqual({ enqueuedPerSecond: 10, dequeuedPerSecond: 0 });
  });

  it('replaces a sample taken at the same instant and keeps a bounded number', () => {
    const w = new RateWindow(1_000_000, 8);
    for (let i = 0; i < 100; i++) w.add({ at: i, enqueued: i, dequeued: 0 });
    w.add({ at: 99, enqueued: 99, dequeued: 0 });
    expect(w.rates().enqueuedPerSecond).toBe(1000);
  });
});
