import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/core/api.js';
import { createBrokerCore, ManualScheduler, type Message, RetainedStore } from '../../../src/core/index.js';

function msg(address: string, body = 'x', expiration = 0): Message {
  return {
    id: address,
    address,
    body: Buffer.from(body),
    properties: {},
    persistent: false,
    priority: 4,
    expiration,
    timestamp: 0,
  };
}

describe('RetainedStore', () => {
  it('keeps the last message per topic, matches wildcards, clears with an empty body', () => {
    const ops: string[] = [];
    const r = new RetainedStore({ persistence: { write: (op) => ops.push(`${op.type} ${op.topic}`) } });
    r.set('a.b', msg('topic://a.b', '1'));
    r.set('a.b', msg('topic://a.b', '2'));
    r.set('a.c.d', msg('topic://a.c.d'));
    r.set('a', msg('topic://a'));
    expect(r.size).toBe(3);
    expect(String(r.get('a.b')!.body)).toBe('2');
    expect(
      r
        .match('a.*')
        .map((m) => m.address)
        .sort(),
    ).toEqual(['topic://a.b']);
    expect(
      r
        .match('a.>')
        .map((m) => m.address)
        .sort(),
    ).toEqual(['topic://a', 'topic://a.b', 'topic://a.c.d']);
    expect(r.match('*.*.d').length).toBe(1);
    r.set('a.b', msg('topic://a.b', ''));
    expect(r.get('a.b')).toBeUndefined();
    expect(r.size).toBe(2);
    expect(ops).toEqual(['retain a.b', 'retain a.b', 'retain a.c.d', 'retain a', 'clear a.b']);
  });

  it('drops expired messages when met; refuses new topics when full', () => {
    const clock = { now: () => 100 };
    const r = new RetainedStore({ clock, maxTopics: 2 });
    r.set('x', msg('topic://x', 'old', 50));
    r.set('y', msg('topic://y'));
    expect(r.set('z', msg('topic://z'))).toBe(false);
    expect(r.match('>').map((m) => m.address)).toEqual(['topic://y']);
    expect(r.size).toBe(1);
    expect(r.set('z', msg('topic://z'))).toBe(true);
  });
});

describe('shared subscriptions (core)', () => {
  it('one message per group, round robin; the group ends with its last member', async () => {
    const scheduler = new ManualScheduler();
    const core = await createBrokerCore({ scheduler, clock: scheduler });
    const conn = core.connect({ principal: { user: 'u', anonymous: false }, protocol: 'test' });
    const got: string[] = [];
    const sink = (name: string) => ({
      deliver: (_s: unknown, d: Delivery) => got.push(`${name}:${String(d.message.body)}`),
    });
    const a = conn.subscribe(
      { address: 'topic://t.*', ackMode: 'auto', prefetch: 100, shareGroup: 'g' },
      sink('a'),
    );
    const b = conn.subscribe(
      { address: 'topic://t.*', ackMode: 'auto', prefetch: 100, shareGroup: 'g' },
      sink('b'),
    );
    conn.subscribe({ address: 'topic://t.*', ackMode: 'auto', prefetch: 100, shareGroup: 'h' }, sink('h'));
    for (const n of ['1', '2', '3', '4']) await conn.send({ address: 'topic://t.x', body: Buffer.from(n) });
    expect(got.filter((g) => g.startsWith('a')).length).toBe(2);
    expect(got.filter((g) => g.startsWith('b')).length).toBe(2);
    expect(got.filter((g) => g.startsWith('h')).length).toBe(4);
    a.close();
    b.close();
    got.length = 0;
    await conn.send({ address: 'topic://t.x', body: Buffer.from('5') });
    expect(got).toEqual(['h:5']);
    expect(() =>
      conn.subscribe({ address: 'queue://q', ackMode: 'auto', prefetch: 1, shareGroup: 'g' }, sink('q')),
    ).toThrow(/shared subscription/);
    conn.close();
    await core.shutdown();
  });
});
