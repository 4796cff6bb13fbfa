/**
 * Paging persistent messages out of memory (core/paging.ts, queue-pager.ts), over a memory store that
 * reads messages back (MemoryStore { paging: true }). Every check that a paged message came back whole
 * looks at its body: a stub has an empty one.
 */
import { describe, expect, it } from 'vitest';
import type { BlazeCore, CoreConnection } from '../../../src/core/index.js';
import { MESSAGE_OVERHEAD } from '../../../src/core/memory.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { bytes, type Harness, harness, text } from './helpers.js';

const BODY = 1000;
const cost = (n: number) => n + MESSAGE_OVERHEAD;
/** Room for 100 whole messages; paging starts at 70 % of it. */
const LIMIT = cost(BODY) * 100;
const body = (i: number) => bytes(`${String(i).padStart(5, '0')}${'x'.repeat(BODY - 5)}`);
const label = (s: string) => s.slice(0, 5);

/** The current test's scheduler: auto-ack consumers get new credit in deferred work. */
let scheduler: Harness['time'] | undefined;

async function ticks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) {
    scheduler?.runDeferred();
    await new Promise((r) => setImmediate(r));
  }
}

/** Resolves to true if `p` settles within a few event-loop turns. */
async function settles(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await ticks(5);
  return done;
}

async function paging(policy: Record<string, unknown> = {}, store = new MemoryStore({ paging: true })) {
  const h = await harness({
    store,
    policy: { memoryLimit: LIMIT, globalMemoryLimit: 0, ...policy },
    paging: { batchMessages: 16, batchBytes: 16 * BODY, lowWater: 8 },
  });
  scheduler = h.time;
  return { h, store, c: h.connect() };
}

async function sendN(c: CoreConnection, n: number, from = 0, extra: Record<string, unknown> = {}) {
  const sends = [];
  for (let i = from; i < from + n; i++) {
    sends.push(c.send({ address: 'queue://q', body: body(i), persistent: true, ...extra }));
  }
  await Promise.all(sends);
}

function queueStats(core: BlazeCore, address = 'queue://q') {
  const q = core.stats().queues.find((s) => s.address === address);
  if (q === undefined) throw new Error(`no ${address}`);
  return q;
}

/** Subscribes (auto ack) and waits until `n` messages arrived. */
async function drain(h: Harness, c: CoreConnection, n: number, options: Record<string, unknown> = {}) {
  const { sub, rec } = h.sub(c, { address: 'queue://q', ackMode: 'auto', prefetch: 10, ...options });
  for (let i = 0; i < 200 && rec.deliveries.length < n; i++) await ticks(2);
  return { sub, rec };
}

const labels = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => String(from + i).padStart(5, '0'));

