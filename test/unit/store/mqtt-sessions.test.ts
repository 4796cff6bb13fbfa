/**
 * MQTT persistent sessions and retained messages across a crash, in process: the real core, MQTT
 * session and journal, "killed" with JournalStore.abort() (everything not yet synced is lost, as with
 * kill -9 between two group commits) and started again on the same directory. The packet-level steps
 * of each QoS 2 exchange are driven by hand, so each crash point is exact.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBrokerCore, type KeyValueNamespace } from '../../../src/core/index.js';
import { KvSessionStore, MQTT_SESSION_NAMESPACE, mqttProtocol } from '../../../src/protocol/mqtt/index.js';
import { QOS1_RECORD_DELAY_MS } from '../../../src/protocol/mqtt/persistence/kv-session-store.js';
import { Client, flush, ManualTimers, testAuthenticator } from '../mqtt/harness.js';
import { openJournal, tempDir } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(dir: string, timers: ManualTimers) {
  const journal = openJournal(dir);
  const core = await createBrokerCore({ store: journal });
  // Every put and delete of session records, to see which QoS 1 records are written at all.
  const written: string[] = [];
  const kv = core.kv(MQTT_SESSION_NAMESPACE);
  const spied: KeyValueNamespace = {
    name: kv.name,
    durable: kv.durable,
    takeRecovered: () => kv.takeRecovered(),
    put: (key, value) => {
      written.push(`put ${key}`);
      kv.put(key, value);
    },
    delete: (key) => {
      written.push(`delete ${key}`);
      kv.delete(key);
    },
    flushed: () => kv.flushed(),
  };
  const sessions = new KvSessionStore(spied, undefined, timers);
  const protocol = mqttProtocol({
    core,
    authenticator: testAuthenticator,
    retained: core.retained,
    sessionStore: sessions,
    timers,
  });
  protocol.settings.registry.restore(await sessions.load());
  const clients: Client[] = [];
  let down = false;
  const b = {
    core,
    journal,
    protocol,
    sessions,
    written,
    client(version: 4 | 5 = 4): Client {
      const c = new Client(protocol, version);
      clients.push(c);
      return c;
    },
    /** A client connected to the persistent session `clientId` (clean: false). */
    async resume(clientId: string): Promise<Client> {
      const c = b.client();
      await c.connect({ clientId, clean: false });
      return c;
    },
    /** The persistent session `clientId` subscribed to `topic`, then gone: what is published meanwhile waits for it. */
    async away(clientId: string, topic: string, qos: 0 | 1 | 2): Promise<void> {
      const c = await b.resume(clientId);
      c.subscribe([{ topic, qos }]);
      c.read();
      c.session.onClose();
    },
    /** Until everything issued so far is durable and the acks waiting for it are written. */
    async settle(): Promise<void> {
      for (let i = 0; i < 3; i++) {
        await flush();
        await journal.flushed();
      }
      await flush();
    },
    /** kill -9: what is not synced is lost; clients see nothing (their connections just die). */
    async crash(): Promise<void> {
      if (down) return;
      down = true;
      protocol.settings.registry.close();
      await journal.abort();
      await core.shutdown().catch(() => {});
    },
    async stop(): Promise<void> {
      if (down) return;
      down = true;
      for (const c of clients) c.session.onClose();
      protocol.settings.registry.close();
      await core.shutdown();
      await journal.close();
    },
  };
  cleanups.push(() => b.stop());
  return b;
}

async function setup() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const timers = new ManualTimers();
  let b = await start(t.dir, timers);
  return {
    timers,
    get b() {
      return b;
    },
    async crashAndRestart() {
      await b.crash();
      b = await start(t.dir, timers);
      return b;
    },
  };
}

const texts = (c: Client) => c.publishes().map((p) => String(p.payload));

