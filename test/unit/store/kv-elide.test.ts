/**
 * Key/value operations held back until their group is sealed (journal.ts `deferKv`): within one group
 * only the last operation of a key is written, and a put deleted in the same group is not written at
 * all. Nothing a recovery can see may change: these tests check the records read back after clean
 * restarts and after crashes (`abort`) against a model of what was acknowledged.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KvEntry, StoreOp } from '../../../src/core/store.js';
import type { JournalStore } from '../../../src/store/journal/index.js';
import { msg, openJournal, tempDirs } from './helpers.js';

const dir = tempDirs();

const put = (key: string, value: string): StoreOp => ({
  type: 'kv-put',
  namespace: 'ns',
  key,
  value: new Uint8Array(Buffer.from(value)),
});
const del = (key: string): StoreOp => ({ type: 'kv-delete', namespace: 'ns', key });
const kvOf = (entries: readonly KvEntry[] | undefined) =>
  (entries ?? []).map((e) => `${e.key}=${Buffer.from(e.value).toString()}`).sort();

async function reopen(d: string, j: JournalStore): Promise<string[]> {
  await j.close();
  const again = openJournal(d);
  const state = await again.load();
  await again.close();
  return kvOf(state.kv);
}

describe('journal: key/value operations cancelled within a group', () => {
  it('writes nothing for a put and its delete in one group, messages of the group still written', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    // Separate write() calls of one turn share the group, as the core's batches do.
    const a = j.write([put('o:1', 'm1'), { type: 'enqueue', queue: 'queue://q', message: msg('m1') }]);
    const b = j.write([del('o:1')]);
    await Promise.all([a, b]);
    const s = j.stats();
    expect(s.ops).toBe(1);
    expect(s.kvElided).toBe(2);
    expect(s.liveKv).toBe(0);
    expect(await reopen(d, j)).toEqual([]);
  });

  it('writes the delete when the put is in an earlier group', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    await j.write([put('o:1', 'old')]);
    await Promise.all([j.write([put('o:1', 'new')]), j.write([del('o:1')])]);
    // The new put is cancelled; the delete must still remove the old one from the disk.
    expect(j.stats().ops).toBe(2);
    expect(j.stats().liveKv).toBe(0);
    expect(await reopen(d, j)).toEqual([]);
  });

  it('keeps only the last put of a key, and a put after a delete', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    await j.write([put('a', '0')]);
    await Promise.all([
      j.write([put('a', '1'), put('b', '1')]),
      j.write([put('a', '2'), del('a'), put('a', '3')]),
      j.write([put('b', '2'), del('c')]),
    ]);
    expect(j.stats().kvElided).toBe(5);
    expect(await reopen(d, j)).toEqual(['a=3', 'b=2']);
  });

  it('keeps a packet id reused in one group: put, delete, put again', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    await Promise.all([j.write([put('o:1', 'm1')]), j.write([del('o:1')]), j.write([put('o:1', 'm2')])]);
    expect(await reopen(d, j)).toEqual(['o:1=m2']);
  });

  it('recovers exactly what was acknowledged after a crash at any point (model check)', async () => {
    // Each step is one write() of a few operations; some steps wait for their write, which closes the
    // group, so that puts and deletes of a key land in the same group or in different ones.
    const step = fc.record({
      ops: fc.array(fc.record({ del: fc.boolean(), k: fc.integer({ min: 0, max: 3 }), msg: fc.boolean() }), {
        minLength: 1,
        maxLength: 3,
      }),
      wait: fc.boolean(),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 30 }),
        fc.nat(),
        async (steps, crashAfter) => {
          const d = join(dir(), `run${run++}`);
          const options = { segmentSize: 4096, compactMinBytes: 4096, compactStepBytes: 512 };
          const j = openJournal(d, options);
          await j.load();
          // The model after each write, and which writes were acknowledged.
          const model = new Map<string, string>();
          const after: string[][] = [];
          const acked: boolean[] = [];
          const crashAt = crashAfter % (steps.length + 1);
          let n = 0;
          for (let i = 0; i < steps.length; i++) {
            if (i === crashAt) break;
            const ops: StoreOp[] = [];
            for (const o of steps[i]!.ops) {
              const key = `k${o.k}`;
              if (o.del) {
                ops.push(del(key));
                model.delete(key);
              } else {
                const value = `${++n}`;
                ops.push(put(key, value));
                model.set(key, value);
              }
              if (o.msg) {
                const id = `m${++n}`;
                ops.push({ type: 'enqueue', queue: 'queue://q', message: msg(id, 'queue://q', 300) });
                ops.push({ type: 'dequeue', queue: 'queue://q', messageId: id });
              }
            }
            after.push([...model].map(([k, v]) => `${k}=${v}`).sort());
            const k = acked.length;
            acked.push(false);
            const p = j.write(ops).then(
              () => {
                acked[k] = true;
              },
              () => {},
            );
            if (steps[i]!.wait) await p;
          }
          await j.abort();
          const last = acked.lastIndexOf(true);
          // Writes settle in order: every write before an acknowledged one was acknowledged too.
          expect(acked.slice(0, last + 1).every(Boolean)).toBe(true);
          const again = openJournal(d, options);
          const state = await again.load();
          await again.close();
          expect(kvOf(state.kv)).toEqual(last < 0 ? [] : after[last]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
