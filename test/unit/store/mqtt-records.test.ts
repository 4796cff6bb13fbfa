/**
 * MQTT session state as key/value records (src/protocol/mqtt/persistence): the key and value layout,
 * and KvSessionStore over a fake namespace (what it writes, what it loads back, what it drops).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KeyValueNamespace } from '../../../src/core/kv.js';
import { ACCEPTED } from '../../../src/core/store-writer.js';
import { KvSessionStore } from '../../../src/protocol/mqtt/persistence/kv-session-store.js';
import {
  decodeHeader,
  decodeOutbound,
  decodeSubscription,
  encodeClientId,
  encodeHeader,
  encodeOutbound,
  encodeSubscription,
  inboundKey,
  outboundKey,
  parseKey,
  sessionKey,
  subscriptionKey,
} from '../../../src/protocol/mqtt/persistence/records.js';
import type { SubscriptionRecord } from '../../../src/protocol/mqtt/state.js';

/** A namespace that applies puts and deletes to a Map at once (what a store would recover). */
class FakeNamespace implements KeyValueNamespace {
  readonly name = 'mqtt-sessions';
  readonly durable = true;
  readonly data = new Map<string, Uint8Array>();
  ops = 0;
  takeRecovered(): Map<string, Uint8Array> {
    return new Map(this.data);
  }
  put(key: string, value: Uint8Array): void {
    this.ops++;
    this.data.set(key, value);
  }
  delete(key: string): void {
    this.ops++;
    this.data.delete(key);
  }
  flushed(): Promise<void> {
    return ACCEPTED;
  }
}

const sub = (filter: string, extra: Partial<SubscriptionRecord> = {}): SubscriptionRecord => ({
  filter,
  qos: 1,
  noLocal: false,
  retainAsPublished: false,
  retainHandling: 0,
  ...extra,
});

describe('MQTT session record layout', () => {
  it('round-trips keys for any client id, filter and packet id', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 0xffff }),
        (clientId, filter, packetId) => {
          const enc = encodeClientId(clientId);
          expect(parseKey(sessionKey(enc))).toEqual({ kind: 'session', clientId });
          expect(parseKey(subscriptionKey(enc, filter))).toEqual({ kind: 'subscription', clientId, filter });
          expect(parseKey(inboundKey(enc, packetId))).toEqual({ kind: 'inbound', clientId, packetId });
          expect(parseKey(outboundKey(enc, packetId))).toEqual({ kind: 'outbound', clientId, packetId });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects keys it did not write', () => {
    for (const key of [
      '',
      's',
      's:',
      'x:a',
      's:a:b',
      'u:a',
      'u:a:',
      'i:a:0',
      'i:a:65536',
      'o:a:01',
      'o:a:1.5',
      's:%E0%A4%A',
    ])
      expect(parseKey(key), key).toBeUndefined();
  });

  it('round-trips values and rejects malformed ones', () => {
    expect(decodeHeader(encodeHeader({ expiryInterval: 60 }))).toEqual({ expiryInterval: 60 });
    expect(decodeHeader(encodeHeader({ expiryInterval: 0xffff_ffff, offlineSince: 123 }))).toEqual({
      expiryInterval: 0xffff_ffff,
      offlineSince: 123,
    });
    const r = sub('$share/g/a/+', { qos: 2, noLocal: true, retainHandling: 2, subscriptionId: 7 });
    expect(decodeSubscription(encodeSubscription(r), r.filter)).toEqual(r);
    expect(decodeSubscription(encodeSubscription(r), 'other')).toBeUndefined();
    for (const rec of [
      { messageId: 'ID:x:1', qos: 1 as const, released: false },
      { messageId: 'ID:é:2', qos: 2 as const, released: true },
    ])
      expect(decodeOutbound(encodeOutbound(rec))).toEqual(rec);
    // The golden layout: flags (QoS 2 | released), then the id.
    expect(Buffer.from(encodeOutbound({ messageId: 'm', qos: 2, released: true })).toString('hex')).toBe(
      '066d',
    );
    const bad = (s: string) => new Uint8Array(Buffer.from(s));
    for (const v of ['', '{', '[]', '{"e":-1}', '{"e":1,"o":"x"}'])
      expect(decodeHeader(bad(v)), v).toBeUndefined();
    for (const v of [
      '{}',
      '{"filter":"a","qos":3,"noLocal":false,"retainAsPublished":false,"retainHandling":0}',
    ])
      expect(decodeSubscription(bad(v), 'a'), v).toBeUndefined();
    for (const v of [[], [1], [0, 0x41], [5, 0x41], [8, 0x41]])
      expect(decodeOutbound(new Uint8Array(v)), String(v)).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 50 }), (v) => {
        decodeHeader(v);
        decodeSubscription(v, 'a');
        decodeOutbound(v);
      }),
    );
  });
});

