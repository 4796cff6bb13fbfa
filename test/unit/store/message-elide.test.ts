/**
 * Messages enqueued and dequeued within one group are never written (journal.ts `cancelEnqueue`): the
 * group is atomic, so a recovery sees the same queues either way. Checked here: what is written,
 * paging reads of records that moved when the cancelled ones were cut out, and recovery after a crash
 * at any point against a model of what was acknowledged.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/core/message.js';
import type { RecoveredState, StoreOp } from '../../../src/core/store.js';
import { msg, openJournal, tempDirs } from './helpers.js';

const dir = tempDirs();

const Q = 'queue://q';
const enq = (id: string, size = 100): StoreOp => ({ type: 'enqueue', queue: Q, message: msg(id, Q, size) });
const deq = (id: string): StoreOp => ({ type: 'dequeue', queue: Q, messageId: id });
const idsOf = (state: RecoveredState) =>
  state.queues.find((q) => q.queue === Q)?.messages.map((m) => m.message.id) ?? [];

describe('journal: messages cancelled within a group', () => {
  it('writes neither the enqueue nor the dequeue of a message consumed in its own group', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    await Promise.all([j.write([enq('a'), enq('b')]), j.write([deq('a')])]);
    const s = j.stats();
    expect(s.messagesElided).toBe(1);
    expect(s.ops).toBe(1);
    expect(s.liveMessages).toBe(1);
    await j.close();
    const again = openJournal(d);
    expect(idsOf(await again.load())).toEqual(['b']);
    await again.close();
  });

  it('writes both when the dequeue comes in a later group', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    await j.write([enq('a')]);
    await j.write([deq('a')]);
    expect(j.stats().messagesElided).toBe(0);
    expect(j.stats().ops).toBe(2);
    await j.close();
    const again = openJournal(d);
    expect(idsOf(await again.load())).toEqual([]);
    await again.close();
  });

  it('keeps an enqueue that replaced an earlier copy: cancelling it would bring the copy back', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    await j.write([enq('a')]);
    await Promise.all([j.write([enq('a')]), j.write([deq('a')])]);
    expect(j.stats().messagesElided).toBe(0);
    await Promise.all([j.write([enq('b'), enq('b')]), j.write([deq('b')])]);
    expect(j.stats().messagesElided).toBe(0);
    await j.close();
    const again = openJournal(d);
    expect(idsOf(await again.load())).toEqual([]);
    await again.close();
  });

  it('reads back the records around cancelled ones, before and after the group is written', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    const body = (id: string) => msg(id, Q, 50 + id.charCodeAt(1));
    const ids = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
    const first = j.write(ids.map((id) => ({ type: 'enqueue', queue: Q, message: body(id) }) as StoreOp));
    const second = j.write([
      deq('m2'),
      deq('m5'),
      { type: 'delivery-count', queue: Q, messageId: 'm4', deliveryCount: 2 },
    ]);
    const live = ['m1', 'm3', 'm4', 'm6'];
    const want: Message[] = live.map(body);
    // Still in the group being filled: read from its buffer.
    expect(j.readSync(Q, live)).toEqual(want);
    await Promise.all([first, second]);
    expect(j.stats().messagesElided).toBe(2);
    // Written with the cancelled records cut out: the offsets moved.
    expect(j.readSync(Q, live)).toEqual(want);
    expect(await j.read(Q, live)).toEqual(want);
    expect(await j.read(Q, ['m2', 'm5'])).toEqual([undefined, undefined]);
    await j.close();
    const again = openJournal(d, { recoverBodyBytes: 0 });
    const state = await again.load();
    expect(idsOf(state)).toEqual(live);
    expect(state.queues[0]!.messages.find((m) => m.message.id === 'm4')!.deliveryCount).toBe(2);
    expect(await again.read(Q, live)).toEqual(want);
    await again.close();
  });

  it('recovers exactly the acknowledged queue after a crash at any point (model check)', async () => {
    const step = fc.record({
      ops: fc.array(
        fc.oneof(
          fc.record({ t: fc.constant('enq' as const), size: fc.integer({ min: 0, max: 400 }) }),
          fc.record({ t: fc.constant('deq' as const), pick: fc.nat() }),
          fc.record({ t: fc.constant('dc' as const), pick: fc.nat() }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      wait: fc.boolean(),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), fc.nat(), async (steps, crash) => {
        const d = join(dir(), `run${run++}`);
        // Small segments and eager compaction: cuts must also hold across rotations and relocations.
        const options = { segmentSize: 4096, compactMinBytes: 4096, compactStepBytes: 1024 };
        const j = openJournal(d, options);
        await j.load();
        const live: string[] = [];
        const after: string[][] = [];
        const acked: boolean[] = [];
        const crashAt = crash % (steps.length + 1);
        let n = 0;
        for (let i = 0; i < crashAt; i++) {
          const ops: StoreOp[] = [];
          for (const o of steps[i]!.ops) {
            if (o.t === 'enq') {
              const id = `m${++n}`;
              ops.push(enq(id, o.size));
              live.push(id);
            } else if (live.length > 0) {
              const id = live[o.pick % live.length]!;
              if (o.t === 'deq') {
                ops.push(deq(id));
                live.splice(live.indexOf(id), 1);
              } else ops.push({ type: 'delivery-count', queue: Q, messageId: id, deliveryCount: 1 });
            }
          }
          after.push([...live]);
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
        const again = openJournal(d, options);
        const state = await again.load();
        const want = last < 0 ? [] : after[last]!;
        expect(idsOf(state)).toEqual(want);
        // Every recovered message reads back whole from where the index says it is.
        const bodies = await again.read(Q, want);
        expect(bodies.map((m) => m?.id)).toEqual(want);
        await again.close();
      }),
      { numRuns: 40 },
    );
  });
});
