/**
 * Paging reads of the journal (docs/STORAGE.md "Paging"): live messages read back by the segment,
 * offset and length the index keeps for them; after compaction moved them, after a restart, while
 * their record is still in a group buffer, and while compaction deletes segments under the reads.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../src/core/message.js';
import type { StoreOp } from '../../../src/core/store.js';
import { planRuns, readAt, SegmentFiles } from '../../../src/store/journal/page-reader.js';
import { msg, openJournal, tempDir } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const KiB = 1024;

function dir(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

const enqueue = (m: Message, queue = 'queue://q'): StoreOp => ({ type: 'enqueue', queue, message: m });
const dequeue = (id: string, queue = 'queue://q'): StoreOp => ({ type: 'dequeue', queue, messageId: id });

/** A message with distinct content per id, and the optional fields set. */
function rich(id: string, size = 200): Message {
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + id.length * 7 + Number(id.slice(1))) & 0xff;
  return msg(id, 'queue://q', size, {
    body,
    correlationId: `c-${id}`,
    groupId: 'g',
    priority: Number(id.slice(1)) % 10,
    expiration: 1_800_000_000_000,
    properties: { n: id, k: 3.5, ok: true, none: null },
  });
}

describe('JournalStore paging reads', () => {
  it('reads live messages by id; unknown, dequeued and other queues read as undefined', async () => {
    const j = openJournal(dir());
    await j.load();
    const ms = Array.from({ length: 50 }, (_, i) => rich(`m${i}`));
    await j.write(ms.map((m) => enqueue(m)));
    await j.write([enqueue(rich('x1'), 'queue://other'), dequeue('m3')]);
    const ids = ['m0', 'm3', 'm49', 'nope', 'x1', 'm7'];
    const expected = [ms[0], undefined, ms[49], undefined, undefined, ms[7]];
    expect(await j.read('queue://q', ids)).toEqual(expected);
    expect(j.readSync('queue://q', ids)).toEqual(expected);
    expect(await j.read('queue://other', ['x1'])).toEqual([rich('x1')]);
    await j.close();
  });

  it('reads a batch of adjacent records with one pread', async () => {
    const j = openJournal(dir());
    await j.load();
    const ms = Array.from({ length: 100 }, (_, i) => rich(`m${i}`));
    for (let i = 0; i < 100; i += 10) await j.write(ms.slice(i, i + 10).map((m) => enqueue(m)));
    const before = j.stats().pagedPreads;
    expect(await j.read('queue://q', ms.map((m) => m.id).reverse())).toEqual([...ms].reverse());
    // Ten groups, each a few header bytes from the next: one run.
    expect(j.stats().pagedPreads - before).toBe(1);
    expect(j.stats().pagedReads).toBe(100);
    await j.close();
  });

  it('reads records not written yet from the group buffer', async () => {
    const j = openJournal(dir());
    await j.load();
    const m = rich('m1');
    const written = j.write([enqueue(m)]);
    // The group is still being filled: nothing on disk yet.
    expect(j.readSync('queue://q', ['m1'])).toEqual([m]);
    expect(await j.read('queue://q', ['m1'])).toEqual([m]);
    await written;
    expect(await j.read('queue://q', ['m1'])).toEqual([m]);
    await j.close();
  });

  it('finds messages moved by compaction, and again after a restart', async () => {
    const d = dir();
    const options = { segmentSize: 16 * KiB, compactMinBytes: 32 * KiB, compactStepBytes: 4 * KiB };
    const j = openJournal(d, options);
    await j.load();
    const keep = Array.from({ length: 10 }, (_, i) => rich(`k${i}`, 300));
    await j.write(keep.map((m) => enqueue(m, 'queue://keep')));
    for (let i = 0; i < 400; i++) {
      const ops = [enqueue(msg(`f${i}`, 'queue://flow', 1000), 'queue://flow')];
      if (i >= 5) ops.push(dequeue(`f${i - 5}`, 'queue://flow'));
      await j.write(ops);
    }
    await j.reclaim();
    const s = j.stats();
    expect(s.compactions).toBeGreaterThan(0);
    expect(s.relocatedOps).toBeGreaterThanOrEqual(10);
    // The segment the keep messages were written to is gone: they were read back from their copies.
    expect(s.segmentsDeleted).toBeGreaterThan(10);
    const ids = keep.map((m) => m.id);
    expect(await j.read('queue://keep', ids)).toEqual(keep);
    expect(j.readSync('queue://keep', ids)).toEqual(keep);
    await j.close();

    const again = openJournal(d, options);
    await again.load();
    expect(await again.read('queue://keep', ids)).toEqual(keep);
    const flow = Array.from({ length: 5 }, (_, i) => `f${395 + i}`);
    expect((await again.read('queue://flow', flow)).map((m) => m?.id)).toEqual(flow);
    await again.close();
  });

  it('reads stay right while compaction moves records and deletes segments under them', async () => {
    const options = { segmentSize: 8 * KiB, compactMinBytes: 16 * KiB, compactStepBytes: 2 * KiB };
    const j = openJournal(dir(), options);
    await j.load();
    const live = new Map<string, Message>();
    let checked = 0;
    const reads: Promise<void>[] = [];
    const check = (ids: string[]) =>
      j.read('queue://keep', ids).then((got) => {
        for (let i = 0; i < ids.length; i++) {
          // A message dequeued after the read was issued may legitimately come back undefined.
          if (got[i] !== undefined) expect(got[i]).toEqual(live.get(ids[i]!) ?? got[i]);
          checked++;
        }
      });
    for (let i = 0; i < 600; i++) {
      const ops: StoreOp[] = [enqueue(msg(`f${i}`, 'queue://flow', 600), 'queue://flow')];
      if (i >= 3) ops.push(dequeue(`f${i - 3}`, 'queue://flow'));
      if (i % 20 === 0) {
        const m = rich(`k${i}`, 100);
        live.set(m.id, m);
        ops.push(enqueue(m, 'queue://keep'));
      }
      const w = j.write(ops);
      reads.push(check([...live.keys()]));
      if (i % 4 === 0) await w;
    }
    await Promise.all(reads);
    await j.reclaim();
    expect(j.stats().relocatedOps).toBeGreaterThan(0);
    expect(j.stats().segmentsDeleted).toBeGreaterThan(5);
    expect(checked).toBeGreaterThan(1000);
    expect(await j.read('queue://keep', [...live.keys()])).toEqual([...live.values()]);
    await j.close();
  });

  it('recovers the heads of the queues whole and the rest without bodies, within recoverBodyBytes', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    const a = Array.from({ length: 20 }, (_, i) => rich(`a${i}`, 100));
    const b = Array.from({ length: 20 }, (_, i) => rich(`b${i}`, 100));
    const retained = rich('r1', 5000);
    await j.write([
      ...a.map((m) => enqueue(m, 'queue://a')),
      ...b.map((m) => enqueue(m, 'queue://b')),
      enqueue(retained, 'retained://t'),
    ]);
    await j.close();

    const again = openJournal(d, { recoverBodyBytes: 1000 });
    const state = await again.load();
    for (const [key, ms] of [
      ['queue://a', a],
      ['queue://b', b],
    ] as const) {
      const q = state.queues.find((x) => x.queue === key)!;
      // 500 bytes each: the first five whole, the others as stubs with their body's size.
      expect(q.messages.slice(0, 5).map((m) => m.message)).toEqual(ms.slice(0, 5));
      expect(q.messages.slice(0, 5).every((m) => m.bodyBytes === undefined)).toBe(true);
      for (const [i, m] of q.messages.slice(5).entries()) {
        expect(m.bodyBytes).toBe(100);
        expect(m.message).toEqual({ ...ms[5 + i]!, body: new Uint8Array(0) });
      }
      expect(
        await again.read(
          key,
          ms.map((m) => m.id),
        ),
      ).toEqual(ms);
    }
    // Retained messages are never paged.
    expect(state.queues.find((x) => x.queue === 'retained://t')!.messages[0]).toEqual({
      message: retained,
      deliveryCount: 0,
    });
    await again.close();
  });

  it('rejects reads once closed', async () => {
    const j = openJournal(dir());
    await j.load();
    await j.close();
    await expect(j.read('queue://q', ['a'])).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => j.readSync('queue://q', ['a'])).toThrow(/not open/);
  });
});

