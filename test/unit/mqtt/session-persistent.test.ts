import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Broker, flush, startBroker } from './harness.js';

let b: Broker;
beforeEach(async () => {
  b = await startBroker();
});
afterEach(() => b.close());

const text = (ps: Array<{ payload: Buffer | string }>) => ps.map((p) => String(p.payload));

async function publisher() {
  const p = b.client(4);
  await p.connect({ clientId: 'pub' });
  return p;
}

describe('persistent sessions', () => {
  it('3.1.1 clean session 0: subscriptions and QoS 1/2 messages kept while away; Session Present', async () => {
    const s = b.client(4);
    expect((await s.connect({ clientId: 'dev', clean: false })).sessionPresent).toBe(false);
    s.subscribe([{ topic: 'cmd/#', qos: 2 }]);
    s.read();
    s.session.onClose();
    const p = await publisher();
    p.publish('cmd/a', 'one', { qos: 1, messageId: 1 });
    p.publish('cmd/b', 'two', { qos: 2, messageId: 2 });
    await flush();
    const again = b.client(4);
    expect((await again.connect({ clientId: 'dev', clean: false })).sessionPresent).toBe(true);
    expect(text(again.publishes())).toEqual(['one', 'two']);
  });

  it('[MQTT-4.4.0-1] unacknowledged PUBLISH re-sent with its packet id and DUP; PUBREL re-sent', async () => {
    const s = b.client(4);
    await s.connect({ clientId: 'dev', clean: false });
    s.subscribe([{ topic: 't', qos: 2 }]);
    s.read();
    const p = await publisher();
    p.publish('t', 'q1', { qos: 1, messageId: 1 });
    p.publish('t', 'q2', { qos: 2, messageId: 2 });
    await flush();
    const [m1, m2] = s.publishes();
    // q2 reaches PUBREC (the client owns it), q1 is never acknowledged.
    s.send({ cmd: 'pubrec', messageId: m2!.messageId! });
    expect(s.one('pubrel').messageId).toBe(m2!.messageId);
    s.session.onClose();
    const again = b.client(4);
    await again.connect({ clientId: 'dev', clean: false });
    const ps = again.read();
    expect(ps.map((x) => [x.cmd, x.messageId, x.cmd === 'publish' ? x.dup : undefined])).toEqual([
      ['pubrel', m2!.messageId, undefined],
      ['publish', m1!.messageId, true],
    ]);
    again.send({ cmd: 'pubcomp', messageId: m2!.messageId! });
    again.send({ cmd: 'puback', messageId: m1!.messageId! });
    again.session.onClose();
    const third = b.client(4);
    await third.connect({ clientId: 'dev', clean: false });
    expect(third.read()).toEqual([]);
  });

  it('incoming QoS 2 packet ids survive a reconnect: a re-sent PUBLISH is not routed twice', async () => {
    const s = b.client(4);
    await s.connect({ clientId: 'watch' });
    s.subscribe([{ topic: 'x', qos: 0 }]);
    s.read();
    const p = b.client(4);
    await p.connect({ clientId: 'dev', clean: false });
    p.publish('x', 'exactly-once', { qos: 2, messageId: 9 });
    await flush();
    expect(p.one('pubrec').messageId).toBe(9);
    p.session.onClose();
    const again = b.client(4);
    await again.connect({ clientId: 'dev', clean: false });
    again.publish('x', 'exactly-once', { qos: 2, messageId: 9, dup: true });
    await flush();
    expect(again.one('pubrec').messageId).toBe(9);
    again.send({ cmd: 'pubrel', messageId: 9 });
    expect(again.one('pubcomp').messageId).toBe(9);
    expect(text(s.publishes())).toEqual(['exactly-once']);
  });

  it('clean session 1 discards the stored session and its durable subscriptions', async () => {
    const s = b.client(4);
    await s.connect({ clientId: 'dev', clean: false });
    s.subscribe([{ topic: 't', qos: 1 }]);
    s.read();
    s.session.onClose();
    expect(b.core.stats().durables.length).toBe(1);
    const again = b.client(4);
    expect((await again.connect({ clientId: 'dev', clean: true })).sessionPresent).toBe(false);
    expect(b.core.stats().durables).toEqual([]);
    const p = await publisher();
    p.publish('t', 'x', { qos: 1 });
    await flush();
    expect(again.publishes()).toEqual([]);
  });

  it('5.0 session expiry: the session and what it held are gone after the interval', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 'dev', clean: false, properties: { sessionExpiryInterval: 10 } });
    s.subscribe([{ topic: 't', qos: 1 }]);
    s.read();
    s.session.onClose();
    const p = await publisher();
    p.publish('t', 'while away', { qos: 1 });
    await flush();
    expect(b.core.stats().durables[0]!.depth).toBe(1);
    b.timers.advance(10_000);
    expect(b.core.stats().durables).toEqual([]);
    const again = b.client(5);
    expect((await again.connect({ clientId: 'dev', clean: false })).sessionPresent).toBe(false);
    expect(again.publishes()).toEqual([]);
  });

  it('5.0 DISCONNECT may shorten the expiry to 0 (the session ends) but not raise it from 0', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 'dev', properties: { sessionExpiryInterval: 100 } });
    s.subscribe([{ topic: 't', qos: 1 }]);
    s.read();
    s.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    expect(s.closed).toBe(true);
    expect(b.core.stats().durables).toEqual([]);
    const c = b.client(5);
    await c.connect({ clientId: 'other' });
    c.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 5 } });
    expect(c.one('disconnect').reasonCode).toBe(0x82);
  });

  it('5.0 shared subscription of a persistent session is re-joined on resume', async () => {
    const s = b.client(5);
    await s.connect({ clientId: 'dev', properties: { sessionExpiryInterval: 100 } });
    s.subscribe([{ topic: '$share/g/jobs', qos: 1 }]);
    s.read();
    s.session.onClose();
    const again = b.client(5);
    expect(
      (await again.connect({ clientId: 'dev', clean: false, properties: { sessionExpiryInterval: 100 } }))
        .sessionPresent,
    ).toBe(true);
    const p = await publisher();
    p.publish('jobs', 'j', { qos: 1 });
    await flush();
    expect(text(again.publishes())).toEqual(['j']);
  });
});
