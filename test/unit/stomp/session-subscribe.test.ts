import { describe, expect, it } from 'vitest';
import type { StompVersion } from '../../../src/protocol/stomp/index.js';
import { BlazeError } from '../../../src/util/errors.js';
import { flush, Peer } from './fakes.js';

async function connected(
  version: StompVersion = '1.2',
  options: ConstructorParameters<typeof Peer>[0] = {},
): Promise<Peer> {
  const p = new Peer(options);
  await p.connect(version === '1.0' ? {} : { 'accept-version': version, host: 'h' });
  return p;
}

describe('SUBSCRIBE', () => {
  it('maps destination, ack mode, selector, prefetch, noLocal', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', {
      id: 's1',
      destination: '/topic/prices.*',
      ack: 'client',
      selector: "sym = 'IBM'",
      'activemq.prefetchSize': '5',
      'activemq.noLocal': 'true',
      receipt: 'r',
    });
    expect(p.conn.subscriptions[0]!.options).toEqual({
      address: 'topic://prices.*',
      ackMode: 'cumulative',
      prefetch: 5,
      selector: "sym = 'IBM'",
      noLocal: true,
    });
    expect(p.one().headers['receipt-id']).toBe('r');
  });

  it('defaults: auto ack with the large auto window; client-individual with prefetch 1000', async () => {
    const p = await connected('1.2', { limits: { autoPrefetch: 5000 } });
    p.frame('SUBSCRIBE', { id: 'a', destination: '/queue/q' });
    p.frame('SUBSCRIBE', { id: 'b', destination: '/queue/q', ack: 'client-individual' });
    expect(p.conn.subscriptions.map((s) => [s.options.ackMode, s.options.prefetch])).toEqual([
      ['auto', 5000],
      ['individual', 1000],
    ]);
  });

  it('durable subscription with client-id', async () => {
    const p = new Peer();
    await p.connect({ 'accept-version': '1.2', 'client-id': 'app' });
    p.frame('SUBSCRIBE', { id: 'd', destination: '/topic/news', 'activemq.subscriptionName': 'news-sub' });
    p.frame('SUBSCRIBE', { id: 'e', destination: '/topic/more', 'durable-subscriber-name': 'more-sub' });
    expect(p.conn.subscriptions.map((s) => s.options.durableName)).toEqual(['news-sub', 'more-sub']);
  });

  it('durable subscription without client-id: ERROR', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 'd', destination: '/topic/news', 'activemq.subscriptionName': 'n' });
    expect(p.one().headers['message']).toMatch(/client-id/);
    expect(p.transport.ended).toBe(true);
  });

  for (const [what, headers, pattern] of [
    ['no id in 1.2', { destination: '/queue/a' }, /'id'/],
    ['no destination', { id: 's' }, /destination/],
    ['a bad ack mode', { id: 's', destination: '/queue/a', ack: 'sometimes' }, /ack mode/],
    ['a bad prefetch', { id: 's', destination: '/queue/a', 'activemq.prefetchSize': '0' }, /prefetchSize/],
  ] as const) {
    it(`${what}: ERROR and close`, async () => {
      const p = await connected();
      p.frame('SUBSCRIBE', headers);
      expect(p.one().headers['message']).toMatch(pattern);
      expect(p.transport.ended).toBe(true);
    });
  }

  it('a duplicate id: ERROR', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a' });
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/b' });
    expect(p.one().headers['message']).toMatch(/already in use/);
    expect(p.conn.subscriptions).toHaveLength(1);
  });

  it('an invalid selector refused by the core: ERROR mentioning the selector', async () => {
    const p = await connected();
    p.conn.subscribeError = new BlazeError('INVALID_SELECTOR', "Invalid selector 'price >': unexpected end");
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a', selector: 'price >' });
    expect(p.one().headers['message']).toMatch(/selector/);
  });

  it('1.0: id defaults to the destination, UNSUBSCRIBE by destination', async () => {
    const p = await connected('1.0');
    p.frame('SUBSCRIBE', { destination: '/queue/a' }, undefined, '1.0');
    p.conn.subscriptions[0]!.push({ body: Buffer.from('x') });
    expect(p.one().headers['subscription']).toBe('/queue/a');
    p.frame('UNSUBSCRIBE', { destination: '/queue/a', receipt: 'u' }, undefined, '1.0');
    expect(p.conn.subscriptions[0]!.closed).toBe(true);
    expect(p.one().headers['receipt-id']).toBe('u');
  });
});

