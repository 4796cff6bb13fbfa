import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deque } from '../../../src/core/deque.js';
import { PriorityList, QueueEntry } from '../../../src/core/entry-list.js';
import type { Message } from '../../../src/core/message.js';

function entry(seq: number, priority: number): QueueEntry {
  const message = { id: String(seq), priority } as unknown as Message;
  return new QueueEntry(message, seq, 0, false, false);
}

describe('Deque', () => {
  it('behaves like an array used as a double-ended queue', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('push', 'unshift', 'shift'), fc.integer())), (ops) => {
        const d = new Deque<number>(2);
        const model: number[] = [];
        for (const [op, v] of ops) {
          if (op === 'push') {
            d.push(v);
            model.push(v);
          } else if (op === 'unshift') {
            d.unshift(v);
            model.unshift(v);
          } else {
            expect(d.shift()).toBe(model.shift());
          }
          expect(d.length).toBe(model.length);
          expect(d.peek()).toBe(model[0]);
        }
        expect([...d]).toEqual(model);
        d.filter((x) => x % 2 === 0);
        expect([...d]).toEqual(model.filter((x) => x % 2 === 0));
      }),
    );
  });
});

describe('PriorityList', () => {
  it('yields highest priority first, then seq order, through removes and ordered re-inserts', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.boolean(), fc.boolean())), (specs) => {
        const list = new PriorityList();
        const entries = specs.map(([p], i) => entry(i, p));
        for (const e of entries) list.push(e);
        // Remove some, re-insert some of those in arbitrary (reverse) order.
        const removed = entries.filter((_, i) => specs[i]![1]);
        for (const e of removed) list.remove(e);
        const back = removed.filter((_, i) => specs[i]?.[2]).reverse();
        for (const e of back) list.insertOrdered(e);
        const live = entries.filter((e) => !removed.includes(e) || back.includes(e));
        const expected = [...live].sort((a, b) => b.message.priority - a.message.priority || a.seq - b.seq);
        expect([...list].map((e) => e.seq)).toEqual(expected.map((e) => e.seq));
        expect(list.length).toBe(live.length);
        expect(list.first()?.seq).toBe(expected[0]?.seq);
      }),
    );
  });
});
