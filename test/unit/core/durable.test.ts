import { describe, expect, it } from 'vitest';
import { bytes, expectCode, harness, sendAll } from './helpers.js';

describe('durable topic subscriptions', () => {
  it('keep messages while the subscriber is away and resume on re-subscribe', async () => {
    const h = await harness();
    const producer = h.connect();
    let c = h.connect('app');
    const first = h.sub(c, { address: 'topic://news.>', durableName: 'n' });
    await sendAll(producer, 'topic://news.a', ['1', '2']);
    first.sub.ack(first.rec.deliveries[0]!.tag);
    c.close(); // '2' unacked -> back into the subscription's queue
    await sendAll(producer, 'topic://news.b', ['3']);
    await sendAll(producer, 'topic://other', ['x']);
    expect(h.core.stats().durables[0]).toMatchObject({ clientId: 'app', name: 'n', active: false, depth: 2 });
    c = h.connect('app');
    const again = h.sub(c, { address: 'topic://news.>', durableName: 'n' });
    expect(again.rec.texts()).toEqual(['2', '3']);
    expect(again.rec.deliveries[0]).toMatchObject({ redelivered: true, deliveryCount: 2 });
  });

  it('a second active subscriber with the same clientId+name is a CONFLICT', async () => {
    const h = await harness();
    const c = h.connect('app');
    h.sub(c, { address: 'topic://t', durableName: 'n' });
    await expectCode(() => h.sub(c, { address: 'topic://t', durableName: 'n' }), 'CONFLICT');
  });

  it('requires a client id and a topic', async () => {
    const h = await harness();
    await expectCode(() => h.sub(h.connect(), { address: 'topic://t', durableName: 'n' }), 'BAD_REQUEST');
    await expectCode(() => h.sub(h.connect('x'), { address: 'queue://q', durableName: 'n' }), 'BAD_REQUEST');
  });

  it('changing the selector or topic recreates it (old messages gone)', async () => {
    const h = await harness();
    const p = h.connect();
    let c = h.connect('app');
    h.sub(c, { address: 'topic://t', durableName: 'n' }).sub.close();
    await sendAll(p, 'topic://t', ['old']);
    c.close();
    c = h.connect('app');
    const s = h.sub(c, { address: 'topic://t', durableName: 'n', selector: "k = 'v'" });
    expect(s.rec.texts()).toEqual([]);
    await p.send({ address: 'topic://t', body: bytes('no') });
    await p.send({ address: 'topic://t', body: bytes('yes'), properties: { k: 'v' } });
    expect(s.rec.texts()).toEqual(['yes']);
  });

  it('unsubscribeDurable removes it; CONFLICT while active; NOT_FOUND when unknown', async () => {
    const h = await harness();
    const p = h.connect();
    const c = h.connect('app');
    const s = h.sub(c, { address: 'topic://t', durableName: 'n' });
    expect(() => c.unsubscribeDurable('n')).toThrowError(expect.objectContaining({ code: 'CONFLICT' }));
    s.sub.close();
    c.unsubscribeDurable('n');
    expect(h.core.stats().durables).toHaveLength(0);
    await sendAll(p, 'topic://t', ['lost']);
    expect(() => c.unsubscribeDurable('n')).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
    const fresh = h.sub(c, { address: 'topic://t', durableName: 'n' });
    expect(fresh.rec.texts()).toEqual([]);
  });

  it('noLocal skips messages from the attached connection', async () => {
    const h = await harness();
    const c = h.connect('app');
    const p = h.connect();
    const s = h.sub(c, { address: 'topic://t', durableName: 'n', noLocal: true });
    await sendAll(c, 'topic://t', ['mine']);
    await sendAll(p, 'topic://t', ['theirs']);
    expect(s.rec.texts()).toEqual(['theirs']);
  });

  it('client ids are unique among live connections', async () => {
    const h = await harness();
    const c = h.connect('app');
    expect(() => h.connect('app')).toThrowError(expect.objectContaining({ code: 'CONFLICT' }));
    c.close();
    expect(h.connect('app').clientId).toBe('app');
  });
});