describe('UNSUBSCRIBE', () => {
  it('closes the core subscription; later deliveries from it are still safe', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a' });
    p.frame('UNSUBSCRIBE', { id: 's', receipt: 'u' });
    expect(p.conn.subscriptions[0]!.closed).toBe(true);
    expect(p.one().headers['receipt-id']).toBe('u');
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/b' });
    expect(p.conn.subscriptions).toHaveLength(2);
  });

  it('with a durable name removes the durable subscription', async () => {
    const p = new Peer();
    await p.connect({ 'accept-version': '1.2', 'client-id': 'app' });
    p.frame('SUBSCRIBE', { id: 'd', destination: '/topic/t', 'activemq.subscriptionName': 'n' });
    p.frame('UNSUBSCRIBE', { id: 'd', 'activemq.subscriptionName': 'n' });
    expect(p.conn.subscriptions[0]!.closed).toBe(true);
    expect(p.conn.durableRemoved).toEqual(['n']);
  });

  it('an unknown id: ERROR', async () => {
    const p = await connected();
    p.frame('UNSUBSCRIBE', { id: 'nope' });
    expect(p.one().headers['message']).toMatch(/No subscription with id 'nope'/);
  });
});

describe('MESSAGE frames', () => {
  it('carries every mapped field, custom properties and the body (1.2)', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 'sub:1', destination: '/queue/orders', ack: 'client-individual' });
    const body = Buffer.from([104, 0, 105]);
    const d = p.conn.subscriptions[0]!.push(
      {
        id: 'ID:m-1',
        address: 'queue://orders',
        body,
        persistent: true,
        priority: 7,
        expiration: 1_800_000_000_000,
        timestamp: 1_700_000_000_123,
        correlationId: 'c:1',
        replyTo: 'temp-queue://conn-7:1',
        groupId: 'g',
        contentType: 'application/octet-stream',
        properties: {
          'x-app': 'demo',
          n: 3,
          ok: true,
          nil: null,
          destination: 'spoof',
          'multi\nline': 'a\\b',
        },
      },
      { redelivered: true },
    );
    const f = p.one();
    expect(f.command).toBe('MESSAGE');
    expect({ ...f.headers }).toEqual({
      subscription: 'sub:1',
      'message-id': 'ID:m-1',
      destination: '/queue/orders',
      ack: `1-${d.tag.toString(36)}`,
      redelivered: 'true',
      persistent: 'true',
      priority: '7',
      expires: '1800000000000',
      timestamp: '1700000000123',
      'correlation-id': 'c:1',
      'reply-to': '/remote-temp-queue/conn-7:1',
      JMSXGroupID: 'g',
      'content-type': 'application/octet-stream',
      'content-length': '3',
      'x-app': 'demo',
      n: '3',
      ok: 'true',
      'multi\nline': 'a\\b',
    });
    expect([...f.body]).toEqual([...body]);
  });

  it('renders our own temporary destinations with the name the client gave them', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 's', destination: '/temp-queue/replies' });
    const address = p.conn.temporaries[0]!;
    p.conn.subscriptions[0]!.push({ address, replyTo: address });
    const f = p.one();
    expect(f.headers['destination']).toBe('/temp-queue/replies');
    expect(f.headers['reply-to']).toBe('/temp-queue/replies');
  });

  it('auto subscriptions get no ack header; topics render as /topic/', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 's', destination: '/topic/a.>' });
    p.conn.subscriptions[0]!.push({ address: 'topic://a.b' });
    const f = p.one();
    expect(f.headers['ack']).toBeUndefined();
    expect(f.headers['destination']).toBe('/topic/a.b');
    expect(f.headers['redelivered']).toBeUndefined();
    expect(f.headers['persistent']).toBeUndefined();
  });

  it('1.1: no ack header, escaping without \\r', async () => {
    const p = await connected('1.1');
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a', ack: 'client' }, undefined, '1.1');
    p.conn.subscriptions[0]!.push({ properties: { k: 'a:b\nc' } });
    const raw = p.transport.chunks.at(-1)!.toString();
    expect(raw).toContain('k:a\\cb\\nc\n');
    const f = p.one();
    expect(f.headers['ack']).toBeUndefined();
    expect(f.headers['k']).toBe('a:b\nc');
  });

  it('1.0: no escaping, line breaks in values flattened', async () => {
    const p = await connected('1.0');
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a' }, undefined, '1.0');
    p.conn.subscriptions[0]!.push({ properties: { k: 'a:b\nc\\d' } });
    expect(p.one().headers['k']).toBe('a:b c\\d');
  });
});

