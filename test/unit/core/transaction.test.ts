import { describe, expect, it } from 'vitest';
import { bytes, expectCode, harness, sendAll } from './helpers.js';

describe('local transactions', () => {
  it('buffers sends until commit', async () => {
    const h = await harness();
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'queue://q' });
    c.begin('tx');
    await c.send({ address: 'queue://q', body: bytes('1') }, 'tx');
    await c.send({ address: 'topic://ignored,queue://q', body: bytes('2') }, 'tx');
    expect(rec.texts()).toEqual([]);
    await c.commit('tx');
    expect(rec.texts()).toEqual(['1', '2']);
  });

  it('rollback discards sends', async () => {
    const h = await harness();
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'queue://q' });
    c.begin('tx');
    await c.send({ address: 'queue://q', body: bytes('1') }, 'tx');
    c.rollback('tx');
    await expectCode(c.commit('tx'), 'NOT_FOUND');
    expect(rec.texts()).toEqual([]);
    expect(h.core.stats().queues[0]?.enqueued).toBe(0);
  });

  it('acks inside a transaction apply on commit', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q', prefetch: 2 });
    await sendAll(c, 'queue://q', ['1', '2', '3']);
    c.begin('tx');
    sub.ack(rec.deliveries[0]!.tag, 'tx');
    // Credit is released at once so the consumer keeps receiving inside its transaction (ActiveMQ).
    expect(rec.texts()).toEqual(['1', '2', '3']);
    expect(h.core.stats().queues[0]).toMatchObject({ dequeued: 0, depth: 3 });
    await c.commit('tx');
    expect(h.core.stats().queues[0]).toMatchObject({ dequeued: 1, depth: 2 });
  });

  it('rollback redelivers what was acked in it, with delivery count increased', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q', ackMode: 'cumulative' });
    await sendAll(c, 'queue://q', ['1', '2']);
    c.begin('tx');
    sub.ack(rec.deliveries[1]!.tag, 'tx');
    c.rollback('tx');
    expect(rec.texts()).toEqual(['1', '2', '1', '2']);
    expect(rec.deliveries.slice(2).map((d) => [d.redelivered, d.deliveryCount])).toEqual([
      [true, 2],
      [true, 2],
    ]);
  });

  it('a nack inside a transaction is applied on commit', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    await sendAll(c, 'queue://q', ['1']);
    c.begin('tx');
    sub.nack(rec.last.tag, 'tx');
    expect(rec.deliveries).toHaveLength(1);
    await c.commit('tx');
    expect(rec.deliveries).toHaveLength(2);
  });

  it('unknown ids are NOT_FOUND, duplicate begin is CONFLICT', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    await sendAll(c, 'queue://q', ['1']);
    await expectCode(c.send({ address: 'queue://q', body: bytes('x') }, 'nope'), 'NOT_FOUND');
    await expectCode(c.commit('nope'), 'NOT_FOUND');
    expect(() => c.rollback('nope')).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => sub.ack(rec.last.tag, 'nope')).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
    c.begin('tx');
    expect(() => c.begin('tx')).toThrowError(expect.objectContaining({ code: 'CONFLICT' }));
  });

  it('close() rolls back open transactions', async () => {
    const h = await harness();
    const c = h.connect();
    const other = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    await sendAll(other, 'queue://q', ['1']);
    c.begin('tx');
    sub.ack(rec.last.tag, 'tx');
    await c.send({ address: 'queue://q', body: bytes('never') }, 'tx');
    c.close();
    const again = h.sub(other, { address: 'queue://q' });
    expect(again.rec.texts()).toEqual(['1']);
    expect(again.rec.last.redelivered).toBe(true);
  });

  it('a transaction spans subscriptions that closed before commit', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    await sendAll(c, 'queue://q', ['1']);
    c.begin('tx');
    sub.ack(rec.last.tag, 'tx');
    sub.close();
    await c.commit('tx');
    expect(h.core.stats().queues[0]).toMatchObject({ depth: 0, dequeued: 1 });
  });
});
