import { describe, expect, it } from 'vitest';
import { bytes, harness, sendAll, text } from './helpers.js';

describe('redelivery and the dead-letter queue', () => {
  it('after maxRedeliveries (default 6: 7 deliveries) the message goes to DLQ.<name>', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://orders' });
    const dlq = h.sub(c, { address: 'queue://DLQ.orders' });
    await c.send({ address: 'queue://orders', body: bytes('bad'), persistent: true });
    for (let i = 1; i <= 7; i++) {
      expect(rec.last.deliveryCount).toBe(i);
      sub.nack(rec.last.tag);
    }
    expect(rec.deliveries).toHaveLength(7);
    expect(dlq.rec.deliveries).toHaveLength(1);
    expect(dlq.rec.last.message).toMatchObject({
      address: 'queue://DLQ.orders',
      originalAddress: 'queue://orders',
      persistent: true,
    });
    expect(dlq.rec.last.deliveryCount).toBe(1);
    const stats = Object.fromEntries(h.core.stats().queues.map((q) => [q.address, q]));
    expect(stats['queue://orders']).toMatchObject({ depth: 0, deadLettered: 1 });
  });

  it('counts returns on close and rollback towards the maximum', async () => {
    const h = await harness({ policy: { maxRedeliveries: 1 } });
    const c = h.connect();
    await c.send({ address: 'queue://q', body: bytes('m') });
    const first = h.sub(c, { address: 'queue://q' });
    first.sub.close(); // delivery 1 returned
    const second = h.sub(c, { address: 'queue://q' });
    expect(second.rec.last.deliveryCount).toBe(2);
    c.begin('tx');
    second.sub.ack(second.rec.last.tag, 'tx');
    c.rollback('tx'); // delivery 2 returned -> past 1 redelivery
    const dlq = h.sub(c, { address: 'queue://DLQ.q' });
    expect(dlq.rec.texts()).toEqual(['m']);
  });

  it('maxRedeliveries -1 never dead-letters; 0 dead-letters on the first nack', async () => {
    const h = await harness({
      policy: {
        maxRedeliveries: -1,
        overrides: [{ match: 'queue://strict.>', policy: { maxRedeliveries: 0 } }],
      },
    });
    const c = h.connect();
    const lax = h.sub(c, { address: 'queue://lax' });
    const strict = h.sub(c, { address: 'queue://strict.a' });
    await c.send({ address: 'queue://lax', body: bytes('x') });
    await c.send({ address: 'queue://strict.a', body: bytes('y') });
    for (let i = 0; i < 20; i++) lax.sub.nack(lax.rec.last.tag);
    expect(lax.rec.last.deliveryCount).toBe(21);
    strict.sub.nack(strict.rec.last.tag);
    expect(h.core.stats().queues.find((q) => q.address === 'queue://DLQ.strict.a')?.depth).toBe(1);
  });

  it('honours a custom DLQ template and never dead-letters a DLQ again', async () => {
    const h = await harness({
      policy: { maxRedeliveries: 0, deadLetterAddress: 'queue://dead.{kind}.{name}' },
    });
    const c = h.connect();
    const q = h.sub(c, { address: 'queue://q' });
    await c.send({ address: 'queue://q', body: bytes('x') });
    q.sub.nack(q.rec.last.tag);
    const dead = h.sub(c, { address: 'queue://dead.queue.q' });
    expect(dead.rec.texts()).toEqual(['x']);
    dead.sub.nack(dead.rec.last.tag); // dropped, not moved to dead.queue.dead.queue.q
    expect(
      h.core
        .stats()
        .queues.map((s) => s.address)
        .sort(),
    ).toEqual(['queue://dead.queue.q', 'queue://q']);
    expect(h.core.stats().queues.every((s) => s.depth === 0)).toBe(true);
  });

  it('non-persistent messages are dropped instead when deadLetterNonPersistent is false', async () => {
    const h = await harness({ policy: { maxRedeliveries: 0, deadLetterNonPersistent: false } });
    const c = h.connect();
    const q = h.sub(c, { address: 'queue://q' });
    await c.send({ address: 'queue://q', body: bytes('np') });
    await c.send({ address: 'queue://q', body: bytes('p'), persistent: true });
    for (const d of [...q.rec.deliveries]) q.sub.nack(d.tag);
    const dlq = h.sub(c, { address: 'queue://DLQ.q' });
    expect(dlq.rec.texts()).toEqual(['p']);
  });

  it('topic subscriptions redeliver on nack and dead-letter past the maximum', async () => {
    const h = await harness({ policy: { maxRedeliveries: 1 } });
    const c = h.connect();
    const t = h.sub(c, { address: 'topic://prices.>' });
    await c.send({ address: 'topic://prices.ibm', body: bytes('1') });
    t.sub.nack(t.rec.last.tag);
    expect(t.rec.last).toMatchObject({ redelivered: true, deliveryCount: 2 });
    t.sub.nack(t.rec.last.tag);
    expect(t.rec.deliveries).toHaveLength(2);
    const dlq = h.sub(c, { address: 'queue://DLQ.prices.ibm' });
    expect(dlq.rec.last.message.originalAddress).toBe('topic://prices.ibm');
  });
});

