import { afterEach, describe, expect, it } from 'vitest';
import type { StoreOp } from '../../../src/core/store.js';
import { msg, openJournal, tempDir } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const KiB = 1024;

describe('JournalStore space reclaim', () => {
  it('keeps disk usage bounded while far more data moves through than stays pending', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const options = { segmentSize: 16 * KiB, compactMinBytes: 32 * KiB, compactStepBytes: 4 * KiB };
    const j = openJournal(dir, options);
    await j.load();
    // Long-lived messages written first: they pin the oldest segment until compaction moves them.
    const keep: StoreOp[] = [];
    for (let i = 0; i < 5; i++) keep.push({ type: 'enqueue', queue: 'queue://keep', message: msg(`k${i}`) });
    await j.write(keep);
    await j.write([{ type: 'delivery-count', queue: 'queue://keep', messageId: 'k1', deliveryCount: 3 }]);

    let maxDisk = 0;
    let pending: Promise<void>[] = [];
    const total = 3000;
    for (let i = 0; i < total; i++) {
      const ops: StoreOp[] = [
        { type: 'enqueue', queue: 'queue://flow', message: msg(`f${i}`, 'queue://flow', 1000) },
      ];
      if (i >= 10) ops.push({ type: 'dequeue', queue: 'queue://flow', messageId: `f${i - 10}` });
      pending.push(j.write(ops));
      if (i % 10 === 9) {
        await Promise.all(pending);
        pending = [];
        maxDisk = Math.max(maxDisk, await j.diskBytes());
      }
    }
    await Promise.all(pending);
    await j.reclaim();
    const moved = total * 1000;
    const s = j.stats();
    expect(s.segmentsDeleted).toBeGreaterThan(40);
    expect(s.compactions).toBeGreaterThanOrEqual(1);
    expect(s.liveMessages).toBe(15);
    // ~3 MB moved; on disk at most a few segments beyond the compaction threshold.
    expect(maxDisk).toBeLessThan(10 * 16 * KiB);
    expect(await j.diskBytes()).toBeLessThan(5 * 16 * KiB);
    expect(maxDisk).toBeLessThan(moved / 20);
    await j.close();

    const again = openJournal(dir, options);
    const state = await again.load();
    const keepQ = state.queues.find((q) => q.queue === 'queue://keep')!;
    expect(keepQ.messages.map((m) => m.message.id)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(keepQ.messages.map((m) => m.deliveryCount)).toEqual([0, 3, 0, 0, 0]);
    expect(keepQ.messages[2]!.message).toEqual(msg('k2'));
    const flow = state.queues.find((q) => q.queue === 'queue://flow')!;
    expect(flow.messages.map((m) => m.message.id)).toEqual(
      [...Array(10).keys()].map((i) => `f${total - 10 + i}`),
    );
    await again.close();
  });

  it('never deletes a segment whose dequeues cancel messages in an older one', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    // No compaction: only plain deletion of dead segments, which must respect dependencies.
    const options = { segmentSize: 4 * KiB, compactMinBytes: 1e12 };
    const j = openJournal(dir, options);
    await j.load();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(`a${i}`);
      await j.write([{ type: 'enqueue', queue: 'queue://a', message: msg(`a${i}`, 'queue://a', 300) }]);
    }
    await j.write([{ type: 'enqueue', queue: 'queue://pin', message: msg('pin', 'queue://pin', 10) }]);
    // Dequeue all but a0 late, in newer segments; a0 keeps the first segment alive.
    for (let i = 1; i < 20; i++) {
      await j.write([
        { type: 'dequeue', queue: 'queue://a', messageId: `a${i}` },
        { type: 'enqueue', queue: 'queue://b', message: msg(`b${i}`, 'queue://b', 300) },
        { type: 'dequeue', queue: 'queue://b', messageId: `b${i}` },
      ]);
    }
    await j.reclaim();
    await j.abort();
    const again = openJournal(dir, options);
    const state = await again.load();
    expect(state.queues.find((q) => q.queue === 'queue://a')?.messages.map((m) => m.message.id)).toEqual([
      'a0',
    ]);
    expect(state.queues.find((q) => q.queue === 'queue://b')).toBeUndefined();
    expect(state.queues.find((q) => q.queue === 'queue://pin')?.messages).toHaveLength(1);
    await again.close();
  });
});
