import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RC } from '../../../src/protocol/mqtt/index.js';
import { type Broker, flush, startBroker } from './harness.js';

let b: Broker;
beforeEach(async () => {
  b = await startBroker();
});
afterEach(() => b.close());

const text = (ps: Array<{ payload: Buffer | string }>) => ps.map((p) => String(p.payload));

describe('SUBSCRIBE / UNSUBSCRIBE', () => {
  it('one code per filter; invalid filters refused (3.1.1 0x80, 5.0 0x8F); authorization 0x87', async () => {
    const c4 = b.client(4);
    await c4.connect({ clientId: 'a', username: 'nobody', password: Buffer.from('x') });
    c4.subscribe([
      { topic: 'a/#', qos: 2 },
      { topic: 'a/#/b', qos: 1 },
      { topic: 'a+', qos: 0 },
      { topic: 'secret/x', qos: 1 },
    ]);
    expect(c4.one('suback').granted).toEqual([2, 0x80, 0x80, 0x80]);
    const c5 = b.client(5);
    await c5.connect({ clientId: 'b', username: 'nobody', password: Buffer.from('x') });
    c5.subscribe([
      { topic: 'ok/+', qos: 1 },
      { topic: '#/x', qos: 1 },
      { topic: 'secret/#', qos: 0 },
    ]);
    expect(c5.one('suback').granted).toEqual([1, RC.TOPIC_FILTER_INVALID, RC.NOT_AUTHORIZED]);
  });

  it('wildcards + and # over the core address space; [MQTT-4.7.2-1] $ topics only by name', async () => {
    const s = b.client(4);
    await s.connect({ clientId: 's' });
    s.subscribe([
      { topic: '+/b/#', qos: 0 },
      { topic: '$SYS/#', qos: 0 },
    ]);
    s.read();
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    for (const t of ['a/b', 'a/b/c/d', 'x/y', '$SYS/b/up', 'v1.2/b']) p.publish(t, t);
    const got = s.publishes().map((x) => x.topic);
    expect(got).toEqual(['a/b', 'a/b/c/d', '$SYS/b/up', 'v1.2/b']);
  });

  it('UNSUBSCRIBE stops delivery; 5.0 UNSUBACK says which existed', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 't', qos: 0 }]);
    s.read();
    s.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['t', 'nope'] });
    expect(s.one('unsuback').granted).toEqual([RC.SUCCESS, RC.NO_SUBSCRIPTION_EXISTED]);
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    p.publish('t', 'x');
    expect(s.publishes()).toEqual([]);
  });

  it('[MQTT-3.8.4-3] re-subscribing replaces the subscription (no duplicate delivery)', async () => {
    const s = b.client(4);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 't', qos: 0 }]);
    s.subscribe([{ topic: 't', qos: 1 }], 2);
    s.read();
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    p.publish('t', 'x', { qos: 1 });
    await flush();
    expect(s.publishes().map((x) => x.qos)).toEqual([1]);
  });

  it('retained: kept per topic, sent on subscribe with RETAIN (wildcards too), cleared by an empty payload', async () => {
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    p.publish('home/kitchen/temp', '21', { retain: true });
    p.publish('home/hall/temp', '19', { retain: true, qos: 1 });
    p.publish('home/hall/temp', '18', { retain: true });
    p.publish('home/cellar/temp', '9', { retain: true });
    p.publish('home/cellar/temp', '', { retain: true });
    await flush();
    const s = b.client(4);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 'home/+/temp', qos: 1 }]);
    const ps = s.read();
    expect(ps[0]!.cmd).toBe('suback');
    const pubs = ps.slice(1) as Array<{ topic: string; payload: Buffer; retain: boolean }>;
    expect(pubs.map((x) => [x.topic, String(x.payload), x.retain]).sort()).toEqual([
      ['home/hall/temp', '18', true],
      ['home/kitchen/temp', '21', true],
    ]);
    // Live messages are not flagged RETAIN (no Retain As Published) [MQTT-3.3.1-9].
    p.publish('home/hall/temp', '17', { retain: true });
    expect(s.publishes().map((x) => x.retain)).toEqual([false]);
  });

  it('5.0 Retain Handling 1 (only new subscriptions) and 2 (never); Retain As Published', async () => {
    const p = b.client(5);
    await p.connect({ clientId: 'p' });
    p.publish('r', 'kept', { retain: true });
    const s = b.client(5);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 'r', qos: 0, rh: 1, rap: true }]);
    expect(text(s.publishes())).toEqual(['kept']);
    s.subscribe([{ topic: 'r', qos: 0, rh: 1, rap: true }], 2);
    expect(text(s.publishes())).toEqual([]);
    s.subscribe([{ topic: 'other/#', qos: 0, rh: 2 }], 3);
    p.publish('other/x', 'x', { retain: true });
    p.publish('r', 'live', { retain: true });
    const live = s.publishes();
    expect(live.map((x) => [x.topic, x.retain])).toEqual([
      ['other/x', false],
      ['r', true],
    ]);
  });

  it('5.0 No Local: own messages are not delivered back', async () => {
    const c = b.client(5);
    await c.connect({ clientId: 'c' });
    c.subscribe([{ topic: 'chat', qos: 0, nl: true }]);
    c.read();
    c.publish('chat', 'mine');
    const other = b.client(5);
    await other.connect({ clientId: 'o' });
    other.publish('chat', 'theirs');
    expect(text(c.publishes())).toEqual(['theirs']);
  });

  it('5.0 Subscription Identifier is sent with each matching message; 0 is a protocol error', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 'a/#', qos: 0 }], 1, { subscriptionIdentifier: 42 });
    s.read();
    const p = b.client(5);
    await p.connect({ clientId: 'p' });
    p.publish('a/b', 'x');
    expect(s.publishes()[0]!.properties?.subscriptionIdentifier).toBe(42);
    s.subscribe([{ topic: 'z', qos: 0 }], 2, { subscriptionIdentifier: 0 });
    // mqtt-packet may refuse to parse id 0 itself; either way the connection ends with a reason code.
    expect(s.one('disconnect').reasonCode).toBeGreaterThanOrEqual(0x80);
  });

  it('5.0 properties map both ways: user properties, content type, response topic, correlation, expiry', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 'req', qos: 1 }]);
    s.read();
    const p = b.client(5);
    await p.connect({ clientId: 'p' });
    const binary = Buffer.from([0xff, 0x00, 0x80]);
    p.publish('req', '{}', {
      qos: 1,
      properties: {
        userProperties: { a: '1', b: ['x', 'y'] },
        contentType: 'application/json',
        responseTopic: 'reply/p',
        correlationData: binary,
        messageExpiryInterval: 60,
        payloadFormatIndicator: true,
      },
    });
    await flush();
    const [m] = s.publishes();
    expect(m!.properties).toEqual({
      userProperties: { a: '1', b: 'x' },
      contentType: 'application/json',
      responseTopic: 'reply/p',
      correlationData: binary,
      messageExpiryInterval: 60,
      payloadFormatIndicator: true,
    });
  });

  it('[MQTT-3.3.2-6] the expiry sent is what is left of it (retained message)', async () => {
    const p = b.client(5);
    await p.connect({ clientId: 'p' });
    p.publish('exp', 'x', { retain: true, properties: { messageExpiryInterval: 60 } });
    b.timers.advance(10_500);
    const s = b.client(5);
    await s.connect({ clientId: 's' });
    s.subscribe([{ topic: 'exp', qos: 0 }]);
    expect(s.publishes()[0]!.properties?.messageExpiryInterval).toBe(50);
    b.timers.advance(50_000);
    s.subscribe([{ topic: 'exp', qos: 0 }], 2);
    expect(s.publishes()).toEqual([]);
  });

  it('5.0 message expiry: an expired message is not delivered', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 's', properties: { receiveMaximum: 1 } });
    s.subscribe([{ topic: 'e', qos: 1 }]);
    s.read();
    const p = b.client(5);
    await p.connect({ clientId: 'p' });
    p.publish('e', 'first', { qos: 1, messageId: 1 });
    p.publish('e', 'short', { qos: 1, messageId: 2, properties: { messageExpiryInterval: 5 } });
    await flush();
    const [first] = s.publishes();
    b.timers.advance(6_000);
    s.send({ cmd: 'puback', messageId: first!.messageId! });
    expect(s.publishes()).toEqual([]);
  });

  it('5.0 outgoing topic aliases when the client allows them', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 's', properties: { topicAliasMaximum: 1 } });
    s.subscribe([{ topic: '#', qos: 0 }]);
    s.read();
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    p.publish('sensors/1', 'a');
    p.publish('sensors/1', 'b');
    p.publish('sensors/2', 'c');
    expect(s.publishes().map((x) => [x.topic, x.properties?.topicAlias])).toEqual([
      ['sensors/1', 1],
      ['', 1],
      ['sensors/2', undefined],
    ]);
  });

  it('5.0 Maximum Packet Size of the client: a larger message is not sent', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 's', properties: { maximumPacketSize: 64 } });
    s.subscribe([{ topic: 't', qos: 1 }]);
    s.read();
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    p.publish('t', 'x'.repeat(100), { qos: 1 });
    p.publish('t', 'small', { qos: 1, messageId: 2 });
    await flush();
    expect(text(s.publishes())).toEqual(['small']);
  });

  it('5.0 shared subscriptions: each message to one member of the group, round robin', async () => {
    const members = [b.client(5), b.client(5), b.client(4)];
    for (const [i, m] of members.entries()) {
      await m.connect({ clientId: `m${i}` });
      m.subscribe([{ topic: '$share/g/jobs/+', qos: 1 }]);
      expect(m.one('suback').granted).toEqual([1]);
    }
    const other = b.client(5);
    await other.connect({ clientId: 'other' });
    other.subscribe([{ topic: '$share/h/jobs/#', qos: 0 }]);
    other.read();
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    for (let i = 0; i < 6; i++) p.publish('jobs/x', `j${i}`, { qos: 1, messageId: i + 1 });
    await flush();
    const counts = members.map((m) => m.publishes().length);
    expect(counts).toEqual([2, 2, 2]);
    expect(other.publishes().length).toBe(6);
  });

  it('shared: an unacknowledged message of a member that leaves goes to another member', async () => {
    const a = b.client(5);
    await a.connect({ clientId: 'a', properties: { receiveMaximum: 1 } });
    a.subscribe([{ topic: '$share/g/t', qos: 1 }]);
    a.read();
    const c = b.client(5);
    await c.connect({ clientId: 'c', properties: { receiveMaximum: 1 } });
    c.subscribe([{ topic: '$share/g/t', qos: 1 }]);
    c.read();
    const p = b.client(4);
    await p.connect({ clientId: 'p' });
    p.publish('t', 'one', { qos: 1, messageId: 1 });
    p.publish('t', 'two', { qos: 1, messageId: 2 });
    await flush();
    const fromA = text(a.publishes());
    const fromC = text(c.publishes());
    expect([...fromA, ...fromC].sort()).toEqual(['one', 'two']);
    a.session.onClose();
    c.send({ cmd: 'puback', messageId: 1 });
    const again = c.publishes();
    expect(text(again)).toEqual(fromA);
    expect(again[0]!.dup).toBe(true);
  });

  it('[MQTT-3.8.3-4] No Local on a shared subscription is a protocol error', async () => {
    const c = b.client(5);
    await c.connect();
    c.subscribe([{ topic: '$share/g/t', qos: 0, nl: true }]);
    expect(c.read().map((x) => [x.cmd, (x as { reasonCode?: number }).reasonCode])).toEqual([
      ['disconnect', RC.PROTOCOL_ERROR],
    ]);
  });
});