describe('ACK / NACK', () => {
  it('1.2 client-individual: ACK and NACK by id, each once', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a', ack: 'client-individual' });
    const sub = p.conn.subscriptions[0]!;
    sub.push();
    sub.push();
    const [m1, m2] = p.read();
    p.frame('ACK', { id: m2!.headers['ack']!, receipt: 'a' });
    p.frame('NACK', { id: m1!.headers['ack']! });
    expect(sub.acks).toEqual([[2, undefined]]);
    expect(sub.nacks).toEqual([[1, undefined]]);
    expect(p.one().headers['receipt-id']).toBe('a');
    p.frame('ACK', { id: m2!.headers['ack']! });
    expect(p.one().headers['message']).toMatch(/unknown ack id/);
    expect(p.transport.ended).toBe(true);
  });

  it('1.2 client mode: ACK is cumulative, so earlier deliveries are no longer ackable', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a', ack: 'client' });
    const sub = p.conn.subscriptions[0]!;
    sub.push();
    sub.push();
    sub.push();
    const frames = p.read();
    p.frame('ACK', { id: frames[1]!.headers['ack']! });
    expect(sub.acks).toEqual([[2, undefined]]);
    p.frame('ACK', { id: frames[2]!.headers['ack']! });
    expect(sub.acks).toEqual([
      [2, undefined],
      [3, undefined],
    ]);
    p.frame('ACK', { id: frames[0]!.headers['ack']! });
    expect(p.one().command).toBe('ERROR');
  });

  it('ACK inside a transaction', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a', ack: 'client-individual' });
    p.conn.subscriptions[0]!.push();
    const m = p.one();
    p.frame('BEGIN', { transaction: 't' });
    p.frame('ACK', { id: m.headers['ack']!, transaction: 't' });
    expect(p.conn.subscriptions[0]!.acks).toEqual([[1, 't']]);
  });

  it('ACK for an auto subscription, a garbage id or no id: ERROR', async () => {
    for (const headers of [{ id: '1-1' }, { id: 'zz' }, {}] as Array<Record<string, string>>) {
      const p = await connected();
      p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a' });
      p.conn.subscriptions[0]!.push();
      p.read();
      p.frame('ACK', headers);
      expect(p.one().command).toBe('ERROR');
    }
  });

  it('1.1: ACK/NACK by subscription + message-id', async () => {
    const p = await connected('1.1');
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a', ack: 'client-individual' }, undefined, '1.1');
    const sub = p.conn.subscriptions[0]!;
    sub.push({ id: 'm1' });
    sub.push({ id: 'm2' });
    p.read();
    p.frame('NACK', { subscription: 's', 'message-id': 'm2' }, undefined, '1.1');
    p.frame('ACK', { subscription: 's', 'message-id': 'm1', receipt: 'r' }, undefined, '1.1');
    expect(sub.nacks).toEqual([[2, undefined]]);
    expect(sub.acks).toEqual([[1, undefined]]);
    expect(p.one().headers['receipt-id']).toBe('r');
    p.frame('ACK', { 'message-id': 'm1' }, undefined, '1.1');
    expect(p.one().headers['message']).toMatch(/subscription/);
  });

  it('1.0: ACK by message-id alone', async () => {
    const p = await connected('1.0');
    p.frame('SUBSCRIBE', { destination: '/queue/a', ack: 'client' }, undefined, '1.0');
    p.frame('SUBSCRIBE', { destination: '/queue/b', ack: 'client' }, undefined, '1.0');
    p.conn.subscriptions[1]!.push({ id: 'mb' });
    p.read();
    p.frame('ACK', { 'message-id': 'mb' }, undefined, '1.0');
    expect(p.conn.subscriptions[1]!.acks).toEqual([[1, undefined]]);
    p.frame('ACK', { 'message-id': 'mb' }, undefined, '1.0');
    expect(p.one().headers['message']).toMatch(/unknown message-id 'mb'/);
  });
});

