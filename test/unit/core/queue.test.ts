import { describe, expect, it } from 'vitest';
import { bytes, expectCode, harness, sendAll, text } from './helpers.js';

describe('queue dispatch', () => {
  it('load-balances round robin across consumers', async () => {
    const h = await harness();
    const c = h.connect();
    const a = h.sub(c, { address: 'queue://q' });
    const b = h.sub(c, { address: 'queue://q' });
    await sendAll(c, 'queue://q', ['1', '2', '3', '4']);
    expect(a.rec.texts()).toEqual(['1', '3']);
    expect(b.rec.texts()).toEqual(['2', '4']);
  });

  it('respects prefetch and refills on ack', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q', prefetch: 2 });
    await sendAll(c, 'queue://q', ['1', '2', '3', '4', '5']);
    expect(rec.texts()).toEqual(['1', '2']);
    sub.ack(rec.deliveries[0]!.tag);
    expect(rec.texts()).toEqual(['1', '2', '3']);
    expect(h.core.stats().queues[0]).toMatchObject({
      address: 'queue://q',
      pending: 2,
      inFlight: 2,
      depth: 4,
    });
  });

  it('messages sent before a consumer exists wait for it', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://q', ['1', '2']);
    const { rec } = h.sub(c, { address: 'queue://q' });
    expect(rec.texts()).toEqual(['1', '2']);
  });

  it('delivers higher priorities first, FIFO within a priority', async () => {
    const h = await harness();
    const c = h.connect();
    await c.send({ address: 'queue://q', body: bytes('low1'), priority: 1 });
    await c.send({ address: 'queue://q', body: bytes('hi1'), priority: 9 });
    await c.send({ address: 'queue://q', body: bytes('mid'), priority: 4 });
    await c.send({ address: 'queue://q', body: bytes('hi2'), priority: 9 });
    await c.send({ address: 'queue://q', body: bytes('low2'), priority: 1 });
    await c.send({ address: 'queue://q', body: bytes('clamped'), priority: 42 });
    const { rec } = h.sub(c, { address: 'queue://q' });
    expect(rec.texts()).toEqual(['hi1', 'hi2', 'clamped', 'mid', 'low1', 'low2']);
  });

  it('keeps a message group on one consumer and reassigns it when that consumer closes', async () => {
    const h = await harness();
    const c = h.connect();
    const a = h.sub(c, { address: 'queue://q' });
    const b = h.sub(c, { address: 'queue://q' });
    for (const [g, body] of [
      ['g1', 'x1'],
      ['g2', 'y1'],
      ['g1', 'x2'],
      ['g1', 'x3'],
      ['g2', 'y2'],
    ]) {
      await c.send({ address: 'queue://q', body: bytes(body!), groupId: g });
    }
    expect(a.rec.texts()).toEqual(['x1', 'x2', 'x3']);
    expect(b.rec.texts()).toEqual(['y1', 'y2']);
    a.sub.close();
    // a's unacked x1..x3 go back; g1 now belongs to b.
    expect(b.rec.texts()).toEqual(['y1', 'y2', 'x1', 'x2', 'x3']);
    await c.send({ address: 'queue://q', body: bytes('x4'), groupId: 'g1' });
    expect(b.rec.last.message.groupId).toBe('g1');
    expect(text(b.rec.last.message)).toBe('x4');
  });

  it('a group owner without credit holds its group back, others keep flowing', async () => {
    const h = await harness();
    const c = h.connect();
    const a = h.sub(c, { address: 'queue://q', prefetch: 1 });
    const b = h.sub(c, { address: 'queue://q', prefetch: 5 });
    await c.send({ address: 'queue://q', body: bytes('g-1'), groupId: 'g' });
    await c.send({ address: 'queue://q', body: bytes('g-2'), groupId: 'g' });
    await c.send({ address: 'queue://q', body: bytes('free'), groupId: undefined });
    expect(a.rec.texts()).toEqual(['g-1']);
    expect(b.rec.texts()).toEqual(['free']);
    a.sub.ack(a.rec.last.tag);
    expect(a.rec.texts()).toEqual(['g-1', 'g-2']);
  });

  it('selectors: a consumer only gets matching messages, the rest stay for others', async () => {
    const h = await harness();
    const c = h.connect();
    const red = h.sub(c, { address: 'queue://q', selector: "color = 'red'" });
    await c.send({ address: 'queue://q', body: bytes('r1'), properties: { color: 'red' } });
    await c.send({ address: 'queue://q', body: bytes('b1'), properties: { color: 'blue' } });
    await c.send({ address: 'queue://q', body: bytes('r2'), properties: { color: 'red' } });
    expect(red.rec.texts()).toEqual(['r1', 'r2']);
    expect(h.core.stats().queues[0]!.pending).toBe(1);
    const any = h.sub(c, { address: 'queue://q' });
    expect(any.rec.texts()).toEqual(['b1']);
  });

  it('a selector that does not compile is refused', async () => {
    const h = await harness();
    const c = h.connect();
    await expectCode(() => h.sub(c, { address: 'queue://q', selector: 'nonsense ((' }), 'INVALID_SELECTOR');
  });

  it('uses the real compiler by default (INVALID_SELECTOR until it lands or for bad input)', async () => {
    const h = await harness({ compileSelector: undefined });
    const c = h.connect();
    await expectCode(() => h.sub(c, { address: 'queue://q', selector: 'a = = 1' }), 'INVALID_SELECTOR');
  });

  it('plumbs the real JMS selector compiler by default', async () => {
    const h = await harness({ compileSelector: undefined });
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'queue://q', selector: "color = 'red' AND n > 3" });
    await c.send({ address: 'queue://q', body: bytes('no'), properties: { color: 'red', n: 1 } });
    await c.send({ address: 'queue://q', body: bytes('yes'), properties: { color: 'red', n: 5 } });
    expect(rec.texts()).toEqual(['yes']);
  });

  it('individual ack acks one delivery; cumulative acks it and all earlier', async () => {
    const h = await harness();
    const c = h.connect();
    const ind = h.sub(c, { address: 'queue://i', ackMode: 'individual' });
    const cum = h.sub(c, { address: 'queue://c', ackMode: 'cumulative' });
    await sendAll(c, 'queue://i', ['1', '2', '3']);
    await sendAll(c, 'queue://c', ['1', '2', '3']);
    ind.sub.ack(ind.rec.deliveries[1]!.tag);
    cum.sub.ack(cum.rec.deliveries[1]!.tag);
    const stats = Object.fromEntries(h.core.stats().queues.map((q) => [q.address, q]));
    expect(stats['queue://i']).toMatchObject({ inFlight: 2, dequeued: 1 });
    expect(stats['queue://c']).toMatchObject({ inFlight: 1, dequeued: 2 });
    // Already acked -> unknown tag.
    expect(() => cum.sub.ack(cum.rec.deliveries[0]!.tag)).toThrowError(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    expect(() => ind.sub.ack(999)).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('auto ack: consumed on hand-over, prefetch bounds each turn', async () => {
    const h = await harness();
    const c = h.connect();
    await sendAll(c, 'queue://q', ['1', '2', '3', '4', '5']);
    const { sub, rec } = h.sub(c, { address: 'queue://q', ackMode: 'auto', prefetch: 2 });
    expect(rec.texts()).toEqual(['1', '2']);
    h.time.runDeferred(1);
    expect(rec.texts()).toEqual(['1', '2', '3', '4']);
    h.time.runDeferred();
    expect(rec.texts()).toHaveLength(5);
    expect(() => sub.ack(rec.last.tag)).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(h.core.stats().queues[0]).toMatchObject({ depth: 0, dequeued: 5 });
  });

  it('nack redelivers with redelivered=true and an increased delivery count', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    await sendAll(c, 'queue://q', ['1', '2']);
    const first = rec.deliveries[0]!;
    expect(first).toMatchObject({ redelivered: false, deliveryCount: 1 });
    sub.nack(first.tag);
    expect(rec.last).toMatchObject({ redelivered: true, deliveryCount: 2 });
    expect(text(rec.last.message)).toBe('1');
  });

  it('close() returns unacked messages, in order, to other consumers', async () => {
    const h = await harness();
    const c = h.connect();
    const a = h.sub(c, { address: 'queue://q', prefetch: 3 });
    await sendAll(c, 'queue://q', ['1', '2', '3', '4', '5']);
    a.sub.ack(a.rec.deliveries[0]!.tag);
    expect(a.rec.texts()).toEqual(['1', '2', '3', '4']);
    const b = h.sub(c, { address: 'queue://q' });
    expect(b.rec.texts()).toEqual(['5']);
    a.sub.close();
    expect(b.rec.texts()).toEqual(['5', '2', '3', '4']);
    expect(b.rec.deliveries.map((d) => [d.redelivered, d.deliveryCount])).toEqual([
      [false, 1],
      [true, 2],
      [true, 2],
      [true, 2],
    ]);
    expect(() => a.sub.ack(a.rec.deliveries[1]!.tag)).toThrowError(
      expect.objectContaining({ code: 'CLOSED' }),
    );
  });

  it('closing the connection returns unacked messages too', async () => {
    const h = await harness();
    const c1 = h.connect();
    const c2 = h.connect();
    const a = h.sub(c1, { address: 'queue://q' });
    await sendAll(c2, 'queue://q', ['1', '2']);
    expect(a.rec.texts()).toEqual(['1', '2']);
    c1.close();
    const b = h.sub(c2, { address: 'queue://q' });
    expect(b.rec.texts()).toEqual(['1', '2']);
    expect(h.core.stats().connections).toHaveLength(1);
  });

  it('pause stops dispatch; resume continues', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    sub.pause();
    await sendAll(c, 'queue://q', ['1', '2']);
    expect(rec.texts()).toEqual([]);
    sub.resume();
    expect(rec.texts()).toEqual(['1', '2']);
  });

  it('survives re-entrant sinks (ack and send inside deliver)', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q', prefetch: 1 });
    let n = 0;
    rec.onDeliver = (_s, d) => {
      sub.ack(d.tag);
      if (++n < 50) void c.send({ address: 'queue://q', body: bytes(String(n)) });
    };
    await c.send({ address: 'queue://q', body: bytes('0') });
    expect(rec.texts()).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(h.core.stats().queues[0]).toMatchObject({ depth: 0, enqueued: 50, dequeued: 50 });
  });

  it('composite send routes to each destination', async () => {
    const h = await harness();
    const c = h.connect();
    const q = h.sub(c, { address: 'queue://a' });
    const t = h.sub(c, { address: 'topic://b' });
    const q2 = h.sub(c, { address: 'queue://c' });
    await c.send({ address: 'queue://a,topic://b,queue://c', body: bytes('x') });
    expect(q.rec.last.message.address).toBe('queue://a');
    expect(t.rec.last.message.address).toBe('topic://b');
    expect(q2.rec.last.message.address).toBe('queue://c');
    expect(q.rec.last.message.id).toBe(t.rec.last.message.id);
  });

  it('refuses invalid send addresses', async () => {
    const h = await harness();
    const c = h.connect();
    await expectCode(c.send({ address: 'topic://a.*', body: bytes('x') }), 'INVALID_ADDRESS');
    await expectCode(c.send({ address: 'queue://', body: bytes('x') }), 'INVALID_ADDRESS');
    await expectCode(c.send({ address: 'nope', body: bytes('x') }), 'INVALID_ADDRESS');
  });

  it('maxQueueDepth refuses sends beyond the limit', async () => {
    const h = await harness({ policy: { maxQueueDepth: 2 } });
    const c = h.connect();
    await sendAll(c, 'queue://q', ['1', '2']);
    await expectCode(c.send({ address: 'queue://q', body: bytes('3') }), 'LIMIT_EXCEEDED');
  });

  it('fills message fields', async () => {
    const h = await harness({ idPrefix: 'ID:test' });
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'queue://q' });
    await c.send({ address: 'queue://q', body: bytes('x'), correlationId: 'k', replyTo: 'queue://r' });
    expect(rec.last.message).toMatchObject({
      id: 'ID:test:1',
      address: 'queue://q',
      persistent: false,
      priority: 4,
      expiration: 0,
      timestamp: h.time.now(),
      correlationId: 'k',
      replyTo: 'queue://r',
      producerConnectionId: c.id,
      properties: {},
    });
  });

  it('refuses bad subscribe options', async () => {
    const h = await harness();
    const c = h.connect();
    await expectCode(() => h.sub(c, { address: 'queue://q', prefetch: 0 }), 'BAD_REQUEST');
    // biome-ignore lint/suspicious/noExplicitAny: invalid on purpose
    await expectCode(() => h.sub(c, { address: 'queue://q', ackMode: 'bogus' as any }), 'BAD_REQUEST');
    await expectCode(() => h.sub(c, { address: 'queue://a.*' }), 'INVALID_ADDRESS');
  });
});
