/**
 * Prepared XA branches in the journal (format version 3): recovery, forget, a torn prepare, compaction
 * and deletion keeping prepared records alive, old journals, the codec, and the MemoryStore.
 */
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Delivery, Xid } from '../../../src/core/api.js';
import { createBrokerCore } from '../../../src/core/index.js';
import type { StoreOp } from '../../../src/core/store.js';
import { ByteReader, ByteWriter, JournalDecodeError } from '../../../src/store/journal/bytes.js';
import { decodeOp, encodeOp, type JournalOp } from '../../../src/store/journal/codec.js';
import { FORMAT_VERSION } from '../../../src/store/journal/format.js';
import { verifyJournal } from '../../../src/store/journal/index.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { msg, openJournal, tempDirs } from './helpers.js';

const dir = tempDirs();
const segFiles = (d: string) =>
  readdirSync(join(d, 'journal'))
    .filter((f) => f.endsWith('.seg'))
    .sort()
    .map((f) => join(d, 'journal', f));

const KiB = 1024;
const enc = (s: string) => new Uint8Array(Buffer.from(s));
const xid = (n: number): Xid => ({ formatId: -7, globalId: enc(`g${n}`), branchId: enc(`b${n}`) });

function prepare(n: number, acks: string[] = ['m1'], sends = 1): StoreOp {
  return {
    type: 'xa-prepare',
    xid: xid(n),
    sends: Array.from({ length: sends }, (_, i) => ({
      address: 'topic://out',
      message: msg(`s${n}.${i}`, 'topic://out', 32, { correlationId: `c${n}` }),
    })),
    acks: acks.map((messageId) => ({ queue: 'queue://q', messageId })),
  };
}
const forget = (n: number): StoreOp => ({ type: 'xa-forget', xid: xid(n) });
const enqueue = (id: string, size = 16): StoreOp => ({
  type: 'enqueue',
  queue: 'queue://q',
  message: msg(id, 'queue://q', size),
});