describe('output back-pressure', () => {
  it('pauses every subscription when write returns false and resumes them on drain', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 'a', destination: '/queue/a' });
    p.frame('SUBSCRIBE', { id: 'b', destination: '/queue/b' });
    const [a, b] = p.conn.subscriptions as [
      NonNullable<(typeof p.conn.subscriptions)[0]>,
      NonNullable<(typeof p.conn.subscriptions)[0]>,
    ];
    p.transport.writable = false;
    a.push();
    expect(a.paused && b.paused).toBe(true);
    a.push();
    expect(a.pauseCalls).toBe(1);
    expect(p.transport.drainWaiters).toBe(1);
    // A subscription opened while blocked starts paused.
    p.frame('SUBSCRIBE', { id: 'c', destination: '/queue/c' });
    expect(p.conn.subscriptions[2]!.paused).toBe(true);
    p.transport.drain();
    expect([a.paused, b.paused, p.conn.subscriptions[2]!.paused]).toEqual([false, false, false]);
    expect(p.read()).toHaveLength(2);
    expect(p.transport.ended || p.transport.destroyed).toBe(false);
  });

  it('drops a client that does not drain within slowConsumerTimeoutMs', async () => {
    const p = await connected('1.2', { limits: { slowConsumerTimeoutMs: 5000 } });
    p.frame('SUBSCRIBE', { id: 'a', destination: '/queue/a', ack: 'client' });
    p.transport.writable = false;
    p.conn.subscriptions[0]!.push();
    p.timers.advance(4999);
    expect(p.transport.destroyed).toBe(false);
    p.timers.advance(1);
    expect(p.transport.destroyed).toBe(true);
    expect(p.conn.closed).toBe(true);
    expect(p.read().at(-1)!.headers['message']).toMatch(/Slow consumer/);
  });

  it('a drain in time cancels the slow-consumer timer', async () => {
    const p = await connected('1.2', { limits: { slowConsumerTimeoutMs: 5000 } });
    p.frame('SUBSCRIBE', { id: 'a', destination: '/queue/a' });
    p.transport.writable = false;
    p.conn.subscriptions[0]!.push();
    p.timers.advance(3000);
    p.transport.drain();
    p.timers.advance(10_000);
    expect(p.transport.destroyed).toBe(false);
  });

  it('deliveries made from inside subscribe() are written', async () => {
    const p = await connected();
    p.conn.onSubscribe = (sub) => {
      sub.push({ body: Buffer.from('early') });
    };
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a', ack: 'client-individual', receipt: 'r' });
    const frames = p.read();
    expect(frames.map((f) => f.command)).toEqual(['MESSAGE', 'RECEIPT']);
    p.frame('ACK', { id: frames[0]!.headers['ack']! });
    expect(p.conn.subscriptions[0]!.acks).toHaveLength(1);
  });

  it('a subscription ended by the core is forgotten', async () => {
    const p = await connected();
    p.frame('SUBSCRIBE', { id: 's', destination: '/queue/a' });
    const sub = p.conn.subscriptions[0]!;
    sub.sink.closed?.(sub, 'temporary destination deleted');
    p.frame('UNSUBSCRIBE', { id: 's' });
    expect(p.one().command).toBe('ERROR');
    await flush();
  });
});
