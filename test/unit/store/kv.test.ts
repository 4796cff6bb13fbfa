/**
 * Key/value records in the journal (format version 2): recovery, atomicity with messages, space
 * reclaim (a replaced or deleted record must never come back), and reading version 1 journals.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KvEntry, StoreOp } from '../../../src/core/store.js';
import { verifyJournal } from '../../../src/store/journal/index.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { isBlazeError } from '../../../src/util/errors.js';
import { msg, openJournal, tempDirs } from './helpers.js';

const dir = tempDirs();
const segFiles = (d: string) =>
  readdirSync(join(d, 'journal'))
    .filter((f) => f.endsWith('.seg'))
    .sort()
    .map((f) => join(d, 'journal', f));

const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const put = (key: string, value: string, namespace = 'ns'): StoreOp => ({
  type: 'kv-put',
  namespace,
  key,
  value: bytes(value),
});
const del = (key: string, namespace = 'ns'): StoreOp => ({ type: 'kv-delete', namespace, key });

/** Recovered records as sorted `namespace/key=value` strings. */
const kvOf = (entries: readonly KvEntry[] | undefined) =>
  (entries ?? []).map((e) => `${e.namespace}/${e.key}=${Buffer.from(e.value).toString()}`).sort();

/** Rewrites the format version in a segment's header (and its checksum), as an older build wrote it. */
function setHeaderVersion(file: string, version: number): void {
  const buf = readFileSync(file);
  const start = 8;
  const length = buf.readUInt32LE(start + 4);
  buf.writeUInt32LE(version, start + 17 + 4);
  buf.writeUInt32LE(crc32(buf.subarray(start + 4, start + length)), start);
  writeFileSync(file, buf);
}

describe('journal key/value records', () => {
  it('recovers puts, replacements and deletes per namespace', async () => {
    const d = dir();
    const a = openJournal(d);
    await a.load();
    await a.write([put('a', '1'), put('b', '1'), put('a', '1', 'other')]);
    await a.write([put('a', '2'), del('b'), del('never')]);
    await a.write([put('c', ''), del('a', 'other')]);
    expect(a.stats().liveKv).toBe(2);
    await a.close();
    const b = openJournal(d);
    const state = await b.load();
    expect(kvOf(state.kv)).toEqual(['ns/a=2', 'ns/c=']);
    expect((await verifyJournal(join(d, 'journal'))).kv).toBe(2);
    await b.close();
  });

  it('commits a record and a message of one write together: a crash before the sync keeps neither', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    await j.write([put('id:7', 'x')]);
    const lost = j
      .write([{ type: 'enqueue', queue: 'queue://q', message: msg('m') }, del('id:7'), put('id:8', 'y')])
      .then(
        () => 'durable',
        (e: unknown) => e,
      );
    await j.abort();
    expect(isBlazeError(await lost)).toBe(true);
    const again = openJournal(d);
    const state = await again.load();
    expect(kvOf(state.kv)).toEqual(['ns/id:7=x']);
    expect(state.queues).toEqual([]);
    await again.close();
  });

  it('reclaims replaced and deleted records without ever bringing one back (model check)', async () => {
    // Small segments, eager compaction: rotation, deletion and relocation of records all happen.
    const options = { segmentSize: 2048, compactMinBytes: 4096, compactStepBytes: 512 };
    const op = fc.oneof(
      fc.record({
        t: fc.constant('put' as const),
        k: fc.integer({ min: 0, max: 7 }),
        size: fc.integer({ min: 0, max: 300 }),
      }),
      fc.record({ t: fc.constant('del' as const), k: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ t: fc.constant('msg' as const), k: fc.integer({ min: 0, max: 7 }) }),
      fc.constant({ t: 'restart' as const }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 120 }), async (ops) => {
        const d = join(dir(), `run${run++}`);
        const model = new Map<string, string>();
        let j = openJournal(d, options);
        await j.load();
        let n = 0;
        let pending: Promise<void>[] = [];
        for (const o of ops) {
          if (o.t === 'restart') {
            await Promise.all(pending);
            pending = [];
            await j.reclaim();
            await j.close();
            j = openJournal(d, options);
            expect(kvOf((await j.load()).kv)).toEqual([...model].map(([k, v]) => `ns/${k}=${v}`).sort());
            continue;
          }
          const key = `k${o.k}`;
          if (o.t === 'put') {
            const value = `${++n}:${'v'.repeat(o.size)}`;
            model.set(key, value);
            pending.push(j.write([put(key, value)]));
          } else if (o.t === 'del') {
            model.delete(key);
            pending.push(j.write([del(key)]));
          } else {
            // Messages in between, so that segments hold a mix and dequeues cancel across segments.
            const id = `m${++n}`;
            pending.push(
              j.write([{ type: 'enqueue', queue: 'queue://q', message: msg(id, 'queue://q', 200) }]),
            );
            pending.push(j.write([{ type: 'dequeue', queue: 'queue://q', messageId: id }]));
          }
        }
        await Promise.all(pending);
        await j.reclaim();
        await j.close();
        const last = openJournal(d, options);
        const state = await last.load();
        expect(kvOf(state.kv)).toEqual([...model].map(([k, v]) => `ns/${k}=${v}`).sort());
        expect(state.queues).toEqual([]);
        await last.close();
      }),
      { numRuns: 12 },
    );
  });

  it('never deletes the segment of a replacement while the record it replaced is still on disk', async () => {
    const d = dir();
    // No compaction: only deletion of dead segments, which must respect what cancels what.
    const options = { segmentSize: 1024, compactMinBytes: 1e12 };
    const j = openJournal(d, options);
    await j.load();
    let n = 0;
    const fill = async () => {
      // Enough dead bytes to rotate to a new segment; each filler dies in its own group, so that
      // fillers make no segment depend on another. (Not a message: a dequeue in the group of its
      // enqueue cancels both, and nothing would be written.)
      for (let i = 0; i < 3; i++) {
        const queue = `durable://f/${++n}`;
        await j.write([
          {
            type: 'durable-add',
            record: {
              queue,
              clientId: 'f',
              name: `${n}`,
              address: 'topic://f',
              noLocal: false,
              selector: 'x'.repeat(400),
            },
          },
          { type: 'durable-remove', queue },
        ]);
      }
    };
    // Segment 1 stays alive (a pending message) and holds the first value.
    await j.write([put('a', 'first'), { type: 'enqueue', queue: 'queue://pin', message: msg('pin') }]);
    await fill();
    await j.write([put('a', 'second')]);
    await fill();
    await j.write([del('a')]);
    await fill();
    await fill();
    await j.reclaim();
    expect(j.stats().segmentsDeleted).toBeGreaterThan(0);
    await j.close();
    const again = openJournal(d, options);
    expect((await again.load()).kv).toEqual([]);
    await again.close();
  });

  it('keeps disk use bounded while one record is rewritten many times', async () => {
    const d = dir();
    const options = { segmentSize: 4096, compactMinBytes: 8192, compactStepBytes: 1024 };
    const j = openJournal(d, options);
    await j.load();
    await j.write([put('pinned', 'first')]);
    for (let i = 0; i < 400; i++) await j.write([put('hot', `${i}:${'x'.repeat(100)}`)]);
    await j.reclaim();
    expect(j.stats().segmentsDeleted).toBeGreaterThan(5);
    expect(await j.diskBytes()).toBeLessThan(6 * 4096);
    await j.close();
    const again = openJournal(d, options);
    expect(kvOf((await again.load()).kv)).toEqual([`ns/hot=399:${'x'.repeat(100)}`, 'ns/pinned=first']);
    await again.close();
  });
});