describe('expiry', () => {
  it('expired messages are dead-lettered on dispatch by default, with expiration cleared', async () => {
    const h = await harness();
    const c = h.connect();
    await c.send({ address: 'queue://q', body: bytes('old'), expiration: h.time.now() + 100 });
    await c.send({ address: 'queue://q', body: bytes('fresh'), expiration: h.time.now() + 10_000 });
    await c.send({ address: 'queue://q', body: bytes('forever') });
    h.time.advance(500);
    const { rec } = h.sub(c, { address: 'queue://q' });
    expect(rec.texts()).toEqual(['fresh', 'forever']);
    const dlq = h.sub(c, { address: 'queue://DLQ.q' });
    expect(dlq.rec.texts()).toEqual(['old']);
    expect(dlq.rec.last.message.expiration).toBe(0);
    expect(h.core.stats().queues.find((q) => q.address === 'queue://q')?.expired).toBe(1);
  });

  it("policy 'drop' discards them", async () => {
    const h = await harness({ policy: { expiredMessages: 'drop' } });
    const c = h.connect();
    await c.send({ address: 'queue://q', body: bytes('old'), expiration: h.time.now() + 1 });
    h.time.advance(2);
    h.sub(c, { address: 'queue://q' });
    expect(h.core.stats().queues.map((q) => q.address)).toEqual(['queue://q']);
  });

  it('a message already expired when sent never reaches a consumer', async () => {
    const h = await harness({ policy: { expiredMessages: 'drop' } });
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'queue://q' });
    await c.send({ address: 'queue://q', body: bytes('late'), expiration: h.time.now() - 1 });
    expect(rec.deliveries).toHaveLength(0);
  });

  it('the periodic sweep removes expired messages nobody consumes', async () => {
    const h = await harness({ policy: { expirySweepIntervalMs: 1000 } });
    const c = h.connect();
    await c.send({ address: 'queue://q', body: bytes('x'), expiration: h.time.now() + 1500 });
    await sendAll(c, 'queue://q', ['keep']);
    h.time.advance(1000);
    expect(h.core.stats().queues.find((q) => q.address === 'queue://q')?.depth).toBe(2);
    h.time.advance(1000);
    const stats = Object.fromEntries(h.core.stats().queues.map((q) => [q.address, q]));
    expect(stats['queue://q']?.depth).toBe(1);
    expect(stats['queue://DLQ.q']?.depth).toBe(1);
  });

  it('expired topic messages waiting in a paused subscription are dropped', async () => {
    const h = await harness();
    const c = h.connect();
    const t = h.sub(c, { address: 'topic://t' });
    t.sub.pause();
    await c.send({ address: 'topic://t', body: bytes('x'), expiration: h.time.now() + 10 });
    await c.send({ address: 'topic://t', body: bytes('y') });
    h.time.advance(20);
    t.sub.resume();
    expect(t.rec.texts()).toEqual(['y']);
    expect(text(t.rec.last.message)).toBe('y');
  });
});
