import { afterEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/core/api.js';
import { createBrokerCore, RetainedStore } from '../../../src/core/index.js';
import type { MessageStore, StoreOp } from '../../../src/core/store.js';
import { mqttProtocol } from '../../../src/protocol/mqtt/index.js';
import { type Broker, Client, flush, ManualTimers, startBroker, testAuthenticator } from './harness.js';

let b: Broker | undefined;
afterEach(() => b?.close());

describe('flow control and cross-protocol', () => {
  it('transport back-pressure pauses the subscriptions until it drains', async () => {
    b = await startBroker();
    const s = b.client(4);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 't', qos: 0 }]);
    s.read();
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    s.transport.writable = false;
    for (let i = 0; i < 5; i++) p.publish('t', `m${i}`);
    // The first write reported "full": the rest wait in the core.
    expect(s.publishes().map((x) => String(x.payload))).toEqual(['m0']);
    s.transport.drain();
    expect(s.publishes().map((x) => String(x.payload))).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('a consumer that never drains is dropped after the slow-consumer timeout', async () => {
    b = await startBroker({ slowConsumerTimeoutMs: 1000 });
    const s = b.client(4);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 't', qos: 0 }]);
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    s.transport.writable = false;
    p.publish('t', 'x');
    b.timers.advance(1000);
    expect(s.transport.destroyed).toBe(true);
  });

  it('stops reading while Receive Maximum acks await the store', async () => {
    const pending: Array<() => void> = [];
    const store: MessageStore = {
      load: () => Promise.resolve({ queues: [], durables: [] }),
      write: (_ops: readonly StoreOp[]) => new Promise<void>((r) => pending.push(r)),
      close: () => Promise.resolve(),
    };
    const core = await createBrokerCore({ store });
    const protocol = mqttProtocol({
      core,
      authenticator: testAuthenticator,
      retained: new RetainedStore(),
      timers: new ManualTimers(),
      limits: { receiveMaximum: 4 },
    });
    // A durable subscription makes the messages persistent in the store (a topic alone stores nothing).
    const keeper = core.connect({
      principal: { user: 'k', anonymous: false },
      clientId: 'k',
      protocol: 'test',
    });
    keeper.subscribe(
      { address: 'topic://t', ackMode: 'auto', prefetch: 1, durableName: 'd' },
      { deliver() {} },
    );
    keeper.close();
    while (pending.length > 0) pending.shift()!();
    const c = new Client(protocol, 4);
    await c.connect();
    for (let i = 1; i <= 6; i++) c.publish('t', `m${i}`, { qos: 1, messageId: i });
    await flush();
    expect(c.transport.readingPaused).toBe(true);
    expect(c.read()).toEqual([]);
    while (pending.length > 0) pending.shift()!();
    await flush();
    while (pending.length > 0) pending.shift()!();
    await flush();
    expect(c.read().map((x) => x.messageId)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(c.transport.readingPaused).toBe(false);
    c.session.onClose();
    await core.shutdown();
  });

  it('a STOMP-style producer on topic://a.b.c reaches MQTT a/+/c and back, body and properties kept', async () => {
    b = await startBroker();
    const other = b.core.connect({ principal: { user: 'stomp', anonymous: false }, protocol: 'stomp' });
    const got: Delivery[] = [];
    other.subscribe(
      { address: 'topic://x.>', ackMode: 'auto', prefetch: 100 },
      { deliver: (_s, d) => got.push(d) },
    );
    const s = b.client(5);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 'a/+/c', qos: 1 }]);
    s.read();
    const body = Buffer.from([0, 1, 2, 255]);
    await other.send({
      address: 'topic://a.b.c',
      body,
      persistent: true,
      properties: { color: 'red', n: 3 },
      correlationId: 'c-1',
      replyTo: 'topic://x.reply',
    });
    const [m] = s.publishes();
    expect(m).toMatchObject({ topic: 'a/b/c', qos: 1 });
    expect(Buffer.from(m!.payload as Buffer)).toEqual(body);
    expect(m!.properties).toMatchObject({
      userProperties: { color: 'red', n: '3' },
      correlationData: Buffer.from('c-1'),
      responseTopic: 'x/reply',
    });
    s.publish('x/y.z/w', body, { qos: 1, properties: { userProperties: { k: 'v' }, contentType: 'b' } });
    await flush();
    expect(
      got.map((d) => [d.message.address, Buffer.from(d.message.body), d.message.properties['k']]),
    ).toEqual([['topic://x.y/z.w', body, 'v']]);
    expect(got[0]!.message.contentType).toBe('b');
    other.close();
  });
});
