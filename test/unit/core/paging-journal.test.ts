/**
 * The core paging over the real journal (core/paging.ts, store/journal): a backlog far above the memory
 * limit is paged out, survives a restart that recovers it without bodies, and drains in order, whole.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBrokerCore, ManualScheduler } from '../../../src/core/index.js';
import { MESSAGE_OVERHEAD } from '../../../src/core/memory.js';
import { JournalStore } from '../../../src/store/journal/index.js';
import { tempDir } from '../store/helpers.js';
import { anonymous, Recorder } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const BODY = 2000;
const LIMIT = (BODY + MESSAGE_OVERHEAD) * 50;
const N = 200;
const body = (i: number) => new TextEncoder().encode(`${String(i).padStart(5, '0')}${'y'.repeat(BODY - 5)}`);

async function open(dir: string, recoverBodyBytes?: number) {
  const time = new ManualScheduler();
  const store = new JournalStore({
    dir: join(dir, 'journal'),
    preallocate: false,
    segmentSize: 256 * 1024,
    ...(recoverBodyBytes === undefined ? {} : { recoverBodyBytes }),
  });
  const core = await createBrokerCore({
    store,
    clock: time,
    scheduler: time,
    policy: { memoryLimit: LIMIT, globalMemoryLimit: 0 },
  });
  const conn = core.connect({ principal: anonymous, protocol: 'test' });
  return { store, core, conn, time };
}

describe('paging over the journal', () => {
  it('pages a backlog out, recovers it without bodies after a restart, and drains it in order', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const first = await open(dir);
    const sends = [];
    for (let i = 0; i < N; i++)
      sends.push(first.conn.send({ address: 'queue://q', body: body(i), persistent: true }));
    await Promise.all(sends);
    const q1 = first.core.stats().queues[0]!;
    expect(q1.paged).toBeGreaterThan(N / 2);
    expect(q1.memoryBytes).toBeLessThan(LIMIT);
    await first.core.shutdown();
    await first.store.close();

    const second = await open(dir, 20 * BODY);
    const q2 = second.core.stats().queues[0]!;
    expect(q2.depth).toBe(N);
    // At most the first 20 bodies were read back at start-up (and the core may page those out too).
    expect(q2.paged).toBeGreaterThanOrEqual(N - 20);
    expect(q2.memoryBytes).toBe((N - q2.paged) * BODY + N * MESSAGE_OVERHEAD);
    expect(second.store.stats().pagedReads).toBe(20);
    const rec = new Recorder();
    second.conn.subscribe({ address: 'queue://q', ackMode: 'auto', prefetch: 20 }, rec);
    // Paging reads go through the thread pool: wait on time, not on a count of turns (a loaded machine).
    const deadline = Date.now() + 15_000;
    while (rec.deliveries.length < N && Date.now() < deadline) {
      second.time.runDeferred();
      await new Promise((r) => setImmediate(r));
    }
    const labels = rec.deliveries.map((d) => new TextDecoder().decode(d.message.body.subarray(0, 5)));
    expect(labels).toEqual(Array.from({ length: N }, (_, i) => String(i).padStart(5, '0')));
    expect(rec.deliveries.every((d) => d.message.body.byteLength === BODY && d.redelivered)).toBe(true);
    expect(second.store.stats().pagedReads).toBeGreaterThanOrEqual(N);
    await second.core.shutdown();
    await second.store.close();
  });
});