describe('KvSessionStore', () => {
  it('writes one record per item and loads the sessions back', async () => {
    const ns = new FakeNamespace();
    const a = new KvSessionStore(ns);
    expect(await a.load()).toEqual([]);
    a.write({ type: 'open', clientId: 'dev:1', expiryInterval: 300 });
    a.write({ type: 'subscribe', clientId: 'dev:1', record: sub('a/#') });
    a.write({ type: 'subscribe', clientId: 'dev:1', record: sub('b', { qos: 2 }) });
    a.write({ type: 'unsubscribe', clientId: 'dev:1', filter: 'b' });
    a.write({ type: 'inbound', clientId: 'dev:1', packetId: 9, add: true });
    a.write({ type: 'inbound', clientId: 'dev:1', packetId: 10, add: true });
    a.write({ type: 'inbound', clientId: 'dev:1', packetId: 10, add: false });
    a.write({
      type: 'outbound',
      clientId: 'dev:1',
      packetId: 3,
      record: { messageId: 'm3', qos: 2, released: true },
    });
    a.write({
      type: 'outbound',
      clientId: 'dev:1',
      packetId: 4,
      record: { messageId: 'm4', qos: 1, released: false },
    });
    a.write({ type: 'outbound', clientId: 'dev:1', packetId: 4, record: null });
    a.write({ type: 'offline', clientId: 'dev:1', since: 5000 });
    a.write({ type: 'open', clientId: 'other', expiryInterval: 10 });
    expect([...ns.data.keys()].sort()).toEqual([
      'i:dev%3A1:9',
      'o:dev%3A1:3',
      's:dev%3A1',
      's:other',
      'u:dev%3A1:a/#',
    ]);

    const b = new KvSessionStore(ns);
    const sessions = await b.load();
    expect(sessions.find((s) => s.clientId === 'dev:1')).toEqual({
      clientId: 'dev:1',
      expiryInterval: 300,
      offlineSince: 5000,
      subscriptions: [sub('a/#')],
      inboundQos2: [9],
      outbound: [[3, { messageId: 'm3', qos: 2, released: true }]],
    });
    expect(b.clientCount).toBe(2);
    // Ending a loaded session deletes every record it had.
    b.write({ type: 'end', clientId: 'dev:1' });
    expect([...ns.data.keys()]).toEqual(['s:other']);
  });

  it('an expiry of 0 ends the session; coming back online clears the offline time', async () => {
    const ns = new FakeNamespace();
    const s = new KvSessionStore(ns);
    s.write({ type: 'open', clientId: 'c', expiryInterval: 60 });
    s.write({ type: 'offline', clientId: 'c', since: 1 });
    s.write({ type: 'offline', clientId: 'c', since: undefined });
    s.write({ type: 'expiry', clientId: 'c', expiryInterval: 120 });
    expect(decodeHeader(ns.data.get('s:c')!)).toEqual({ expiryInterval: 120 });
    s.write({ type: 'subscribe', clientId: 'c', record: sub('t') });
    s.write({ type: 'expiry', clientId: 'c', expiryInterval: 0 });
    expect(ns.data.size).toBe(0);
  });

  it('drops unreadable records and records of sessions without a header', async () => {
    const ns = new FakeNamespace();
    ns.data.set('s:ok', encodeHeader({ expiryInterval: 5 }));
    ns.data.set('u:ok:t', new Uint8Array(Buffer.from('not json')));
    ns.data.set('i:orphan:3', new Uint8Array(0));
    ns.data.set('garbage', new Uint8Array(0));
    const s = new KvSessionStore(ns);
    const sessions = await s.load();
    expect(sessions).toEqual([
      { clientId: 'ok', expiryInterval: 5, subscriptions: [], inboundQos2: [], outbound: [] },
    ]);
    expect([...ns.data.keys()]).toEqual(['s:ok']);
  });
});
