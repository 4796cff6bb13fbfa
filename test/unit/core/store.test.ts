import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { bytes, expectCode, harness, sendAll } from './helpers.js';

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('persistence through the MessageStore', () => {
  it('a persistent send resolves only once the store write is durable', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    store.hold();
    let done = false;
    const p = c.send({ address: 'queue://q', body: bytes('x'), persistent: true }).then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    store.release();
    await p;
    expect(done).toBe(true);
    expect(store.messageIds('queue://q')).toHaveLength(1);
  });

  it('non-persistent messages skip the store; sends of one turn share one batch', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    await c.send({ address: 'queue://q', body: bytes('np') });
    expect(store.writes).toBe(0);
    const sends = [1, 2, 3].map((i) =>
      c.send({ address: 'queue://q', body: bytes(String(i)), persistent: true }),
    );
    await Promise.all(sends);
    expect(store.writes).toBe(1);
    expect(store.messageIds('queue://q')).toHaveLength(3);
  });

  it('the ack of a non-persistent message is done at once, even while the turn has a sync pending', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    await c.send({ address: 'queue://q', body: bytes('np') });
    await c.send({ address: 'queue://q', body: bytes('p'), persistent: true });
    store.hold();
    // A persistent send in the same turn: the store batch is pending while the acks are made.
    const pending = c.send({ address: 'queue://other', body: bytes('x'), persistent: true });
    const [np, p] = rec.deliveries;
    let npDone = false;
    let pDone = false;
    void Promise.resolve(sub.ack(np!.tag)).then(() => {
      npDone = true;
    });
    void Promise.resolve(sub.ack(p!.tag)).then(() => {
      pDone = true;
    });
    await flush();
    expect(npDone).toBe(true);
    expect(pDone).toBe(false);
    store.release();
    await pending;
    await flush();
    expect(pDone).toBe(true);
  });

  it('a failed store write rejects the send with STORE', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    store.failNext(new Error('disk on fire'));
    await expectCode(c.send({ address: 'queue://q', body: bytes('x'), persistent: true }), 'STORE');
  });

  it('acks dequeue from the store; a commit is one batch', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    await sendAll(c, 'queue://q', ['1', '2'], { persistent: true });
    sub.ack(rec.deliveries[0]!.tag);
    await flush();
    expect(store.messageIds('queue://q')).toHaveLength(1);
    const before = store.writes;
    c.begin('tx');
    sub.ack(rec.deliveries[1]!.tag, 'tx');
    await c.send({ address: 'queue://q', body: bytes('3'), persistent: true }, 'tx');
    await c.send({ address: 'queue://other', body: bytes('4'), persistent: true }, 'tx');
    expect(store.writes).toBe(before);
    await c.commit('tx');
    expect(store.writes).toBe(before + 1);
    expect(store.messageIds('queue://q')).toHaveLength(1);
    expect(store.messageIds('queue://other')).toHaveLength(1);
  });

  it('recovers queues, unacked messages with their delivery counts, and durable subscriptions', async () => {
    const store = new MemoryStore();
    const h1 = await harness({ store, idPrefix: 'ID:a' });
    const c = h1.connect('app');
    const d = h1.sub(c, { address: 'topic://t.>', durableName: 'sub', selector: "k = 'v'" });
    d.sub.close();
    const q = h1.sub(c, { address: 'queue://q', prefetch: 3 });
    await sendAll(c, 'queue://q', ['1', '2', '3'], { persistent: true });
    await c.send({ address: 'queue://q', body: bytes('np') });
    await c.send({ address: 'topic://t.x', body: bytes('kept'), persistent: true, properties: { k: 'v' } });
    await c.send({ address: 'topic://t.x', body: bytes('filtered'), persistent: true });
    q.sub.ack(q.rec.deliveries[0]!.tag);
    q.sub.nack(q.rec.deliveries[1]!.tag); // back in the queue with delivery count 1, redelivered...
    await flush();
    await h1.core.shutdown();

    const h2 = await harness({ store, idPrefix: 'ID:b' });
    const c2 = h2.connect('app');
    const again = h2.sub(c2, { address: 'queue://q' });
    expect(again.rec.texts().sort()).toEqual(['2', '3']);
    for (const dl of again.rec.deliveries) expect(dl.redelivered).toBe(true);
    // '2' was delivered twice before the restart (count persisted on return at 1, then delivered again).
    const counts = Object.fromEntries(
      again.rec.deliveries.map((x) => [new TextDecoder().decode(x.message.body), x.deliveryCount]),
    );
    expect(counts['3']).toBe(1);
    expect(counts['2']).toBeGreaterThanOrEqual(2);
    expect(h2.core.stats().durables).toMatchObject([{ clientId: 'app', name: 'sub', depth: 1 }]);
    const durable = h2.sub(c2, { address: 'topic://t.>', durableName: 'sub', selector: "k = 'v'" });
    expect(durable.rec.texts()).toEqual(['kept']);
    // Same definition: resumed, not recreated.
    expect(store.durableRecords()).toHaveLength(1);
    // New ids do not collide with recovered ones.
    await c2.send({ address: 'queue://q', body: bytes('new'), persistent: true });
    expect(again.rec.last.message.id.startsWith('ID:b:')).toBe(true);
  });

  it('dead-lettering a persistent message moves it atomically in the store', async () => {
    const store = new MemoryStore();
    const h = await harness({ store, policy: { maxRedeliveries: 0 } });
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    await c.send({ address: 'queue://q', body: bytes('x'), persistent: true });
    const writes = store.writes;
    sub.nack(rec.last.tag);
    await flush();
    expect(store.writes).toBe(writes + 1);
    expect(store.messageIds('queue://q')).toEqual([]);
    expect(store.messageIds('queue://DLQ.q')).toEqual([rec.last.message.id]);
  });

  it('unsubscribeDurable removes the record and its messages from the store', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect('app');
    h.sub(c, { address: 'topic://t', durableName: 'n' }).sub.close();
    await c.send({ address: 'topic://t', body: bytes('x'), persistent: true });
    expect(store.durableRecords()).toHaveLength(1);
    c.unsubscribeDurable('n');
    await flush();
    expect(store.durableRecords()).toHaveLength(0);
    expect((await store.load()).queues).toEqual([]);
  });

  it('shutdown waits for in-flight writes', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    store.hold();
    void c.send({ address: 'queue://q', body: bytes('x'), persistent: true });
    let down = false;
    const s = h.core.shutdown().then(() => {
      down = true;
    });
    await flush();
    expect(down).toBe(false);
    store.release();
    await s;
    expect(down).toBe(true);
  });
});