describe('journal: prepared XA branches', () => {
  it('recovers a prepare after a restart, whole; a forget removes it', async () => {
    const d = dir();
    const a = openJournal(d);
    await a.load();
    await a.write([enqueue('m1'), enqueue('m2')]);
    await a.write([prepare(1, ['m1'], 2), prepare(2, ['m2'], 0)]);
    expect(a.stats().preparedXa).toBe(2);
    await a.close();

    const b = openJournal(d);
    const state = await b.load();
    expect(state.prepared).toEqual(
      [prepare(1, ['m1'], 2), prepare(2, ['m2'], 0)].map(({ type: _, ...p }) => p),
    );
    // The acked messages are still stored: a prepared ack is not a dequeue.
    expect(state.queues[0]!.messages.map((m) => m.message.id)).toEqual(['m1', 'm2']);
    // Commit of 1 (forget + dequeue in one batch), rollback of 2 (forget alone).
    await b.write([forget(1), { type: 'dequeue', queue: 'queue://q', messageId: 'm1' }]);
    await b.write([forget(2), forget(99)]);
    await b.close();

    const c = openJournal(d);
    const again = await c.load();
    expect(again.prepared).toBeUndefined();
    expect(again.queues[0]!.messages.map((m) => m.message.id)).toEqual(['m2']);
    expect((await verifyJournal(join(d, 'journal'))).preparedXa).toBe(0);
    await c.close();
  });

  it('a prepare torn by a crash leaves no trace', async () => {
    const d = dir();
    const a = openJournal(d);
    await a.load();
    await a.write([enqueue('m1')]);
    const file = segFiles(d).at(-1)!;
    const before = statSync(file).size;
    await a.write([prepare(1, ['m1'], 3)]);
    await a.close();
    const after = statSync(file).size;
    // Cut the prepare's record in the middle, as a crash during its write would.
    truncateSync(file, before + Math.floor((after - before) / 2));

    const b = openJournal(d);
    const state = await b.load();
    expect(state.prepared).toBeUndefined();
    expect(state.queues[0]!.messages.map((m) => m.message.id)).toEqual(['m1']);
    expect(b.stats().tornTailsTruncated).toBe(1);
    await b.close();
  });

  it('compaction and segment deletion keep a prepared record until its forget', async () => {
    const d = dir();
    const options = { segmentSize: 16 * KiB, compactMinBytes: 32 * KiB, compactStepBytes: 4 * KiB };
    const j = openJournal(d, options);
    await j.load();
    await j.write([enqueue('m1'), prepare(1, ['m1'], 2)]);
    // Churn: messages in and out until the first segment is long gone.
    for (let i = 0; i < 300; i++) {
      await j.write([enqueue(`x${i}`, 400)]);
      await j.write([{ type: 'dequeue', queue: 'queue://q', messageId: `x${i}` }]);
    }
    await j.reclaim();
    const files = segFiles(d);
    expect(files.some((f) => f.endsWith('0000000001.seg'))).toBe(false);
    expect(j.stats().preparedXa).toBe(1);
    expect(j.stats().compactions).toBeGreaterThan(0);
    await j.close();

    const b = openJournal(d, options);
    const state = await b.load();
    expect(state.prepared?.map((p) => p.xid)).toEqual([xid(1)]);
    expect(state.prepared?.[0]?.sends.map((s) => s.message.id)).toEqual(['s1.0', 's1.1']);
    expect(state.queues[0]!.messages.map((m) => m.message.id)).toEqual(['m1']);
    await b.write([forget(1), { type: 'dequeue', queue: 'queue://q', messageId: 'm1' }]);
    for (let i = 0; i < 300; i++) {
      await b.write([enqueue(`y${i}`, 400)]);
      await b.write([{ type: 'dequeue', queue: 'queue://q', messageId: `y${i}` }]);
    }
    await b.reclaim();
    expect(b.stats().preparedXa).toBe(0);
    expect(b.stats().liveMessages).toBe(0);
    // Nothing live: the journal shrank back to a few segments.
    expect(await b.diskBytes()).toBeLessThan(5 * 16 * KiB);
    await b.close();

    const c = openJournal(d, options);
    expect((await c.load()).prepared).toBeUndefined();
    await c.close();
  });

  it('reads a version 2 journal and writes XA records to a version 3 segment', async () => {
    const d = dir();
    const a = openJournal(d);
    await a.load();
    await a.write([enqueue('m1')]);
    await a.close();
    const [first] = segFiles(d);
    setHeaderVersion(first!, 2);

    const b = openJournal(d);
    const state = await b.load();
    expect(state.queues[0]!.messages.map((m) => m.message.id)).toEqual(['m1']);
    await b.write([prepare(1)]);
    await b.close();
    const files = segFiles(d);
    expect(files.map((f) => readFileSync(f).readUInt32LE(29))).toEqual([2, FORMAT_VERSION]);
    expect(FORMAT_VERSION).toBe(3);
    const c = openJournal(d);
    expect((await c.load()).prepared?.map((p) => p.xid)).toEqual([xid(1)]);
    await c.close();
  });
});

describe('core over the journal: a crash around commit', () => {
  const principal = { user: 'u', anonymous: true };
  async function boot(d: string) {
    const store = openJournal(d);
    const core = await createBrokerCore({ store });
    const conn = core.connect({ principal, protocol: 'test' });
    const got: Delivery[] = [];
    const sub = conn.subscribe(
      { address: 'queue://in', ackMode: 'individual', prefetch: 100 },
      {
        deliver: (_s, dl) => got.push(dl),
      },
    );
    const out: Delivery[] = [];
    conn.subscribe(
      { address: 'queue://out', ackMode: 'individual', prefetch: 100 },
      {
        deliver: (_s, dl) => out.push(dl),
      },
    );
    return { store, core, conn, sub, got, out };
  }

  it('a commit cut off before its batch was durable leaves the branch prepared, then commits after restart', async () => {
    const d = dir();
    const a = await boot(d);
    await a.conn.send({ address: 'queue://in', body: enc('a'), persistent: true });
    a.conn.xaStart(xid(1), 't');
    a.sub.ack(a.got[0]!.tag, 't');
    await a.conn.send({ address: 'queue://out', body: enc('o'), persistent: true }, 't');
    a.conn.xaEnd(xid(1));
    await a.conn.xaPrepare(xid(1));
    const commit = a.conn.xaCommit(xid(1), false).then(
      () => 'committed',
      (e: unknown) => e,
    );
    // Crash before the commit's batch reaches the disk.
    await a.store.abort();
    expect(await commit).toMatchObject({ code: 'CLOSED' });

    const b = await boot(d);
    expect(b.conn.xaRecover()).toEqual([xid(1)]);
    expect(b.got).toEqual([]);
    expect(b.out).toEqual([]);
    await b.conn.xaCommit(xid(1), false);
    expect(b.out.map((o) => Buffer.from(o.message.body).toString())).toEqual(['o']);
    await b.core.shutdown();
    await b.store.close();

    const c = await boot(d);
    expect(c.conn.xaRecover()).toEqual([]);
    expect(c.got).toEqual([]);
    expect(c.out.map((o) => Buffer.from(o.message.body).toString())).toEqual(['o']);
    await c.core.shutdown();
    await c.store.close();
  });
});

