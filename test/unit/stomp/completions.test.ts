import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CompletionSink,
  OrderedCompletions,
  type Outcome,
} from '../../../src/protocol/stomp/completions.js';
import { deferred as deferredOf } from '../../helpers/deferred.js';

function recorder() {
  const events: string[] = [];
  const sink: CompletionSink = {
    receipt: (id) => events.push(`R${id}`),
    error: (_e, o) => events.push(`E${o.receipt}`),
    progressed: () => {},
  };
  return { events, sink };
}

const outcome = (i: number): Outcome => ({ receipt: String(i), command: 'SEND' });

const deferred = () => deferredOf({ handled: true });

const tick = () => new Promise((r) => setImmediate(r));

describe('OrderedCompletions', () => {
  it('reports in frame order whatever order the operations finish in, sharing promises', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Each operation: which promise it waits on (several share one), or -1 for already done.
        fc.array(fc.integer({ min: -1, max: 5 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(5), { maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        async (ops, order, fails) => {
          const { events, sink } = recorder();
          const c = new OrderedCompletions(sink);
          const ds = Array.from({ length: 6 }, deferred);
          ops.forEach((p, i) => {
            if (p < 0) c.succeeded(outcome(i));
            else c.track(ds[p]!.promise, outcome(i));
          });
          const settleOrder = [...new Set([...order, 0, 1, 2, 3, 4, 5])];
          for (const k of settleOrder) {
            if (fails[k]) ds[k]!.reject(new Error('x'));
            else ds[k]!.resolve();
            await tick();
          }
          // Expected: every frame in order, each a receipt or the error of the promise it waited on.
          const expected = ops.map((p, i) => (p >= 0 && fails[p] ? `E${i}` : `R${i}`));
          expect(events).toEqual(expected);
          expect(c.pending).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds a finished operation until every earlier one is done', async () => {
    const { events, sink } = recorder();
    const c = new OrderedCompletions(sink);
    const a = deferred();
    const b = deferred();
    c.track(a.promise, outcome(0));
    c.track(b.promise, outcome(1));
    c.track(b.promise, outcome(2));
    b.resolve();
    await tick();
    expect(events).toEqual([]);
    expect(c.pending).toBe(3);
    a.resolve();
    await tick();
    expect(events).toEqual(['R0', 'R1', 'R2']);
  });

  it('reports nothing after stop', async () => {
    const { events, sink } = recorder();
    const c = new OrderedCompletions(sink);
    const a = deferred();
    c.track(a.promise, outcome(0));
    c.stop();
    a.resolve();
    await tick();
    expect(events).toEqual([]);
  });
});
