import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MESSAGE_OVERHEAD } from '../../../src/core/memory.js';
import { ACCEPTED } from '../../../src/core/store-writer.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { bytes, harness, sendAll } from './helpers.js';

/** Bytes one message with a body of `n` bytes counts for. */
const cost = (n: number) => n + MESSAGE_OVERHEAD;
const body = (n: number, fill = 'x') => bytes(fill.repeat(n));

/** Resolves to true if `p` settled within the current microtask queue drain. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe('memory accounting', () => {
  it('counts queue messages until they are acked, globally and per queue', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://q', ['a', 'bb']);
    expect(h.core.stats().memory.used).toBe(cost(1) + cost(2));
    expect(h.core.stats().queues[0]!.memoryBytes).toBe(cost(1) + cost(2));
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    expect(h.core.stats().memory.used).toBe(cost(1) + cost(2)); // in flight still counts
    sub.ack(rec.deliveries[0]!.tag);
    expect(h.core.stats().memory.used).toBe(cost(2));
    sub.close(); // the unacked one goes back to the queue: still held
    expect(h.core.stats().memory.used).toBe(cost(2));
    const auto = h.sub(c, { address: 'queue://q', ackMode: 'auto' });
    expect(auto.rec.texts()).toEqual(['bb']);
    expect(h.core.stats().memory.used).toBe(0);
    expect(h.core.stats().memory.peak).toBe(cost(1) + cost(2));
  });

  it('releases expired, dead-lettered and dropped-with-the-durable messages', async () => {
    const h = await harness({ policy: { maxRedeliveries: 0, expiredMessages: 'drop' } });
    const c = h.connect('client');
    await c.send({ address: 'queue://q', body: body(10), expiration: h.time.now() + 10 });
    h.time.advance(20);
    h.core.sweepExpired();
    expect(h.core.stats().memory.used).toBe(0);
    await c.send({ address: 'queue://q', body: body(10) });
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    sub.nack(rec.last.tag); // past maxRedeliveries 0: to the DLQ, which now holds it
    expect(h.core.stats().memory.used).toBe(cost(10));
    expect(h.core.stats().queues.find((q) => q.address === 'queue://DLQ.q')!.memoryBytes).toBe(cost(10));
    const d = h.sub(c, { address: 'topic://t', durableName: 'd' });
    d.sub.close();
    await c.send({ address: 'topic://t', body: body(5) });
    expect(h.core.stats().memory.used).toBe(cost(10) + cost(5));
    c.unsubscribeDurable('d');
    expect(h.core.stats().memory.used).toBe(cost(10));
  });

  it('counts topic buffers and forgets them when the subscription closes', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub } = h.sub(c, { address: 'topic://t' });
    sub.pause();
    await sendAll(c, 'topic://t', ['1', '22']);
    expect(h.core.stats().memory.used).toBe(cost(1) + cost(2));
    sub.close();
    expect(h.core.stats().memory.used).toBe(0);
  });
});

describe('producer flow control', () => {
  it('a send that fills a queue past its memory limit resolves only once the queue drains', async () => {
    const h = await harness({ policy: { memoryLimit: cost(100) * 4 } });
    const c = h.connect();
    const sends = [];
    for (let i = 0; i < 6; i++) sends.push(c.send({ address: 'queue://q', body: body(100) }));
    // Accepted up to the limit; the 5th and 6th went over: their producers wait.
    expect(sends.slice(0, 4).every((p) => p === ACCEPTED)).toBe(true);
    expect(await settled(sends[4]!)).toBe(false);
    expect(await settled(sends[5]!)).toBe(false);
    expect(h.core.stats().queues[0]!.blocked).toBe(true);
    // Nothing is lost meanwhile: all six are queued.
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    expect(rec.deliveries).toHaveLength(6);
    sub.ack(rec.deliveries[0]!.tag); // 5 left: still above 90 % of the limit (3.6 messages)
    expect(await settled(sends[4]!)).toBe(false);
    sub.ack(rec.deliveries[1]!.tag);
    sub.ack(rec.deliveries[2]!.tag); // 3 left: below the resume mark
    expect(await settled(sends[4]!)).toBe(true);
    expect(await settled(sends[5]!)).toBe(true);
    expect(h.core.stats().queues[0]!.blocked).toBe(false);
  });

  it('the global limit blocks producers of every queue, not topic producers', async () => {
    const h = await harness({ policy: { globalMemoryLimit: cost(10) * 3 } });
    const c = h.connect();
    await sendAll(c, 'queue://a', ['0123456789', '0123456789']);
    await c.send({ address: 'queue://b', body: body(10) });
    const over = c.send({ address: 'queue://b', body: body(10) });
    expect(await settled(over)).toBe(false);
    expect(h.core.stats().memory.blocked).toBe(true);
    const other = c.send({ address: 'queue://c', body: body(1) });
    expect(await settled(other)).toBe(false);
    // A topic send holds nothing when nobody is slow: it is not slowed.
    h.sub(c, { address: 'topic://t', ackMode: 'auto' });
    expect(c.send({ address: 'topic://t', body: body(10) })).toBe(ACCEPTED);
    h.sub(c, { address: 'queue://a', ackMode: 'auto' });
    expect(await settled(over)).toBe(false); // still above 90 % of the limit
    h.sub(c, { address: 'queue://b', ackMode: 'auto' });
    expect(await settled(over)).toBe(true);
    expect(await settled(other)).toBe(true);
  });

  it('persistent sends wait for both the store and the memory limit', async () => {
    const store = new MemoryStore();
    const h = await harness({ store, policy: { memoryLimit: cost(1) } });
    const c = h.connect();
    await c.send({ address: 'queue://q', body: body(1), persistent: true });
    const p = c.send({ address: 'queue://q', body: body(1), persistent: true });
    expect(await settled(p)).toBe(false);
    h.sub(c, { address: 'queue://q', ackMode: 'auto' });
    await p;
  });

  it('a transaction committed over the limit resolves once there is room', async () => {
    const h = await harness({ policy: { memoryLimit: cost(1) } });
    const c = h.connect();
    c.begin('tx');
    await c.send({ address: 'queue://q', body: body(1) }); // outside the transaction: fills the queue
    c.send({ address: 'queue://q', body: body(1) }, 'tx');
    const commit = c.commit('tx');
    expect(await settled(commit)).toBe(false);
    h.sub(c, { address: 'queue://q', ackMode: 'auto' });
    expect(await settled(commit)).toBe(true);
  });
});

describe('slow topic subscribers', () => {
  it("'drop-oldest' bounds a paused subscriber's buffer by bytes as well as by count", async () => {
    const h = await harness({ policy: { memoryLimit: cost(10) * 3, slowConsumerPolicy: 'drop-oldest' } });
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'topic://t' });
    sub.pause();
    const bodies = ['0000000000', '1111111111', '2222222222', '3333333333', '4444444444'];
    await sendAll(c, 'topic://t', bodies);
    expect(h.core.stats().memory.used).toBe(cost(10) * 3);
    sub.resume();
    expect(rec.texts()).toEqual(bodies.slice(2));
  });

  it("the global limit makes slow subscribers drop instead of blocking everyone ('drop-oldest')", async () => {
    const h = await harness({
      policy: { globalMemoryLimit: cost(1) * 4, slowConsumerPolicy: 'drop-oldest' },
    });
    const c = h.connect();
    const slow = h.sub(c, { address: 'topic://t' });
    const fast = h.sub(c, { address: 'topic://t', ackMode: 'auto' });
    slow.sub.pause();
    const all = Array.from({ length: 20 }, (_, i) => String(i % 10));
    for (const b of all) expect(c.send({ address: 'topic://t', body: bytes(b) })).toBe(ACCEPTED);
    expect(h.core.stats().memory.used).toBeLessThanOrEqual(cost(1) * 4);
    expect(fast.rec.texts()).toEqual(all);
    slow.sub.resume();
    expect(slow.rec.texts()).toEqual(all.slice(-4));
  });

  it("'block' makes the producer wait for the slow subscriber, losing nothing", async () => {
    const h = await harness({ policy: { topicSubscriberBuffer: 2, slowConsumerPolicy: 'block' } });
    const c = h.connect();
    const slow = h.sub(c, { address: 'topic://t' });
    const fast = h.sub(c, { address: 'topic://t', ackMode: 'auto', prefetch: 1_000_000 });
    slow.sub.pause();
    const sends = ['1', '2', '3', '4'].map((b) => c.send({ address: 'topic://t', body: bytes(b) }));
    expect(sends[0]).toBe(ACCEPTED);
    expect(sends[1]).toBe(ACCEPTED);
    expect(await settled(sends[2]!)).toBe(false);
    expect(await settled(sends[3]!)).toBe(false);
    expect(fast.rec.texts()).toEqual(['1', '2', '3', '4']);
    slow.sub.resume();
    expect(slow.rec.texts()).toEqual(['1', '2', '3', '4']);
    expect(await settled(sends[3]!)).toBe(true);
  });

  it("'block' releases the producer when the slow subscriber goes away", async () => {
    const h = await harness({ policy: { topicSubscriberBuffer: 1, slowConsumerPolicy: 'block' } });
    const c = h.connect();
    const slow = h.sub(c, { address: 'topic://t' });
    slow.sub.pause();
    await c.send({ address: 'topic://t', body: bytes('1') });
    const p = c.send({ address: 'topic://t', body: bytes('2') });
    expect(await settled(p)).toBe(false);
    slow.sub.close();
    expect(await settled(p)).toBe(true);
    expect(h.core.stats().memory.used).toBe(0);
  });

  it("'conflate' keeps the latest message per key property, in first-pending order", async () => {
    const h = await harness({
      policy: {
        overrides: [
          { match: 'topic://prices.>', policy: { slowConsumerPolicy: 'conflate', conflationKey: 'sym' } },
        ],
      },
    });
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'topic://prices.>' });
    const send = (sym: string | undefined, price: string) =>
      c.send({ address: 'topic://prices.nasdaq', body: bytes(price), properties: sym ? { sym } : {} });
    await send('IBM', '1');
    expect(rec.texts()).toEqual(['1']); // credit: delivered at once
    sub.pause();
    await send('IBM', '2');
    await send('AAPL', '10');
    await send('IBM', '3');
    await send(undefined, 'news');
    await send('AAPL', '11');
    await send('IBM', '4');
    expect(h.core.stats().memory.used).toBe(cost(1) + cost(2) + cost(4));
    sub.resume();
    expect(rec.texts()).toEqual(['1', '4', '11', 'news']);
    // Once delivered, a key starts a new slot.
    sub.pause();
    await send('IBM', '5');
    sub.resume();
    expect(rec.texts().at(-1)).toBe('5');
  });

  it("'conflate' defaults to the group id and evicts the oldest key when the buffer is full", async () => {
    const h = await harness({ policy: { slowConsumerPolicy: 'conflate', topicSubscriberBuffer: 2 } });
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'topic://t' });
    sub.pause();
    for (const [g, b] of [
      ['a', 'a1'],
      ['b', 'b1'],
      ['a', 'a2'],
      ['c', 'c1'],
      ['b', 'b2'],
    ] as const) {
      await c.send({ address: 'topic://t', body: bytes(b), groupId: g });
    }
    sub.resume();
    // [a1] [a1 b1] [a2 b1] (conflated) [b1 c1] (c evicts the oldest, a2) [b2 c1] (conflated)
    expect(rec.texts()).toEqual(['b2', 'c1']);
  });
});

describe('memory accounting invariant (property)', () => {
  it('the global count is the sum of the holders and returns to zero when everything is consumed', async () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('send' as const), dest: fc.integer({ min: 0, max: 2 }), size: fc.nat(50) }),
      fc.record({ t: fc.constant('ack' as const), s: fc.nat(3) }),
      fc.record({ t: fc.constant('nack' as const), s: fc.nat(3) }),
      fc.record({ t: fc.constant('pause' as const), s: fc.nat(3) }),
      fc.record({ t: fc.constant('resume' as const), s: fc.nat(3) }),
    );
    const policies = fc.constantFrom('drop-oldest', 'drop-newest', 'conflate', 'block') as fc.Arbitrary<
      'drop-oldest' | 'drop-newest' | 'conflate' | 'block'
    >;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), policies, async (ops, policy) => {
        const h = await harness({
          policy: {
            topicSubscriberBuffer: 3,
            slowConsumerPolicy: policy,
            maxRedeliveries: 2,
            memoryLimit: cost(50) * 4,
            globalMemoryLimit: cost(50) * 10,
          },
        });
        const c = h.connect();
        const dests = ['queue://q', 'topic://t', 'queue://r'];
        const subs = [
          h.sub(c, { address: 'queue://q', prefetch: 2 }),
          h.sub(c, { address: 'topic://t', prefetch: 2 }),
          h.sub(c, { address: 'topic://t', prefetch: 1 }),
          h.sub(c, { address: 'queue://r', prefetch: 3 }),
        ];
        for (const o of ops) {
          if (o.t === 'send') {
            void c.send({ address: dests[o.dest]!, body: body(o.size), groupId: String(o.size % 3) });
            continue;
          }
          const s = subs[o.s]!;
          if (o.t === 'pause') s.sub.pause();
          else if (o.t === 'resume') s.sub.resume();
          else {
            // Settle the oldest delivery not settled yet (settled ones are removed from the recorder).
            const d = s.rec.deliveries.shift();
            if (d === undefined) continue;
            if (o.t === 'ack') s.sub.ack(d.tag);
            else s.sub.nack(d.tag);
          }
        }
        const st = h.core.stats();
        const queued = st.queues.reduce((n, q) => n + q.memoryBytes, 0);
        expect(st.memory.used).toBeGreaterThanOrEqual(queued);
        for (const s of subs) s.sub.close();
        const after = h.core.stats();
        expect(after.memory.used).toBe(after.queues.reduce((n, q) => n + q.memoryBytes, 0));
        // Drain the queues: nothing is left.
        h.sub(c, { address: 'queue://q', ackMode: 'auto', prefetch: 1_000_000 });
        h.sub(c, { address: 'queue://r', ackMode: 'auto', prefetch: 1_000_000 });
        h.sub(c, { address: 'queue://DLQ.q', ackMode: 'auto', prefetch: 1_000_000 });
        h.sub(c, { address: 'queue://DLQ.r', ackMode: 'auto', prefetch: 1_000_000 });
        h.sub(c, { address: 'queue://DLQ.t', ackMode: 'auto', prefetch: 1_000_000 });
        expect(h.core.stats().memory.used).toBe(0);
        expect(h.core.stats().memory.blocked).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});
