import { describe, expect, it } from 'vitest';
import { bytes, harness, sendAll } from './helpers.js';

describe('topics', () => {
  it('fan out to every matching subscription, wildcards included', async () => {
    const h = await harness();
    const c = h.connect();
    const exact = h.sub(c, { address: 'topic://prices.nasdaq.ibm' });
    const star = h.sub(c, { address: 'topic://prices.*.ibm' });
    const rest = h.sub(c, { address: 'topic://prices.>' });
    const other = h.sub(c, { address: 'topic://news.>' });
    await sendAll(c, 'topic://prices.nasdaq.ibm', ['1']);
    await sendAll(c, 'topic://prices', ['2']);
    expect(exact.rec.texts()).toEqual(['1']);
    expect(star.rec.texts()).toEqual(['1']);
    expect(rest.rec.texts()).toEqual(['1', '2']);
    expect(other.rec.texts()).toEqual([]);
    // One immutable message shared by every subscription.
    expect(exact.rec.last.message).toBe(star.rec.last.message);
    const stats = h.core.stats().topics.find((t) => t.address === 'topic://prices.nasdaq.ibm');
    expect(stats).toEqual({ address: 'topic://prices.nasdaq.ibm', published: 1, subscribers: 3 });
  });

  it('non-durable subscriptions only get messages published while they exist', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'topic://t', ['before']);
    const s = h.sub(c, { address: 'topic://t' });
    await sendAll(c, 'topic://t', ['during']);
    s.sub.close();
    await sendAll(c, 'topic://t', ['after']);
    expect(s.rec.texts()).toEqual(['during']);
  });

  it('applies selectors and noLocal', async () => {
    const h = await harness();
    const me = h.connect();
    const other = h.connect();
    const sel = h.sub(me, { address: 'topic://t', selector: 'n > 1' });
    const noLocal = h.sub(me, { address: 'topic://t', noLocal: true });
    await me.send({ address: 'topic://t', body: bytes('mine'), properties: { n: 5 } });
    await other.send({ address: 'topic://t', body: bytes('theirs'), properties: { n: 1 } });
    expect(sel.rec.texts()).toEqual(['mine']);
    expect(noLocal.rec.texts()).toEqual(['theirs']);
  });

  it('prefetch: a subscription without credit buffers until it acks', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'topic://t', prefetch: 1 });
    await sendAll(c, 'topic://t', ['1', '2', '3']);
    expect(rec.texts()).toEqual(['1']);
    sub.ack(rec.last.tag);
    expect(rec.texts()).toEqual(['1', '2']);
    sub.ack(rec.last.tag);
    expect(rec.texts()).toEqual(['1', '2', '3']);
  });

  it("pause buffers; on overflow the oldest are dropped ('drop-oldest')", async () => {
    const h = await harness({ policy: { topicSubscriberBuffer: 3, slowConsumerPolicy: 'drop-oldest' } });
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'topic://t' });
    sub.pause();
    await sendAll(c, 'topic://t', ['1', '2', '3', '4', '5']);
    expect(rec.texts()).toEqual([]);
    sub.resume();
    expect(rec.texts()).toEqual(['3', '4', '5']);
  });

  it("'drop-newest' keeps the oldest, per-address override", async () => {
    const h = await harness({
      policy: {
        topicSubscriberBuffer: 100,
        overrides: [
          {
            match: 'topic://slow.>',
            policy: { topicSubscriberBuffer: 2, slowConsumerPolicy: 'drop-newest' },
          },
        ],
      },
    });
    const c = h.connect();
    const slow = h.sub(c, { address: 'topic://slow.x' });
    const fast = h.sub(c, { address: 'topic://fast' });
    slow.sub.pause();
    fast.sub.pause();
    await sendAll(c, 'topic://slow.x', ['1', '2', '3', '4']);
    await sendAll(c, 'topic://fast', ['1', '2', '3', '4']);
    slow.sub.resume();
    fast.sub.resume();
    expect(slow.rec.texts()).toEqual(['1', '2']);
    expect(fast.rec.texts()).toEqual(['1', '2', '3', '4']);
  });

  it('auto ack on a topic hands over prefetch per turn and buffers the rest', async () => {
    const h = await harness();
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'topic://t', ackMode: 'auto', prefetch: 2 });
    await sendAll(c, 'topic://t', ['1', '2', '3']);
    expect(rec.texts()).toEqual(['1', '2']);
    h.time.runDeferred();
    expect(rec.texts()).toEqual(['1', '2', '3']);
  });

  it('cumulative nack redelivers in the original order', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'topic://t', ackMode: 'cumulative' });
    await sendAll(c, 'topic://t', ['1', '2', '3']);
    sub.nack(rec.deliveries[1]!.tag);
    expect(rec.texts()).toEqual(['1', '2', '3', '1', '2']);
    expect(rec.deliveries.slice(3).every((d) => d.redelivered)).toBe(true);
  });

  it('closing a subscription discards its unacked topic messages', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub } = h.sub(c, { address: 'topic://t' });
    await sendAll(c, 'topic://t', ['1']);
    sub.close();
    expect(h.core.stats().connections[0]).toMatchObject({ subscriptions: 0, inFlight: 0 });
  });
});