describe('journal format versions', () => {
  it('reads a version 1 journal and continues in a new segment of the current version', async () => {
    const d = dir();
    const a = openJournal(d);
    await a.load();
    await a.write([{ type: 'enqueue', queue: 'queue://q', message: msg('old') }]);
    await a.close();
    const [first] = segFiles(d);
    setHeaderVersion(first!, 1);

    const b = openJournal(d);
    const state = await b.load();
    expect(state.queues[0]!.messages.map((m) => m.message.id)).toEqual(['old']);
    await b.write([put('k', 'v')]);
    await b.close();
    // The version 1 segment was sealed untouched: the record went to a segment of the current version (3).
    const files = segFiles(d);
    expect(files).toHaveLength(2);
    expect(readFileSync(files[0]!).readUInt32LE(29)).toBe(1);
    expect(readFileSync(files[1]!).readUInt32LE(29)).toBe(3);
    const report = await verifyJournal(join(d, 'journal'));
    expect(report.ok).toBe(true);
    expect(report.issues).toEqual([]);
    const c = openJournal(d);
    const again = await c.load();
    expect(kvOf(again.kv)).toEqual(['ns/k=v']);
    expect(again.queues[0]!.messages.map((m) => m.message.id)).toEqual(['old']);
    await c.close();
  });

  it('refuses a segment from a newer format by name, changing nothing', async () => {
    const d = dir();
    const a = openJournal(d, { segmentSize: 1024, reclaim: false });
    await a.load();
    for (let i = 0; i < 10; i++) await a.write([put(`k${i}`, 'x'.repeat(100))]);
    await a.close();
    const files = segFiles(d);
    expect(files.length).toBeGreaterThan(1);
    setHeaderVersion(files[0]!, 4);
    const before = readFileSync(files[0]!);
    const b = openJournal(d);
    const err = await b.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBlazeError(err) && err.code).toBe('STORE');
    expect(String((err as Error).message)).toMatch(/unsupported format version 4/);
    expect(readFileSync(files[0]!)).toEqual(before);
  });
});

describe('MemoryStore key/value records', () => {
  it('applies and recovers them like the journal', async () => {
    const s = new MemoryStore();
    await s.write([put('a', '1'), put('b', '1'), put('x', '1', 'other')]);
    await s.write([put('a', '2'), del('b'), del('x', 'other'), del('never')]);
    expect(kvOf((await s.load()).kv)).toEqual(['ns/a=2']);
    expect(s.opCounts['kv-put']).toBe(4);
    expect(s.opCounts['kv-delete']).toBe(3);
  });
});