describe('paging out', () => {
  it('persistent producers to a queue without consumers are not blocked at the limit', async () => {
    const { h, c } = await paging();
    await sendN(c, 150);
    const q = queueStats(h.core);
    expect(q.depth).toBe(150);
    expect(q.paged).toBeGreaterThan(100);
    expect(q.blocked).toBe(false);
    expect(q.memoryBytes).toBeLessThan(LIMIT);
    // Exactly: resident messages whole, paged ones their overhead only.
    expect(q.memoryBytes).toBe((150 - q.paged) * cost(BODY) + q.paged * MESSAGE_OVERHEAD);
    expect(h.core.stats().memory.paging?.paged).toBe(q.paged);
  });

  it('non-persistent producers still wait at the limit', async () => {
    const { c } = await paging();
    const sends = [];
    for (let i = 0; i < 101; i++) sends.push(c.send({ address: 'queue://q', body: body(i) }));
    expect(await settles(sends[100]!)).toBe(false);
  });

  it('persistent producers wait once the stubs alone fill the limit', async () => {
    const { h, c } = await paging({ memoryLimit: cost(BODY) * 10 });
    // 10 whole messages' worth holds ~29 stubs: the 40th send cannot be made room for.
    const sends = [];
    for (let i = 0; i < 40; i++) {
      sends.push(c.send({ address: 'queue://q', body: body(i), persistent: true }));
      await ticks(1);
    }
    expect(await settles(sends[39]!)).toBe(false);
    expect(queueStats(h.core).blocked).toBe(true);
    await drain(h, c, 40);
    expect(await settles(sends[39]!)).toBe(true);
  });

  it('a consumer drains everything in order, read back in batches ahead of dispatch', async () => {
    const { h, c, store } = await paging();
    await sendN(c, 250);
    const paged = queueStats(h.core).paged;
    const { rec } = await drain(h, c, 250);
    expect(rec.texts().map(label)).toEqual(labels(250));
    expect(rec.deliveries.every((d) => d.message.body.byteLength === BODY)).toBe(true);
    expect(store.messagesRead).toBe(paged);
    const stats = h.core.stats().memory.paging!;
    expect(stats.pagedIn).toBe(paged);
    // Batches of at most 16: far fewer reads than messages.
    expect(stats.reads).toBeLessThanOrEqual(Math.ceil(paged / 8) + 2);
    expect(queueStats(h.core).depth).toBe(0);
    expect(h.core.stats().memory.used).toBe(0);
    expect(store.messageIds('queue://q')).toEqual([]);
  });

  it('new messages do not overtake paged ones', async () => {
    const { h, c } = await paging();
    await sendN(c, 120);
    const { rec } = h.sub(c, { address: 'queue://q', ackMode: 'auto', prefetch: 10 });
    await sendN(c, 30, 120);
    for (let i = 0; i < 200 && rec.deliveries.length < 150; i++) await ticks(2);
    expect(rec.texts().map(label)).toEqual(labels(150));
  });

  it('keeps priority order across paged and resident messages', async () => {
    const { h, c } = await paging();
    const sends = [];
    for (let i = 0; i < 200; i++) {
      sends.push(
        c.send({ address: 'queue://q', body: body(i), persistent: true, priority: i % 3 === 0 ? 9 : 1 }),
      );
    }
    await Promise.all(sends);
    expect(queueStats(h.core).paged).toBeGreaterThan(100);
    const { rec } = await drain(h, c, 200);
    const high = labels(200).filter((_, i) => i % 3 === 0);
    const low = labels(200).filter((_, i) => i % 3 !== 0);
    expect(rec.texts().map(label)).toEqual([...high, ...low]);
  });

  it('selectors and message groups see the properties of paged messages', async () => {
    const { h, c } = await paging();
    const sends = [];
    for (let i = 0; i < 200; i++) {
      sends.push(
        c.send({
          address: 'queue://q',
          body: body(i),
          persistent: true,
          properties: { color: i % 2 === 0 ? 'red' : 'blue' },
          groupId: `g${i % 2}`,
        }),
      );
    }
    await Promise.all(sends);
    expect(queueStats(h.core).paged).toBeGreaterThan(100);
    const red = await drain(h, c, 100, { selector: "color = 'red'" });
    expect(red.rec.texts().map(label)).toEqual(labels(200).filter((_, i) => i % 2 === 0));
    expect(red.rec.deliveries.every((d) => d.message.properties.color === 'red')).toBe(true);
    expect(queueStats(h.core).depth).toBe(100);
    const rest = await drain(h, c, 100);
    expect(rest.rec.texts().map(label)).toEqual(labels(200).filter((_, i) => i % 2 === 1));
  });

  it('paged messages that expire go to the DLQ whole; the dequeue and the DLQ enqueue share a batch', async () => {
    const { h, c, store } = await paging();
    const expiration = h.time.now() + 1000;
    await sendN(c, 150, 0, { expiration });
    expect(queueStats(h.core).paged).toBeGreaterThan(50);
    h.time.advance(2000);
    h.core.sweepExpired();
    await ticks(10);
    expect(queueStats(h.core).depth).toBe(0);
    expect(queueStats(h.core).expired).toBe(150);
    expect(store.messageIds('queue://q')).toEqual([]);
    expect(store.messageIds('queue://DLQ.q')).toHaveLength(150);
    const dlq = h.sub(c, { address: 'queue://DLQ.q', ackMode: 'auto' });
    for (let i = 0; i < 100 && dlq.rec.deliveries.length < 150; i++) await ticks(2);
    expect(dlq.rec.deliveries).toHaveLength(150);
    expect(dlq.rec.deliveries.every((d) => d.message.body.byteLength === BODY)).toBe(true);
    expect(new Set(dlq.rec.texts().map(label))).toEqual(new Set(labels(150)));
  });

  it("paged messages that expire are dropped under 'drop' without reading them", async () => {
    const { h, c, store } = await paging({ expiredMessages: 'drop' });
    await sendN(c, 150, 0, { expiration: h.time.now() + 1000 });
    h.time.advance(2000);
    h.core.sweepExpired();
    expect(queueStats(h.core).depth).toBe(0);
    expect(store.messagesRead).toBe(0);
    expect(h.core.stats().memory.used).toBe(0);
    expect(h.core.stats().memory.paging?.paged).toBe(0);
  });

  it('a paged message returned unacked is redelivered whole, then dead-lettered', async () => {
    const { h, c, store } = await paging({ maxRedeliveries: 1 });
    await sendN(c, 150);
    for (let round = 1; round <= 2; round++) {
      const { sub, rec } = h.sub(c, { address: 'queue://q', ackMode: 'individual', prefetch: 150 });
      for (let i = 0; i < 200 && rec.deliveries.length < 150; i++) await ticks(2);
      expect(rec.texts().map(label)).toEqual(labels(150));
      expect(rec.deliveries.every((d) => d.redelivered === round > 1 && d.deliveryCount === round)).toBe(
        true,
      );
      sub.close();
    }
    await ticks(2);
    expect(queueStats(h.core).deadLettered).toBe(150);
    expect(store.messageIds('queue://DLQ.q')).toHaveLength(150);
  });

  it('transactional acks of paged-in messages commit and roll back', async () => {
    const { h, c, store } = await paging();
    await sendN(c, 150);
    const { sub, rec } = h.sub(c, { address: 'queue://q', ackMode: 'individual', prefetch: 200 });
    for (let i = 0; i < 200 && rec.deliveries.length < 150; i++) await ticks(2);
    c.begin('t1');
    for (const d of rec.deliveries.slice(0, 100)) await sub.ack(d.tag, 't1');
    await c.commit('t1');
    expect(store.messageIds('queue://q')).toEqual(
      labels(50, 100).map((_, i) => rec.deliveries[100 + i]!.message.id),
    );
    c.begin('t2');
    for (const d of rec.deliveries.slice(100)) await sub.ack(d.tag, 't2');
    c.rollback('t2');
    sub.close();
    const again = await drain(h, c, 50);
    expect(again.rec.texts().map(label)).toEqual(labels(50, 100));
    expect(again.rec.deliveries.every((d) => d.redelivered)).toBe(true);
  });

  it('browsing pages messages in: browsers see whole messages', async () => {
    const { h, c } = await paging();
    await sendN(c, 150);
    const browsed = c.browse('queue://q', { max: 150 });
    expect(browsed.map((m) => label(text(m)))).toEqual(labels(150));
    expect(browsed.every((m) => m.body.byteLength === BODY)).toBe(true);
    const admin = h.core.admin.browse('q', { max: 5 });
    expect(admin.map((b) => b.message.body.byteLength)).toEqual([BODY, BODY, BODY, BODY, BODY]);
    // The queue is unchanged and pages them out again on its next durable batch.
    await sendN(c, 1, 150);
    expect(queueStats(h.core).paged).toBeGreaterThan(100);
    expect(queueStats(h.core).depth).toBe(151);
  });

  it('an operator moves a paged message whole; purging needs no read', async () => {
    const { h, c, store } = await paging();
    await sendN(c, 150);
    const ids = store.messageIds('queue://q');
    const last = ids[149]!;
    h.core.admin.moveMessage('q', last, 'queue://other');
    await ticks(2);
    const other = await (async () => {
      const { rec } = h.sub(c, { address: 'queue://other', ackMode: 'auto' });
      for (let i = 0; i < 50 && rec.deliveries.length < 1; i++) await ticks(1);
      return rec;
    })();
    expect(other.deliveries[0]!.message.id).toBe(last);
    expect(other.deliveries[0]!.message.body.byteLength).toBe(BODY);
    const read = store.messagesRead;
    expect(h.core.admin.purge('q')).toBe(149);
    expect(store.messagesRead).toBe(read);
    expect(h.core.stats().memory.used).toBe(0);
  });

  it('a restart over a full store recovers paged out, then drains in order', async () => {
    const store = new MemoryStore({ paging: true });
    const first = await paging({}, store);
    await sendN(first.c, 200);
    await first.h.core.shutdown();
    const { h, c } = await paging({}, store);
    const q = queueStats(h.core);
    expect(q.depth).toBe(200);
    expect(q.paged).toBeGreaterThan(100);
    expect(q.memoryBytes).toBeLessThan(LIMIT);
    const { rec } = await drain(h, c, 200);
    expect(rec.texts().map(label)).toEqual(labels(200));
    expect(rec.deliveries.every((d) => d.redelivered)).toBe(true);
  });

  it('a durable subscription pages like a queue', async () => {
    const { h } = await paging();
    const owner = h.connect('client-1');
    const first = h.sub(owner, { address: 'topic://t', durableName: 'd', ackMode: 'auto' });
    first.sub.close();
    const producer = h.connect();
    const sends = [];
    for (let i = 0; i < 150; i++)
      sends.push(producer.send({ address: 'topic://t', body: body(i), persistent: true }));
    expect(await settles(Promise.all(sends))).toBe(true);
    expect(h.core.stats().durables[0]!.paged).toBeGreaterThan(50);
    const again = h.sub(owner, { address: 'topic://t', durableName: 'd', ackMode: 'auto', prefetch: 10 });
    for (let i = 0; i < 200 && again.rec.deliveries.length < 150; i++) await ticks(2);
    expect(again.rec.texts().map(label)).toEqual(labels(150));
  });

  it('messages locked by a prepared XA branch across a restart are paged, then rolled back whole', async () => {
    const store = new MemoryStore({ paging: true });
    const first = await paging({}, store);
    await sendN(first.c, 150);
    const { sub, rec } = first.h.sub(first.c, { address: 'queue://q', ackMode: 'individual', prefetch: 200 });
    for (let i = 0; i < 200 && rec.deliveries.length < 150; i++) await ticks(2);
    const xid = { formatId: 1, globalId: bytes('g'), branchId: bytes('b') };
    first.c.xaStart(xid, 'x');
    // The last 20 (paged out before they were delivered, and again after the restart) are acked in it.
    for (const d of rec.deliveries.slice(130)) await sub.ack(d.tag, 'x');
    first.c.xaEnd(xid);
    expect(await first.c.xaPrepare(xid)).toBe('prepared');
    await first.h.core.shutdown();

    const { h, c } = await paging({}, store);
    expect(queueStats(h.core).depth).toBe(150);
    expect(queueStats(h.core).paged).toBeGreaterThan(60);
    const early = await drain(h, c, 130);
    expect(early.rec.texts().map(label)).toEqual(labels(130));
    await c.xaRollback(xid);
    for (let i = 0; i < 200 && early.rec.deliveries.length < 150; i++) await ticks(2);
    expect(early.rec.texts().map(label)).toEqual(labels(150));
    expect(early.rec.deliveries.every((d) => d.message.body.byteLength === BODY)).toBe(true);
  });

  it('a failed page-in is retried', async () => {
    const store = new MemoryStore({ paging: true });
    const { h, c } = await paging({}, store);
    await sendN(c, 150);
    const read = store.read!;
    let failures = 1;
    (store as { read: typeof read }).read = (queue, ids) =>
      failures-- > 0 ? Promise.reject(new Error('EIO')) : read(queue, ids);
    const { rec } = h.sub(c, { address: 'queue://q', ackMode: 'auto', prefetch: 10 });
    for (let i = 0; i < 50 && rec.deliveries.length < 150; i++) await ticks(2);
    const before = rec.deliveries.length;
    expect(before).toBeLessThan(150);
    h.time.advance(1000);
    for (let i = 0; i < 200 && rec.deliveries.length < 150; i++) await ticks(2);
    expect(rec.texts().map(label)).toEqual(labels(150));
    expect(h.core.stats().memory.paging?.readFailures).toBe(1);
  });
});
