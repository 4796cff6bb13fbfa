import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RC } from '../../../src/protocol/mqtt/index.js';
import { type Broker, type Client, flush, startBroker } from './harness.js';

let b: Broker;
beforeEach(async () => {
  b = await startBroker();
});
afterEach(() => b.close());

async function subscriber(version: 4 | 5, topic: string, qos: 0 | 1 | 2, clientId = 'sub'): Promise<Client> {
  const s = b.client(version);
  await s.connect({ clientId });
  s.subscribe([{ topic, qos }]);
  expect(s.one('suback').granted).toEqual([qos]);
  return s;
}

describe('PUBLISH', () => {
  it('QoS 0/1/2 in, delivered at min(published, granted) QoS [MQTT-3.8.4-8]', async () => {
    const s = await subscriber(4, 'a/+/c', 1);
    const p = b.client(4);
    await p.connect({ clientId: 'pub' });
    p.publish('a/b/c', 'q0', { qos: 0 });
    p.publish('a/b/c', 'q1', { qos: 1, messageId: 7 });
    p.publish('a/b/c', 'q2', { qos: 2, messageId: 8 });
    await flush();
    expect(p.read().map((x) => [x.cmd, x.messageId])).toEqual([
      ['puback', 7],
      ['pubrec', 8],
    ]);
    p.send({ cmd: 'pubrel', messageId: 8 });
    expect(p.one('pubcomp').messageId).toBe(8);
    const got = s.publishes();
    expect(got.map((x) => [x.topic, String(x.payload), x.qos])).toEqual([
      ['a/b/c', 'q0', 0],
      ['a/b/c', 'q1', 1],
      ['a/b/c', 'q2', 1],
    ]);
  });

  it('QoS 2 in: a re-sent PUBLISH before PUBREL is not routed twice [MQTT-4.3.3-10]', async () => {
    const s = await subscriber(4, 'x', 2);
    const p = b.client(4);
    await p.connect({ clientId: 'pub' });
    p.publish('x', 'once', { qos: 2, messageId: 3 });
    p.publish('x', 'once', { qos: 2, messageId: 3, dup: true });
    await flush();
    expect(p.read().map((x) => x.cmd)).toEqual(['pubrec', 'pubrec']);
    p.send({ cmd: 'pubrel', messageId: 3 });
    expect(p.one('pubcomp').messageId).toBe(3);
    // After PUBREL the id is free: the same id is a new message [MQTT-4.3.3-9].
    p.publish('x', 'again', { qos: 2, messageId: 3 });
    await flush();
    expect(s.publishes().map((x) => String(x.payload))).toEqual(['once', 'again']);
  });

  it('QoS 2 out: PUBLISH -> PUBREC -> PUBREL -> PUBCOMP; the core message is acked on PUBREC', async () => {
    const s = await subscriber(5, 't', 2);
    const p = b.client(5);
    await p.connect({ clientId: 'pub' });
    p.publish('t', 'm', { qos: 2, messageId: 1 });
    await flush();
    const [pub] = s.publishes();
    expect(pub).toMatchObject({ qos: 2, dup: false });
    expect(b.core.stats().connections.find((c) => c.clientId === 'sub')!.inFlight).toBe(1);
    s.send({ cmd: 'pubrec', messageId: pub!.messageId! });
    expect(s.one('pubrel').messageId).toBe(pub!.messageId);
    expect(b.core.stats().connections.find((c) => c.clientId === 'sub')!.inFlight).toBe(0);
    s.send({ cmd: 'pubrec', messageId: pub!.messageId! });
    expect(s.one('pubrel').messageId).toBe(pub!.messageId);
    s.send({ cmd: 'pubcomp', messageId: pub!.messageId! });
    s.send({ cmd: 'pubrec', messageId: pub!.messageId! });
    // Unknown id now (5.0): PUBREL 0x92.
    expect(s.one('pubrel').reasonCode).toBe(RC.PACKET_ID_NOT_FOUND);
  });

  it('QoS 1 out: unacknowledged deliveries are bounded by the client Receive Maximum', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 'sub', properties: { receiveMaximum: 2 } });
    s.subscribe([{ topic: 'q', qos: 1 }]);
    s.read();
    const p = b.client(5);
    await p.connect({ clientId: 'pub' });
    for (let i = 1; i <= 5; i++) p.publish('q', `m${i}`, { qos: 1, messageId: i });
    await flush();
    let got = s.publishes();
    expect(got.map((x) => String(x.payload))).toEqual(['m1', 'm2']);
    s.send({ cmd: 'puback', messageId: got[0]!.messageId! });
    got = s.publishes();
    expect(got.map((x) => String(x.payload))).toEqual(['m3']);
    s.send({ cmd: 'puback', messageId: got[0]!.messageId! });
    s.send({ cmd: 'puback', messageId: 2 });
    expect(s.publishes().map((x) => String(x.payload))).toEqual(['m4', 'm5']);
  });

  it('[MQTT-3.3.2-2] a wildcard in a PUBLISH topic: v5 DISCONNECT 0x90, 3.1.1 close', async () => {
    const c5 = b.client(5);
    await c5.connect({ clientId: 'a' });
    c5.sendBytes(Buffer.from([0x30, 6, 0, 3, 0x61, 0x2f, 0x23, 0x00, 0x78].slice(0, 8)));
    expect(c5.one('disconnect').reasonCode).toBe(RC.TOPIC_NAME_INVALID);
    expect(c5.closed).toBe(true);
    const c4 = b.client(4);
    await c4.connect({ clientId: 'b' });
    c4.sendBytes(Buffer.from([0x30, 5, 0, 3, 0x61, 0x2f, 0x2b]));
    await flush();
    expect(c4.read()).toEqual([]);
    expect(c4.closed).toBe(true);
  });

  it('a packet over the maximum size: DISCONNECT 0x95 before its body is buffered', async () => {
    const small = await startBroker({ maxPacketSize: 1024 });
    try {
      const c = small.client(5);
      await c.connect();
      // Only the fixed header of a 1 MiB PUBLISH.
      c.sendBytes(Buffer.from([0x30, 0x80, 0x80, 0x40]));
      expect(c.one('disconnect').reasonCode).toBe(RC.PACKET_TOO_LARGE);
      expect(c.closed).toBe(true);
    } finally {
      await small.close();
    }
  });

  it('refused by authorization: 5.0 PUBACK 0x87, 3.1.1 positive PUBACK; nothing routed', async () => {
    const s = await subscriber(4, '#', 0);
    const p5 = b.client(5);
    await p5.connect({ clientId: 'r5', username: 'reader', password: Buffer.from('x') });
    p5.publish('t', 'no', { qos: 1, messageId: 4 });
    await flush();
    expect(p5.one('puback')).toMatchObject({ messageId: 4, reasonCode: RC.NOT_AUTHORIZED });
    const p4 = b.client(4);
    await p4.connect({ clientId: 'r4', username: 'reader', password: Buffer.from('x') });
    p4.publish('t', 'no', { qos: 1, messageId: 5 });
    await flush();
    expect(p4.one('puback').messageId).toBe(5);
    expect(s.publishes()).toEqual([]);
    expect(p4.closed || p5.closed).toBe(false);
  });

  it('5.0 inbound topic alias; an unknown alias is a protocol error', async () => {
    const s = await subscriber(4, 'long/topic/name', 0);
    const p = b.client(5);
    await p.connect({ clientId: 'pub' });
    p.publish('long/topic/name', 'one', { properties: { topicAlias: 3 } });
    p.publish('', 'two', { properties: { topicAlias: 3 } });
    await flush();
    expect(s.publishes().map((x) => [x.topic, String(x.payload)])).toEqual([
      ['long/topic/name', 'one'],
      ['long/topic/name', 'two'],
    ]);
    p.publish('', 'three', { properties: { topicAlias: 4 } });
    expect(p.one('disconnect').reasonCode).toBe(RC.PROTOCOL_ERROR);
  });

  it('5.0 topic alias over the maximum: DISCONNECT 0x94', async () => {
    const p = b.client(5);
    await p.connect();
    p.publish('t', 'x', { properties: { topicAlias: 101 } });
    expect(p.one('disconnect').reasonCode).toBe(RC.TOPIC_ALIAS_INVALID);
  });

  it('5.0 Receive Maximum exceeded by the client: DISCONNECT 0x93', async () => {
    const small = await startBroker({ receiveMaximum: 2 });
    try {
      const p = small.client(5);
      await p.connect();
      p.publish('t', 'a', { qos: 2, messageId: 1 });
      p.publish('t', 'b', { qos: 2, messageId: 2 });
      p.publish('t', 'c', { qos: 2, messageId: 3 });
      await flush();
      expect(p.read().map((x) => [x.cmd, (x as { reasonCode?: number }).reasonCode])).toEqual([
        ['pubrec', 0],
        ['pubrec', 0],
        ['disconnect', RC.RECEIVE_MAXIMUM_EXCEEDED],
      ]);
    } finally {
      await small.close();
    }
  });
});

describe('packet identifiers', () => {
  // PUBREC (0x50) with a truncated (Remaining Length 1) and with a zero Packet Identifier.
  for (const bytes of [
    [0x50, 0x01, 0x00],
    [0x50, 0x02, 0x00, 0x00],
  ]) {
    it(`PUBREC ${Buffer.from(bytes).toString('hex')} is malformed: DISCONNECT 0x81, never an ack [MQTT-2.2.1-3]`, async () => {
      const c = b.client(5);
      await c.connect({ clientId: 'bad-id' });
      c.sendBytes(Buffer.from(bytes));
      await flush();
      const out = c.read();
      expect(out.some((p) => p.cmd === 'pubrel')).toBe(false);
      expect(out.find((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: RC.MALFORMED_PACKET });
      expect(c.closed).toBe(true);
    });
  }
});