/** Rewrites the format version in a segment's header (and its checksum), as an older build wrote it. */
function setHeaderVersion(file: string, version: number): void {
  const buf = readFileSync(file);
  const start = 8;
  const length = buf.readUInt32LE(start + 4);
  buf.writeUInt32LE(version, start + 17 + 4);
  buf.writeUInt32LE(crc32(buf.subarray(start + 4, start + length)), start);
  writeFileSync(file, buf);
}

describe('journal codec: XA operations', () => {
  const arbBytes = (min: number) => fc.uint8Array({ minLength: min, maxLength: 64 });
  const arbXid: fc.Arbitrary<Xid> = fc.record({
    formatId: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    globalId: arbBytes(1),
    branchId: arbBytes(0),
  });
  const arbOp: fc.Arbitrary<JournalOp> = fc.oneof(
    fc.record({
      type: fc.constant('xa-prepare' as const),
      xid: arbXid,
      sends: fc.array(
        fc
          .record({ address: fc.string(), id: fc.string(), body: fc.uint8Array({ maxLength: 40 }) })
          .map((s) => ({ address: s.address, message: { ...msg(s.id), body: s.body } })),
        { maxLength: 4 },
      ),
      acks: fc.array(fc.record({ queue: fc.string(), messageId: fc.string() }), { maxLength: 4 }),
    }),
    fc.record({ type: fc.constant('xa-forget' as const), xid: arbXid }),
  );
  const encodeAll = (op: JournalOp) => {
    const w = new ByteWriter(8);
    encodeOp(w, op);
    return Buffer.from(w.view());
  };

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(arbOp, (op) => {
        const buf = encodeAll(op);
        const r = new ByteReader(buf);
        expect(decodeOp(r)).toEqual(op);
        expect(r.remaining).toBe(0);
      }),
    );
  });

  it('a truncated XA operation fails with JournalDecodeError, never anything else', () => {
    fc.assert(
      fc.property(arbOp, fc.nat(), (op, cut) => {
        const buf = encodeAll(op);
        const prefix = buf.subarray(0, cut % buf.length);
        expect(() => decodeOp(new ByteReader(prefix))).toThrow(JournalDecodeError);
      }),
    );
  });

  it('refuses a huge send count before allocating', () => {
    const w = new ByteWriter(8);
    w.u8(9);
    w.u32(1);
    w.bytes(enc('g'));
    w.bytes(enc('b'));
    w.varuint(1_000_000);
    expect(() => decodeOp(new ByteReader(Buffer.from(w.view())))).toThrow(/count .* too large/);
  });
});

describe('MemoryStore: prepared XA branches', () => {
  it('keeps, replaces and forgets them like the journal', async () => {
    const s = new MemoryStore();
    expect((await s.load()).prepared).toBeUndefined();
    await s.write([enqueue('m1'), prepare(1), prepare(2)]);
    await s.write([prepare(1, [], 0), forget(2), forget(3)]);
    const state = await s.load();
    expect(state.prepared).toEqual([{ xid: xid(1), sends: [], acks: [] }]);
    expect(s.opCounts['xa-prepare']).toBe(3);
    expect(s.opCounts['xa-forget']).toBe(2);
  });
});