describe('SegmentFiles', () => {
  it('a descriptor opened before its segment is deleted still reads it; eviction closes it when free', async () => {
    const d = dir();
    const file = join(d, '0000000007.seg');
    writeFileSync(file, Buffer.from('0123456789'));
    const files = new SegmentFiles(d);
    const fd = await files.acquire(7);
    rmSync(file);
    files.evict(7);
    expect((await readAt(fd, 4, 3)).toString()).toBe('3456');
    expect(files.openCount).toBe(1);
    files.release(7);
    expect(files.openCount).toBe(0);
    await expect(files.acquire(7)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => files.acquireSync(7)).toThrow(/ENOENT/);
  });

  it('keeps only a few unused descriptors open', async () => {
    const d = dir();
    const files = new SegmentFiles(d, 2);
    for (let i = 1; i <= 5; i++) writeFileSync(join(d, `000000000${i}.seg`), 'x');
    for (let i = 1; i <= 5; i++) {
      await files.acquire(i);
      files.release(i);
    }
    expect(files.openCount).toBe(2);
    files.closeAll();
    expect(files.openCount).toBe(0);
  });
});

describe('planRuns', () => {
  const location = fc.record({
    seg: fc.integer({ min: 1, max: 3 }),
    off: fc.integer({ min: 0, max: 20_000 }),
    bytes: fc.integer({ min: 1, max: 3_000 }),
  });

  it('covers every record once, in runs of one segment, nearby records merged', () => {
    fc.assert(
      fc.property(fc.array(location, { maxLength: 60 }), (locations) => {
        const runs = planRuns(locations, 100, 8_000);
        const seen = runs.flatMap((r) => r.items).sort((a, b) => a - b);
        expect(seen).toEqual(locations.map((_, i) => i));
        for (const r of runs) {
          for (const i of r.items) {
            const l = locations[i]!;
            expect(l.seg).toBe(r.seg);
            expect(l.off).toBeGreaterThanOrEqual(r.off);
            expect(l.off + l.bytes).toBeLessThanOrEqual(r.off + r.length);
          }
          if (r.items.length > 1) expect(r.length).toBeLessThanOrEqual(8_000);
        }
        // Records of one segment within the gap of each other share a run unless it would grow too big.
        const sorted = [...runs].sort((a, b) => a.seg - b.seg || a.off - b.off);
        for (let k = 1; k < sorted.length; k++) {
          const a = sorted[k - 1]!;
          const b = sorted[k]!;
          if (a.seg !== b.seg) continue;
          const merged = Math.max(a.off + a.length, b.off + b.length) - a.off;
          if (b.off - (a.off + a.length) <= 100) expect(merged).toBeGreaterThan(8_000);
        }
      }),
    );
  });

  it('reads adjacent records in one run', () => {
    const runs = planRuns([
      { seg: 1, off: 100, bytes: 50 },
      { seg: 1, off: 150, bytes: 50 },
      { seg: 2, off: 0, bytes: 10 },
      { seg: 1, off: 10_000, bytes: 5 },
    ]);
    expect(runs.map((r) => [r.seg, r.off, r.length, r.items])).toEqual([
      [1, 100, 100, [0, 1]],
      [1, 10_000, 5, [3]],
      [2, 0, 10, [2]],
    ]);
  });
});
