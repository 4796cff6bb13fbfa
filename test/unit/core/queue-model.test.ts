import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Subscription } from '../../../src/core/index.js';
import { bytes, harness, type Recorder, text } from './helpers.js';

type Op =
  | { t: 'send'; priority: number; group: number | null; color: number }
  | { t: 'subscribe'; prefetch: number; selector: boolean; mode: 'individual' | 'cumulative' | 'auto' }
  | { t: 'ack' | 'nack' | 'close' | 'pause' | 'resume'; pick: number }
  | { t: 'turn' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant('send' as const),
      priority: fc.integer({ min: 0, max: 9 }),
      group: fc.option(fc.integer({ min: 0, max: 2 })),
      color: fc.integer({ min: 0, max: 1 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('subscribe' as const),
      prefetch: fc.integer({ min: 1, max: 4 }),
      selector: fc.boolean(),
      mode: fc.constantFrom('individual' as const, 'cumulative' as const, 'auto' as const),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constantFrom('ack' as const, 'nack' as const), pick: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constantFrom('close' as const, 'pause' as const, 'resume' as const),
      pick: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'turn' as const }) },
);

/**
 * Whatever the interleaving of consumers, selectors, groups, prefetch, acks, nacks and closes: every
 * message sent is eventually consumed exactly once, nothing is invented, and no consumer ever holds
 * more unacknowledged deliveries than its prefetch.
 */
describe('queue model', () => {
  it('consumes every message exactly once and respects prefetch', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), async (ops) => {
        const h = await harness({ policy: { maxRedeliveries: -1 } });
        const c = h.connect();
        const subs: Array<{
          sub: Subscription;
          rec: Recorder;
          prefetch: number;
          mode: string;
          acked: number;
        }> = [];
        const consumed: string[] = [];
        const unacked = new Map<Subscription, Map<number, string>>();
        let n = 0;
        const live = () => subs.filter((s) => !(s.sub as unknown as { closed: boolean }).closed);
        const track = (s: (typeof subs)[number]) => {
          s.rec.onDeliver = (_sub, d) => {
            if (s.mode === 'auto') consumed.push(text(d.message));
            else unacked.get(s.sub)!.set(d.tag, text(d.message));
            expect(unacked.get(s.sub)!.size).toBeLessThanOrEqual(s.prefetch);
          };
        };
        for (const op of ops) {
          if (op.t === 'send') {
            await c.send({
              address: 'queue://q',
              body: bytes(String(n++)),
              priority: op.priority,
              groupId: op.group === null ? undefined : `g${op.group}`,
              properties: { color: op.color },
            });
          } else if (op.t === 'subscribe') {
            const s = h.sub(c, {
              address: 'queue://q',
              prefetch: op.prefetch,
              ackMode: op.mode,
              selector: op.selector ? 'color = 1' : undefined,
            });
            const entry = { ...s, prefetch: op.prefetch, mode: op.mode, acked: 0 };
            unacked.set(s.sub, new Map());
            // Deliveries made during subscribe() happened before the hook: replay them.
            for (const d of s.rec.deliveries) {
              if (op.mode === 'auto') consumed.push(text(d.message));
              else unacked.get(s.sub)!.set(d.tag, text(d.message));
            }
            track(entry);
            subs.push(entry);
          } else if (op.t === 'turn') {
            h.time.runDeferred(1);
          } else {
            const ls = live();
            if (ls.length === 0) continue;
            const s = ls[op.pick % ls.length]!;
            const pending = unacked.get(s.sub)!;
            if (op.t === 'close') {
              s.sub.close();
              pending.clear();
            } else if (op.t === 'pause') s.sub.pause();
            else if (op.t === 'resume') s.sub.resume();
            else if (pending.size > 0) {
              const tags = [...pending.keys()];
              const tag = tags[op.pick % tags.length]!;
              const covered = s.mode === 'cumulative' ? tags.filter((t) => t <= tag) : [tag];
              const bodies = covered.map((t) => pending.get(t)!);
              for (const t of covered) pending.delete(t);
              if (op.t === 'ack') consumed.push(...bodies);
              if (op.t === 'ack') s.sub.ack(tag);
              else s.sub.nack(tag);
            }
          }
        }
        // Drain: close everything, then one greedy consumer acks all.
        for (const s of live()) s.sub.close();
        const final = h.sub(c, { address: 'queue://q', prefetch: 1_000_000 });
        for (const d of final.rec.deliveries) {
          consumed.push(text(d.message));
          final.sub.ack(d.tag);
        }
        expect(consumed.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(h.core.stats().queues[0]?.depth ?? 0).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