describe('MQTT state across a crash', () => {
  it('keeps subscriptions (with their options) and the QoS 1/2 messages queued while away', async () => {
    const s = await setup();
    const sub = await s.b.resume('dev');
    sub.subscribe([
      { topic: 'cmd/#', qos: 2 },
      { topic: 'low/+', qos: 1 },
    ]);
    // The SUBACK waits until the subscriptions are on disk.
    expect(sub.read()).toEqual([]);
    await s.b.settle();
    expect(sub.one('suback').granted).toEqual([2, 1]);
    sub.session.onClose();
    const pub = s.b.client();
    await pub.connect({ clientId: 'pub' });
    pub.publish('cmd/a', 'one', { qos: 1, messageId: 1 });
    pub.publish('cmd/b', 'two', { qos: 2, messageId: 2 });
    pub.publish('low/x', 'three', { qos: 2, messageId: 3 });
    await s.b.settle();
    expect(pub.read().map((p) => p.cmd)).toEqual(['puback', 'pubrec', 'pubrec']);

    const b = await s.crashAndRestart();
    const again = b.client();
    expect((await again.connect({ clientId: 'dev', clean: false })).sessionPresent).toBe(true);
    // A QoS 2 delivery leaves once its outbound record is durable (output.ts `writeAfter`).
    await b.settle();
    const ps = again.publishes();
    expect(ps.map((p) => [String(p.payload), p.qos])).toEqual([
      ['one', 1],
      ['two', 2],
      ['three', 1],
    ]);
  });

  it('an incoming QoS 2 message answered with PUBREC is not routed again when re-sent after a crash', async () => {
    const s = await setup();
    await s.b.away('watch', 'x', 1);
    const pub = await s.b.resume('dev');
    pub.publish('x', 'exactly-once', { qos: 2, messageId: 9 });
    await s.b.settle();
    expect(pub.one('pubrec').messageId).toBe(9);

    const b = await s.crashAndRestart();
    const again = await b.resume('dev');
    again.publish('x', 'exactly-once', { qos: 2, messageId: 9, dup: true });
    await b.settle();
    expect(again.one('pubrec').messageId).toBe(9);
    again.send({ cmd: 'pubrel', messageId: 9 });
    await b.settle();
    expect(again.one('pubcomp').messageId).toBe(9);
    const w = await b.resume('watch');
    expect(texts(w)).toEqual(['exactly-once']);
  });

  it('a QoS 2 message whose PUBREC was never sent is routed exactly once when re-sent', async () => {
    const s = await setup();
    await s.b.away('watch', 'x', 2);
    await s.b.settle();
    const pub = await s.b.resume('dev');
    pub.publish('x', 'm', { qos: 2, messageId: 4 });
    // Killed before the batch holding the message and its packet id reached the disk.
    const b = await s.crashAndRestart();
    expect(pub.read()).toEqual([]);
    const again = await b.resume('dev');
    again.publish('x', 'm', { qos: 2, messageId: 4, dup: true });
    await b.settle();
    expect(again.one('pubrec').messageId).toBe(4);
    const w = await b.resume('watch');
    await b.settle();
    expect(texts(w)).toEqual(['m']);
  });

  it('PUBCOMP waits until the released packet id is durable; a released id is free after a crash', async () => {
    const s = await setup();
    await s.b.away('watch', 'x', 1);
    const pub = await s.b.resume('dev');
    pub.publish('x', 'first', { qos: 2, messageId: 5 });
    await s.b.settle();
    pub.read();
    pub.send({ cmd: 'pubrel', messageId: 5 });
    // Not at once: the id's removal is not on disk yet.
    expect(pub.read()).toEqual([]);
    // Killed before it was: the id is still known, and the client (no PUBCOMP) re-sends PUBREL.
    let b = await s.crashAndRestart();
    let again = await b.resume('dev');
    again.send({ cmd: 'pubrel', messageId: 5 });
    await b.settle();
    expect(again.one('pubcomp')).toMatchObject({ messageId: 5 });
    // Completed: after another crash the id carries a new message, which is routed.
    b = await s.crashAndRestart();
    again = await b.resume('dev');
    again.publish('x', 'second', { qos: 2, messageId: 5 });
    await b.settle();
    expect(again.one('pubrec').messageId).toBe(5);
    const w = await b.resume('watch');
    expect(texts(w)).toEqual(['first', 'second']);
  });

  it('outgoing: unacknowledged PUBLISHes are re-sent with their packet ids and DUP, and PUBREL resumes', async () => {
    const s = await setup();
    const sub = await s.b.resume('dev');
    sub.subscribe([{ topic: 't', qos: 2 }]);
    sub.read();
    const pub = s.b.client();
    await pub.connect({ clientId: 'pub' });
    pub.publish('t', 'q1', { qos: 1, messageId: 1 });
    pub.publish('t', 'q2', { qos: 2, messageId: 2 });
    pub.publish('t', 'q2b', { qos: 2, messageId: 3 });
    await s.b.settle();
    const [m1, m2, m3] = sub.publishes();
    expect([m1, m2, m3].map((m) => String(m!.payload))).toEqual(['q1', 'q2', 'q2b']);
    // A QoS 1 delivery's record is written once it has been in flight a while (kv-session-store.ts).
    s.timers.advance(QOS1_RECORD_DELAY_MS);
    await s.b.settle();
    // q2 reaches PUBREC: PUBREL only once the core ack and the "released" mark are durable.
    sub.send({ cmd: 'pubrec', messageId: m2!.messageId! });
    expect(sub.read()).toEqual([]);
    await s.b.settle();
    expect(sub.one('pubrel').messageId).toBe(m2!.messageId);

    let b = await s.crashAndRestart();
    let again = await b.resume('dev');
    await b.settle();
    const ps = again.read();
    expect(ps.map((x) => [x.cmd, x.messageId, x.cmd === 'publish' ? x.dup : undefined])).toEqual([
      ['pubrel', m2!.messageId, undefined],
      ['publish', m1!.messageId, true],
      ['publish', m3!.messageId, true],
    ]);
    again.send({ cmd: 'pubcomp', messageId: m2!.messageId! });
    again.send({ cmd: 'puback', messageId: m1!.messageId! });
    again.send({ cmd: 'pubrec', messageId: m3!.messageId! });
    await b.settle();
    expect(again.one('pubrel').messageId).toBe(m3!.messageId);
    again.send({ cmd: 'pubcomp', messageId: m3!.messageId! });
    await b.settle();

    b = await s.crashAndRestart();
    again = await b.resume('dev');
    await b.settle();
    expect(again.read()).toEqual([]);
  });

  it('session expiry runs from the disconnection, across a restart', async () => {
    const s = await setup();
    const c = s.b.client(5);
    await c.connect({ clientId: 'v5', clean: false, properties: { sessionExpiryInterval: 60 } });
    c.subscribe([{ topic: 'e', qos: 1 }]);
    c.read();
    c.session.onClose();
    s.timers.advance(40_000);
    await s.b.settle();
    const b = await s.crashAndRestart();
    expect(b.core.stats().durables).toHaveLength(1);
    s.timers.advance(19_000);
    expect(b.protocol.settings.registry.offlineCount).toBe(1);
    s.timers.advance(2_000);
    expect(b.protocol.settings.registry.offlineCount).toBe(0);
    expect(b.core.stats().durables).toEqual([]);
    await b.settle();
    const b2 = await s.crashAndRestart();
    expect(await new KvSessionStore(b2.core.kv('unused')).load()).toEqual([]);
    const again = b2.client(5);
    const ack = await again.connect({
      clientId: 'v5',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    });
    expect(ack.sessionPresent).toBe(false);
  });

  it('a session connected when the broker died expires a full interval after the restart', async () => {
    const s = await setup();
    const c = s.b.client(5);
    await c.connect({ clientId: 'v5', clean: false, properties: { sessionExpiryInterval: 30 } });
    c.subscribe([{ topic: 'e', qos: 1 }]);
    await s.b.settle();
    s.timers.advance(100_000);
    const b = await s.crashAndRestart();
    s.timers.advance(29_000);
    expect(b.protocol.settings.registry.offlineCount).toBe(1);
    s.timers.advance(2_000);
    expect(b.protocol.settings.registry.offlineCount).toBe(0);
  });

  it('a clean start discards the stored session; clean sessions store nothing', async () => {
    const s = await setup();
    await s.b.away('dev', 'a', 1);
    await s.b.settle();
    expect(s.b.journal.stats().liveKv).toBe(2);
    const clean = s.b.client();
    await clean.connect({ clientId: 'dev', clean: true });
    clean.subscribe([{ topic: 'b', qos: 2 }]);
    clean.read();
    const pub = s.b.client();
    await pub.connect({ clientId: 'pub' });
    pub.publish('b', 'x', { qos: 2, messageId: 1 });
    await s.b.settle();
    clean.read();
    expect(s.b.journal.stats().liveKv).toBe(0);
    const b = await s.crashAndRestart();
    expect(b.core.stats().durables).toEqual([]);
    const again = b.client();
    expect((await again.connect({ clientId: 'dev', clean: false })).sessionPresent).toBe(false);
  });

  it('QoS 1: a delivery acknowledged at once leaves no record; one left in flight is recorded after the delay', async () => {
    const s = await setup();
    const sub = await s.b.resume('dev1');
    sub.subscribe([{ topic: 'q1', qos: 1 }]);
    sub.read();
    const pub = s.b.client();
    await pub.connect({ clientId: 'pub1' });
    const outbound = () => s.b.written.filter((w) => w.includes(' o:'));
    pub.publish('q1', 'fast', { qos: 1, messageId: 1 });
    await s.b.settle();
    const fast = sub.publishes()[0]!;
    sub.send({ cmd: 'puback', messageId: fast.messageId! });
    await s.b.settle();
    s.timers.advance(QOS1_RECORD_DELAY_MS * 2);
    await s.b.settle();
    expect(outbound()).toEqual([]);

    pub.publish('q1', 'slow', { qos: 1, messageId: 2 });
    await s.b.settle();
    const slow = sub.publishes()[0]!;
    expect(outbound()).toEqual([]);
    s.timers.advance(QOS1_RECORD_DELAY_MS);
    await s.b.settle();
    expect(outbound()).toEqual([`put o:dev1:${slow.messageId}`]);
    // Recorded, so after a crash it comes back under its first packet id.
    const b = await s.crashAndRestart();
    const again = await b.resume('dev1');
    await b.settle();
    expect(again.publishes().map((p) => [String(p.payload), p.messageId, p.dup])).toEqual([
      ['slow', slow.messageId, true],
    ]);
  });

  it('QoS 1: a crash before the record was written still redelivers the message (new packet id, DUP)', async () => {
    const s = await setup();
    const sub = await s.b.resume('dev2');
    sub.subscribe([{ topic: 'q2', qos: 1 }]);
    sub.read();
    const pub = s.b.client();
    await pub.connect({ clientId: 'pub2' });
    pub.publish('q2', 'in flight', { qos: 1, messageId: 1 });
    await s.b.settle();
    expect(sub.publishes().map((p) => String(p.payload))).toEqual(['in flight']);
    const b = await s.crashAndRestart();
    const again = await b.resume('dev2');
    await b.settle();
    const ps = again.publishes();
    expect(ps.map((p) => [String(p.payload), p.dup])).toEqual([['in flight', true]]);
  });

  it('QoS 1: a clean stop writes the deferred records (flushDeferred)', async () => {
    const s = await setup();
    const sub = await s.b.resume('dev3');
    sub.subscribe([{ topic: 'q3', qos: 1 }]);
    sub.read();
    const pub = s.b.client();
    await pub.connect({ clientId: 'pub3' });
    pub.publish('q3', 'pending', { qos: 1, messageId: 1 });
    await s.b.settle();
    const m = sub.publishes()[0]!;
    s.b.sessions.flushDeferred();
    await s.b.settle();
    const b = await s.crashAndRestart();
    const again = await b.resume('dev3');
    await b.settle();
    expect(again.publishes().map((p) => [String(p.payload), p.messageId])).toEqual([
      ['pending', m.messageId],
    ]);
  });

  it('retained messages survive a crash, cleared ones stay cleared, wildcards find them', async () => {
    const s = await setup();
    const pub = s.b.client();
    await pub.connect({ clientId: 'pub' });
    pub.publish('dev/1/temp', '21', { qos: 1, retain: true, messageId: 1 });
    pub.publish('dev/2/temp', '19', { qos: 0, retain: true });
    pub.publish('dev/3/temp', 'x', { qos: 1, retain: true, messageId: 2 });
    pub.publish('dev/3/temp', '', { qos: 1, retain: true, messageId: 3 });
    await s.b.settle();
    expect(pub.read().map((p) => p.cmd)).toEqual(['puback', 'puback', 'puback']);
    const b = await s.crashAndRestart();
    const sub = b.client();
    await sub.connect({ clientId: 'sub' });
    sub.subscribe([{ topic: 'dev/+/temp', qos: 1 }]);
    const ps = sub.read().filter((p) => p.cmd === 'publish') as Array<{ payload: Buffer; retain: boolean }>;
    expect(ps.map((p) => [String(p.payload), p.retain]).sort()).toEqual([
      ['19', true],
      ['21', true],
    ]);
  });
});
