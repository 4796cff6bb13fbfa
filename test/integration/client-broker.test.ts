/**
 * blazemq/client against the real broker process (dist/, as users run it): the bespoke API and the JMS
 * layer over TCP and WebSocket, failover between two brokers, and the key failover case: a broker killed
 * (-9) and restarted on the same data while messages are in flight and partly acknowledged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlazeClient,
  ConnectionFactory,
  connect,
  type Connection as JmsConnection,
  Session,
  type TextMessage,
} from '../../src/client/index.js';
import { freePort } from '../helpers/ports.js';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

let broker: BrokerProcess;
const clients: Array<{ close(): Promise<void> }> = [];
let seq = 0;
const unique = (base: string) => `${base}.${process.pid}.${++seq}`;

async function client(url = `tcp://127.0.0.1:${broker.native}`, options = {}): Promise<BlazeClient> {
  const c = await connect(url, options);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  broker = await startBroker();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  expect(await broker.stop()).toBe(0);
});

describe('bespoke API over TCP and WebSocket', () => {
  it('publishes and consumes over tcp://, with headers and properties', async () => {
    const c = await client();
    const q = `queue://${unique('tcp')}`;
    await c.publish(q, 'hello', { persistent: true, correlationId: 'c1', properties: { n: 7 } });
    const m = (await c.subscribe(q).receive({ timeout: 5000 }))!;
    expect(m).toMatchObject({ address: q, correlationId: 'c1', persistent: true, properties: { n: 7 } });
    expect(m.text()).toBe('hello');
    await m.ack();
    expect(c.connection?.server).toMatch(/^blazemq/);
  });

  it('ws://host/native reaches the same broker (the browser transport, through the ws package in Node)', async () => {
    const viaWs = await client(`ws://127.0.0.1:${broker.http}/native`);
    const viaTcp = await client();
    const q = `queue://${unique('ws')}`;
    const sub = viaWs.subscribe(q);
    await sub.ready;
    await viaTcp.publish(q, new Uint8Array([0, 1, 2, 255]));
    const m = (await sub.receive({ timeout: 5000 }))!;
    expect(Array.from(m.body)).toEqual([0, 1, 2, 255]);
    await m.ack();
    const reply = viaTcp.subscribe(`queue://${unique('unused')}`);
    await reply.ready;
  });

  it('ws:// carries a burst of sends (several frames per WebSocket message) whole and in order', async () => {
    const viaWs = await client(`ws://127.0.0.1:${broker.http}/native`);
    const viaTcp = await client();
    const q = `queue://${unique('wsburst')}`;
    const body = 'x'.repeat(3000);
    await Promise.all(Array.from({ length: 500 }, (_, i) => viaWs.publish(q, `${i}:${body}`)));
    const sub = viaTcp.subscribe(q, { ackMode: 'auto' });
    const got: string[] = [];
    for (let i = 0; i < 500; i++) got.push((await sub.receive({ timeout: 5000 }))!.text().split(':')[0]!);
    expect(got).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
  });

  it('request/reply between two clients', async () => {
    const server = await client();
    const caller = await client();
    const svc = `queue://${unique('svc')}`;
    const requests = server.subscribe(svc, { ackMode: 'auto' });
    await requests.ready;
    void (async () => {
      for await (const m of requests) await server.reply(m, m.text().toUpperCase());
    })();
    expect((await caller.request(svc, 'ping', { timeout: 5000 })).text()).toBe('PING');
  });

  it('an AbortSignal ends a for-await subscription and a pending request', async () => {
    const c = await client();
    const q = `queue://${unique('abort')}`;
    const ac = new AbortController();
    const sub = c.subscribe(q, { signal: ac.signal });
    await sub.ready;
    await c.publish(q, 'one');
    const seen: string[] = [];
    for await (const m of sub) {
      seen.push(m.text());
      await m.ack();
      ac.abort();
    }
    expect(seen).toEqual(['one']);
    // Nobody serves this address: only the signal can end the request, long before its timeout.
    const rc = new AbortController();
    const pending = c.request(`queue://${unique('nobody')}`, 'ping', { timeout: 60_000, signal: rc.signal });
    setTimeout(() => rc.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('a for-await consumer slower than its producer holds no more than its prefetch', async () => {
    const c = await client();
    const q = `queue://${unique('slow')}`;
    await c.publishBatch(Array.from({ length: 200 }, (_, i) => ({ address: q, body: `${i}` })));
    const sub = c.subscribe(q, { prefetch: 8 });
    let n = 0;
    let maxBuffered = 0;
    for await (const m of sub) {
      maxBuffered = Math.max(maxBuffered, sub.buffered);
      await m.ack();
      if (++n === 200) break;
    }
    expect(maxBuffered).toBeLessThanOrEqual(8);
  });
});

describe('JMS layer against the broker process', () => {
  it('queue round trip with AUTO_ACKNOWLEDGE and a listener', async () => {
    const factory = new ConnectionFactory(`tcp://127.0.0.1:${broker.native}`);
    const conn: JmsConnection = await factory.createConnection();
    clients.push(conn);
    const session = conn.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const q = session.createQueue(unique('jms'));
    const got: string[] = [];
    const done = new Promise<void>((resolve) => {
      session.createConsumer(q).setMessageListener((m) => {
        got.push((m as TextMessage).getText()!);
        if (got.length === 3) resolve();
      });
    });
    conn.start();
    const producer = session.createProducer(q);
    for (const t of ['a', 'b', 'c']) await producer.send(session.createTextMessage(t));
    await done;
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('CLIENT_ACKNOWLEDGE: recover() redelivers what was not acknowledged; acknowledge() settles the rest', async () => {
    const factory = new ConnectionFactory(`tcp://127.0.0.1:${broker.native}`);
    const conn: JmsConnection = await factory.createConnection();
    clients.push(conn);
    conn.start();
    const session = conn.createSession(false, Session.CLIENT_ACKNOWLEDGE);
    const q = session.createQueue(unique('client-ack'));
    const producer = session.createProducer(q);
    for (const t of ['a', 'b']) await producer.send(session.createTextMessage(t));
    const consumer = session.createConsumer(q);
    const first = [await consumer.receive(5000), await consumer.receive(5000)];
    expect(first.map((m) => (m as TextMessage).getText())).toEqual(['a', 'b']);
    await session.recover();
    const again = [await consumer.receive(5000), await consumer.receive(5000)];
    expect(again.map((m) => [(m as TextMessage).getText(), m!.getJMSRedelivered()])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    await again[1]!.acknowledge();
    expect(await consumer.receive(300)).toBeNull();
    await conn.close();
    // Acknowledged for good: a new connection finds the queue empty.
    const other = await factory.createConnection();
    clients.push(other);
    other.start();
    const s2 = other.createSession(false, Session.DUPS_OK_ACKNOWLEDGE);
    expect(await s2.createConsumer(s2.createQueue(q.getQueueName())).receive(300)).toBeNull();
  });

  it('DUPS_OK_ACKNOWLEDGE consumes every message once in order', async () => {
    const factory = new ConnectionFactory(`tcp://127.0.0.1:${broker.native}`);
    const conn: JmsConnection = await factory.createConnection();
    clients.push(conn);
    conn.start();
    const session = conn.createSession(false, Session.DUPS_OK_ACKNOWLEDGE);
    const q = session.createQueue(unique('dups-ok'));
    const producer = session.createProducer(q);
    for (let i = 0; i < 20; i++) await producer.send(session.createTextMessage(`${i}`));
    const consumer = session.createConsumer(q);
    const got: string[] = [];
    for (let i = 0; i < 20; i++) got.push(((await consumer.receive(5000)) as TextMessage).getText()!);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `${i}`));
    expect(await consumer.receive(300)).toBeNull();
  });

  it('the exception listener hears about a broker that dies', async () => {
    const dying = await startBroker();
    try {
      const conn = await new ConnectionFactory(`tcp://127.0.0.1:${dying.native}`).createConnection();
      clients.push(conn);
      const heard = new Promise<unknown>((resolve) => conn.setExceptionListener(resolve));
      await dying.kill9();
      expect(await heard).toMatchObject({ code: expect.any(String) });
    } finally {
      await dying.stop().catch(() => undefined);
    }
  });
});

describe('failover', () => {
  it('moves to the second broker when the first stops, and says it is a different store', async () => {
    const other = await startBroker();
    try {
      const c = await client(
        `failover:(tcp://127.0.0.1:${other.native},tcp://127.0.0.1:${broker.native})?initialReconnectDelay=20`,
      );
      const resumed = new Promise<{ sameStore: boolean; endpoint: string }>((r) => c.on('resumed', r));
      const q = `queue://${unique('moved')}`;
      const sub = c.subscribe(q);
      await sub.ready;
      expect(await other.stop()).toBe(0);
      const info = await resumed;
      expect(info.sameStore).toBe(false);
      expect(info.endpoint).toBe(`tcp://127.0.0.1:${broker.native}`);
      await c.publish(q, 'after failover');
      expect((await sub.receive({ timeout: 5000 }))?.text()).toBe('after failover');
    } finally {
      if (other.child.exitCode === null) await other.stop();
    }
  });

  it('kill -9 and restart on the same data: acked messages are not redelivered, resent sends not doubled', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'blazemq-client-restart-'));
    const args = ['--native', String(port)];
    const BURST = 1500;
    let first: BrokerProcess | undefined = await startBroker({ dataDir, args });
    let second: BrokerProcess | undefined;
    try {
      const c = await client(
        `failover:(tcp://127.0.0.1:${port})?initialReconnectDelay=50&maxReconnectDelay=250`,
      );
      const events: string[] = [];
      c.on('interrupted', () => events.push('interrupted'));
      c.on('resumed', (i) => events.push(`resumed sameStore=${i.sameStore}`));
      const q = `queue://${unique('restart')}`;
      await c.publishBatch(
        Array.from({ length: 10 }, (_, i) => ({
          address: q,
          body: `m${i + 1}`,
          options: { persistent: true },
        })),
      );
      const sub = c.subscribe(q, { prefetch: 20 });
      for (let i = 0; i < 5; i++) await (await sub.receive({ timeout: 5000 }))!.ack();
      const unacked = [await sub.receive({ timeout: 5000 }), await sub.receive({ timeout: 5000 })];
      expect(unacked.map((m) => m?.text())).toEqual(['m6', 'm7']);

      // A burst of persistent sends, most unconfirmed when the broker dies.
      // More than maxInflightSends (1,000): the client itself holds some back while the broker dies.
      const burst = Array.from({ length: BURST }, (_, i) => c.publish(q, `b${i}`, { persistent: true }));
      let confirmed = 0;
      for (const p of burst) void p.then(() => confirmed++);
      // Kill once some are durable, so others are on the wire, in the journal or waiting for their Ok.
      await burst[4];
      await first.kill9();
      expect(confirmed).toBeLessThan(BURST);
      first = undefined;
      second = await startBroker({ dataDir, args });
      await Promise.all(burst); // resent after the reconnect, each answered once

      const seen: string[] = [];
      for (let m = await sub.receive({ timeout: 5000 }); m; m = await sub.receive({ timeout: 500 })) {
        seen.push(m.text());
        await m.ack();
      }
      expect(events).toEqual(['interrupted', 'resumed sameStore=true']);
      const expected = ['m6', 'm7', 'm8', 'm9', 'm10', ...Array.from({ length: BURST }, (_, i) => `b${i}`)];
      expect([...seen].sort()).toEqual([...expected].sort()); // nothing acked again, nothing doubled or lost
    } finally {
      await first?.kill9();
      await second?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
