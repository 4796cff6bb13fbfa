import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RC } from '../../../src/protocol/mqtt/index.js';
import { type Broker, flush, startBroker } from './harness.js';

let b: Broker;
beforeEach(async () => {
  b = await startBroker({ maxKeepAlive: 600 });
});
afterEach(() => b.close());

describe('CONNECT', () => {
  it('3.1.1: CONNACK 0 without session present; PINGREQ answered', async () => {
    const c = b.client(4);
    const ack = await c.connect();
    expect(ack).toMatchObject({ returnCode: 0, sessionPresent: false });
    c.send({ cmd: 'pingreq' });
    expect(c.one().cmd).toBe('pingresp');
  });

  it('3.1 (MQIsdp, level 3) is accepted', async () => {
    const c = b.client(3);
    expect((await c.connect()).returnCode).toBe(0);
  });

  it('[MQTT-3.1.0-1] a first packet other than CONNECT closes without a reply', async () => {
    const c = b.client(4);
    c.send({ cmd: 'pingreq' });
    await flush();
    expect(c.read()).toEqual([]);
    expect(c.closed).toBe(true);
  });

  it('[MQTT-3.1.0-2] a second CONNECT is a protocol error: v5 DISCONNECT 0x82', async () => {
    const c = b.client(5);
    await c.connect();
    c.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clientId: 'c1',
      clean: true,
      keepalive: 0,
    });
    expect(c.one('disconnect').reasonCode).toBe(RC.PROTOCOL_ERROR);
    expect(c.closed).toBe(true);
  });

  it('[MQTT-3.1.2-2] an unsupported protocol level gets CONNACK 0x01', async () => {
    const c = b.client(4);
    // CONNECT with protocol level 6.
    c.sendBytes(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 6, 2, 0, 0, 0, 0]));
    await flush();
    expect(c.transport.chunks.map((x) => [...x])).toEqual([[0x20, 2, 0, 1]]);
    expect(c.closed).toBe(true);
  });

  it('[MQTT-3.1.3-8] 3.1.1 empty client id with clean session 0: identifier rejected', async () => {
    const c = b.client(4);
    // mqtt-packet refuses to generate this CONNECT: level 4, flags 0, keep-alive 0, empty id.
    c.sendBytes(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0, 0, 0, 0, 0]));
    await flush();
    expect(c.one('connack')).toMatchObject({ returnCode: 2 });
    expect(c.closed).toBe(true);
  });

  it('3.1.1 empty client id with clean session is given one', async () => {
    const c = b.client(4);
    expect((await c.connect({ clientId: '' })).returnCode).toBe(0);
    expect(b.core.stats().connections[0]!.clientId).toMatch(/^blazemq-/);
  });

  it('[MQTT-3.1.3-7] 5.0 empty client id: Assigned Client Identifier', async () => {
    const c = b.client(5);
    const ack = await c.connect({ clientId: '' });
    expect(ack.reasonCode).toBe(0);
    expect(ack.properties?.assignedClientIdentifier).toMatch(/^blazemq-/);
  });

  it('refused credentials: 3.1.1 return code 4, 5.0 reason 0x86', async () => {
    const c4 = b.client(4);
    expect((await c4.connect({ username: 'u', password: Buffer.from('bad') })).returnCode).toBe(4);
    expect(c4.closed).toBe(true);
    const c5 = b.client(5);
    expect((await c5.connect({ username: 'u', password: Buffer.from('bad') })).reasonCode).toBe(
      RC.BAD_USER_NAME_OR_PASSWORD,
    );
    expect(c5.closed).toBe(true);
    expect(b.core.stats().connections).toEqual([]);
  });

  it('5.0 enhanced authentication is refused with 0x8C', async () => {
    const c = b.client(5);
    const ack = await c.connect({ properties: { authenticationMethod: 'SCRAM-SHA-1' } });
    expect(ack.reasonCode).toBe(RC.BAD_AUTHENTICATION_METHOD);
  });

  it('5.0 CONNACK announces limits; server keep-alive when the client asks for none', async () => {
    const c = b.client(5);
    const ack = await c.connect({ keepalive: 0 });
    expect(ack.properties).toMatchObject({
      receiveMaximum: 1000,
      topicAliasMaximum: 100,
      serverKeepAlive: 600,
    });
  });

  it('keep-alive: silent for 1.5x the interval -> closed (v5 DISCONNECT 0x8D), Will published', async () => {
    const watcher = b.client(4);
    await watcher.connect({ clientId: 'w' });
    watcher.subscribe([{ topic: 'will/#', qos: 0 }]);
    watcher.read();
    const c = b.client(5);
    await c.connect({
      keepalive: 10,
      will: { topic: 'will/c1', payload: Buffer.from('gone'), qos: 0, retain: false },
    });
    b.timers.advance(14_000);
    c.send({ cmd: 'pingreq' });
    expect(c.one().cmd).toBe('pingresp');
    b.timers.advance(14_000);
    expect(c.closed).toBe(false);
    b.timers.advance(1_500);
    expect(c.one('disconnect').reasonCode).toBe(RC.KEEP_ALIVE_TIMEOUT);
    expect(c.closed).toBe(true);
    await flush();
    expect(watcher.publishes().map((p) => [p.topic, String(p.payload)])).toEqual([['will/c1', 'gone']]);
  });

  it('DISCONNECT discards the Will [MQTT-3.14.4-3]; 5.0 reason 0x04 publishes it', async () => {
    const watcher = b.client(4);
    await watcher.connect({ clientId: 'w' });
    watcher.subscribe([{ topic: 'will/#', qos: 0 }]);
    watcher.read();
    const will = { topic: 'will/x', payload: Buffer.from('bye'), qos: 0 as const, retain: false };
    const a = b.client(5);
    await a.connect({ clientId: 'a', will });
    a.send({ cmd: 'disconnect', reasonCode: 0 });
    const d = b.client(5);
    await d.connect({ clientId: 'd', will });
    d.send({ cmd: 'disconnect', reasonCode: RC.DISCONNECT_WITH_WILL });
    await flush();
    expect(a.closed && d.closed).toBe(true);
    expect(watcher.publishes().length).toBe(1);
  });

  it('abrupt close publishes the Will, retained when asked', async () => {
    const c = b.client(4);
    await c.connect({ will: { topic: 'status/c1', payload: Buffer.from('offline'), qos: 1, retain: true } });
    c.session.onClose();
    await flush();
    const later = b.client(4);
    await later.connect({ clientId: 'later' });
    later.subscribe([{ topic: 'status/+', qos: 1 }]);
    const ps = later.publishes();
    expect(ps.map((p) => [p.topic, String(p.payload), p.retain, p.qos])).toEqual([
      ['status/c1', 'offline', true, 1],
    ]);
  });

  it('5.0 Will Delay: not sent when the client reconnects in time; sent when it does not', async () => {
    const watcher = b.client(4);
    await watcher.connect({ clientId: 'w' });
    watcher.subscribe([{ topic: 'will/#', qos: 0 }]);
    watcher.read();
    const will = {
      topic: 'will/d',
      payload: Buffer.from('late'),
      qos: 0 as const,
      retain: false,
      properties: { willDelayInterval: 30 },
    };
    const first = b.client(5);
    await first.connect({ clientId: 'd', will, properties: { sessionExpiryInterval: 3600 } });
    first.session.onClose();
    b.timers.advance(10_000);
    const second = b.client(5);
    await second.connect({ clientId: 'd', clean: false, will, properties: { sessionExpiryInterval: 3600 } });
    b.timers.advance(60_000);
    await flush();
    expect(watcher.publishes()).toEqual([]);
    second.session.onClose();
    b.timers.advance(29_000);
    await flush();
    expect(watcher.publishes()).toEqual([]);
    b.timers.advance(1_000);
    await flush();
    expect(watcher.publishes().map((p) => String(p.payload))).toEqual(['late']);
  });

  it('[MQTT-3.1.4-3] session takeover: the old connection is closed (v5 DISCONNECT 0x8E)', async () => {
    const old = b.client(5);
    await old.connect({ clientId: 'same' });
    const fresh = b.client(5);
    expect((await fresh.connect({ clientId: 'same' })).reasonCode).toBe(0);
    expect(old.one('disconnect').reasonCode).toBe(RC.SESSION_TAKEN_OVER);
    expect(old.closed).toBe(true);
    expect(b.core.stats().connections.map((c) => c.clientId)).toEqual(['same']);
  });
});
