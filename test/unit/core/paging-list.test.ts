/**
 * The paging bookkeeping of PriorityList (core/entry-list.ts): whatever links, unlinks, pages out or
 * pages in its entries, its counters and its resident list match the entries.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PriorityList, QueueEntry } from '../../../src/core/entry-list.js';
import type { Message } from '../../../src/core/message.js';
import { stubOf } from '../../../src/core/paging.js';

function message(i: number, priority: number, size: number): Message {
  return {
    id: `m${i}`,
    address: 'queue://q',
    body: new Uint8Array(size),
    properties: {},
    persistent: true,
    priority,
    expiration: 0,
    timestamp: 0,
  };
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('reinsert' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('pageOut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('pageIn' as const), at: fc.nat() }),
);

describe('PriorityList paging bookkeeping', () => {
  it('keeps paged, residentBytes and the resident list right through any sequence', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 500 }), fc.boolean()), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(op, { maxLength: 80 }),
        (specs, ops) => {
          const shared = { residentBytes: 0 };
          const list = new PriorityList(shared);
          const full = specs.map(([p, size], i) => message(i, p, size));
          const entries = specs.map(([, , stored], i) => new QueueEntry(full[i]!, i, 0, false, stored));
          for (const e of entries) list.push(e);
          for (const o of ops) {
            const e = entries[o.at % entries.length]!;
            if (o.kind === 'remove') list.remove(e);
            else if (o.kind === 'reinsert' && !e.linked) list.insertOrdered(e);
            else if (o.kind === 'pageOut') list.pageOut(e, stubOf(e.message));
            else if (o.kind === 'pageIn') list.pageIn(e, full[e.seq]!);
          }
          const linked = entries.filter((e) => e.linked);
          expect(list.length).toBe(linked.length);
          expect(list.paged).toBe(linked.filter((e) => e.paged).length);
          const resident = linked.filter((e) => !e.paged && e.stored);
          const bytes = resident.reduce((n, e) => n + e.message.body.byteLength, 0);
          expect(list.residentBytes).toBe(bytes);
          expect(shared.residentBytes).toBe(bytes);
          const walked: QueueEntry[] = [];
          for (let e = list.residentTail(); e !== undefined; e = e.rPrev) walked.push(e);
          expect(new Set(walked)).toEqual(new Set(resident));
          expect(walked.length).toBe(resident.length);
          for (const e of entries) {
            expect(e.bodyBytes).toBe(full[e.seq]!.body.byteLength);
            if (e.paged) expect(e.message.body.byteLength).toBe(0);
          }
          list.clear();
          expect(shared.residentBytes).toBe(0);
          expect(list.residentTail()).toBeUndefined();
        },
      ),
    );
  });
});
