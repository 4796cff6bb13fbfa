/**
 * The embedded broker as an application test uses it: `Broker.start()` from `blazemq`, the client from
 * `blazemq/client` over vm://, no sockets unless asked for (docs/EMBEDDING.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionFactory, connect, Session, type TextMessage } from '../../src/client/index.js';
import { Broker } from '../../src/index.js';
import { upsertUser } from '../../src/security/users-file.js';

const brokers: Broker[] = [];
const dirs: string[] = [];

async function start(options: Parameters<typeof Broker.start>[0] = {}): Promise<Broker> {
  const b = await Broker.start(options);
  brokers.push(b);
  return b;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'blazemq-embedded-it-'));
  dirs.push(d);
  return d;
}

/** Listening TCP servers of this process (each net.Server, http.Server included, is one). */
function tcpServers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
}

afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Broker.start() defaults', () => {
  it('opens no port and is reachable at broker.url', async () => {
    const before = tcpServers();
    const broker = await start();
    expect(tcpServers()).toBe(before);
    expect(broker.ports).toEqual({});
    expect(broker.url).toMatch(/^vm:\/\/embedded-\d+$/);
    expect(broker.config.store.type).toBe('memory');
    const client = await connect(broker.url, { heartbeatMs: 0 });
    await client.publish('queue://defaults', 'hi');
    const m = await client.subscribe('queue://defaults').receive({ timeout: 2000 });
    expect(m?.text()).toBe('hi');
    await client.close();
  });

  it('gives each broker its own name; a taken name is refused; stop unregisters it', async () => {
    const a = await start();
    const b = await start();
    expect(a.url).not.toBe(b.url);
    await expect(Broker.start({ name: a.name })).rejects.toMatchObject({ code: 'CONFIG' });
    await a.stop();
    await a.stop(); // idempotent
    await expect(connect(a.url, { heartbeatMs: 0 })).rejects.toThrow(/no in-process broker/);
    await expect(a.connect()).rejects.toMatchObject({ code: 'CLOSED' });
    const again = await start({ name: a.name });
    expect(again.url).toBe(a.url);
  });

  it('validates the configuration like a config file', async () => {
    await expect(Broker.start({ config: { limits: { maxConnections: -1 } } })).rejects.toMatchObject({
      code: 'CONFIG',
    });
    await expect(Broker.start({ config: { store: { type: 'journal' } } })).rejects.toMatchObject({
      code: 'CONFIG',
    });
  });
});

describe('an application test over vm://', () => {
  it('publish/subscribe: queue with properties, topic fan-out', async () => {
    const broker = await start({ name: 'app-pubsub' });
    const producer = await broker.connect();
    const consumer = await connect('vm://app-pubsub', { heartbeatMs: 0 });
    const orders = consumer.subscribe('queue://orders', { prefetch: 10 });
    const prices = [consumer.subscribe('topic://prices.>'), consumer.subscribe('topic://prices.eur')];
    await Promise.all([orders.ready, ...prices.map((s) => s.ready)]);

    await producer.publish('queue://orders', JSON.stringify({ id: 7 }), {
      persistent: true,
      priority: 7,
      correlationId: 'c-1',
      properties: { qty: 3, price: 9.5, rush: true, note: 'é' },
    });
    await producer.publish('topic://prices.eur', '1.08');

    const m = (await orders.receive({ timeout: 2000 }))!;
    expect(JSON.parse(m.text())).toEqual({ id: 7 });
    expect(m).toMatchObject({ persistent: true, priority: 7, correlationId: 'c-1' });
    expect(m.properties).toEqual({ qty: 3, price: 9.5, rush: true, note: 'é' });
    await m.ack();
    for (const s of prices) expect((await s.receive({ timeout: 2000 }))?.text()).toBe('1.08');
    await consumer.close();
  });

  it('local transactions: sends and acks take effect on commit only', async () => {
    const broker = await start();
    const c = await broker.connect();
    const sub = c.subscribe('queue://tx.out');
    await sub.ready;

    const tx = await c.transaction();
    await tx.publish('queue://tx.out', 'a');
    expect(await sub.receive({ timeout: 100 })).toBeUndefined();
    await tx.commit();
    const a = (await sub.receive({ timeout: 2000 }))!;
    expect(a.text()).toBe('a');

    // An ack inside a rolled-back transaction gives the message back.
    const tx2 = await c.transaction();
    await tx2.ack(a);
    await tx2.publish('queue://tx.out', 'never');
    await tx2.rollback();
    await sub.close();
    const check = c.subscribe('queue://tx.out');
    const again = (await check.receive({ timeout: 2000 }))!;
    expect(again.text()).toBe('a');
    expect(again.redelivered).toBe(true);
    const tx3 = await c.transaction();
    await tx3.ack(again);
    await tx3.commit();
    expect(await check.receive({ timeout: 150 })).toBeUndefined();
  });

  it('the JMS layer works against broker.url', async () => {
    const broker = await start();
    const conn = await new ConnectionFactory(broker.url, { heartbeatMs: 0 }).createConnection();
    const session = conn.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const q = session.createQueue('jms.embedded');
    const consumer = session.createConsumer(q);
    conn.start();
    await session.createProducer(q).send(session.createTextMessage('hello jms'));
    expect(((await consumer.receive(2000)) as TextMessage).getText()).toBe('hello jms');
    await conn.close();
  });

  it('honours back-pressure: with a tiny in-flight limit every publish still arrives, in order', async () => {
    // Persistent sends into the journal are answered only after fdatasync, so requests pile up.
    const broker = await start({ dataDir: tempDir(), config: { limits: { native: { maxInflight: 2 } } } });
    const c = await broker.connect();
    const n = 300;
    // Not awaited one by one: the session pauses reading past 2 unanswered requests and resumes later.
    await Promise.all(
      Array.from({ length: n }, (_, i) => c.publish('queue://bp', String(i), { persistent: true })),
    );
    const sub = c.subscribe('queue://bp', { prefetch: 50, ackMode: 'cumulative' });
    const got: number[] = [];
    for await (const m of sub) {
      got.push(Number(m.text()));
      if (got.length === n) {
        await m.ack();
        break;
      }
    }
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('stop() ends connections the application opened itself', async () => {
    const broker = await start();
    const c = await connect(broker.url, { heartbeatMs: 0 });
    const closed = new Promise<unknown>((resolve) => c.on('closed', resolve));
    const sub = c.subscribe('queue://stop');
    await sub.ready;
    await broker.stop();
    await closed;
    await expect(c.publish('queue://stop', 'late')).rejects.toBeTruthy();
  });
});

describe('the same rules as a standalone broker', () => {
  it('with a users file, vm:// connections must log in too', async () => {
    const usersFile = join(tempDir(), 'users.json');
    await upsertUser(usersFile, 'app', 's3cret', [], { N: 1024, r: 8, p: 1 });
    const acl = [
      { pattern: 'queue://authed.>', users: ['app'], permissions: ['read' as const, 'write' as const] },
    ];
    const broker = await start({ config: { security: { usersFile, acl } } });
    await expect(connect(broker.url, { heartbeatMs: 0 })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(broker.connect({ login: 'app', passcode: 'wrong' })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    const c = await broker.connect({ login: 'app', passcode: 's3cret' });
    await c.publish('queue://authed.in', 'ok');
    await expect(c.publish('queue://elsewhere', 'no')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('limits.maxConnections counts vm:// connections', async () => {
    const broker = await start({ config: { limits: { maxConnections: 1 } } });
    const first = await broker.connect();
    // Seen by the client as a lost connection (as over TCP), so that a failover client retries.
    await expect(broker.connect()).rejects.toMatchObject({
      code: 'CONNECTION_LOST',
      message: expect.stringMatching(/connection limit reached/),
    });
    await first.close();
    await (await broker.connect()).close();
  });

  it('a client that closes gives its unacked messages back', async () => {
    const broker = await start();
    const a = await broker.connect();
    await a.publish('queue://unacked', 'work');
    const taken = await a.subscribe('queue://unacked').receive({ timeout: 2000 });
    expect(taken?.text()).toBe('work');
    await a.close(); // without ack
    const b = await broker.connect();
    const again = (await b.subscribe('queue://unacked').receive({ timeout: 2000 }))!;
    expect(again.text()).toBe('work');
    expect(again.redelivered).toBe(true);
  });

  it('a failover:(vm://...) client rides through a stop/start of the same durable broker', async () => {
    const dataDir = tempDir();
    const first = await Broker.start({ dataDir, name: 'restarting' });
    const c = await connect('failover:(vm://restarting)?initialReconnectDelay=20&maxReconnectDelay=50', {
      heartbeatMs: 0,
    });
    const events: string[] = [];
    c.on('interrupted', () => events.push('interrupted'));
    c.on('resumed', (i) => events.push(`resumed sameStore=${i.sameStore}`));
    await c.publish('queue://restart', 'before', { persistent: true });
    await first.stop();
    const second = await start({ dataDir, name: 'restarting' });
    expect(second.url).toBe(first.url);
    // Waits while reconnecting, then goes to the new broker instance.
    await c.publish('queue://restart', 'after', { persistent: true });
    const sub = c.subscribe('queue://restart');
    const got: string[] = [];
    for (let m = await sub.receive({ timeout: 2000 }); m; m = await sub.receive({ timeout: 200 })) {
      got.push(m.text());
      await m.ack();
    }
    expect(got).toEqual(['before', 'after']);
    expect(events).toEqual(['interrupted', 'resumed sameStore=true']);
    await c.close();
  });
});

describe('durability with a dataDir', () => {
  it('persistent messages and durable subscriptions survive stop/start', async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir, name: 'durable-app' });
    expect(first.config.store.type).toBe('journal');
    const c = await first.connect({ clientId: 'reader-app' });
    const durable = c.subscribe('topic://news', { durableName: 'reader' });
    await durable.ready;
    await durable.close();
    await c.publish('queue://work', 'kept', { persistent: true, properties: { n: 1 } });
    await c.publish('queue://work', 'lost', { persistent: false });
    await c.publish('topic://news', 'while away', { persistent: true });
    await first.stop();

    const second = await start({ dataDir, name: 'durable-app' });
    const d = await second.connect({ clientId: 'reader-app' });
    const work = d.subscribe('queue://work');
    const m = (await work.receive({ timeout: 2000 }))!;
    expect(m.text()).toBe('kept');
    expect(m.properties).toEqual({ n: 1 });
    await m.ack();
    expect(await work.receive({ timeout: 150 })).toBeUndefined();
    const news = d.subscribe('topic://news', { durableName: 'reader' });
    expect((await news.receive({ timeout: 2000 }))?.text()).toBe('while away');
  });

  it('a memory broker keeps nothing across stop/start', async () => {
    const first = await start({ name: 'memory-app' });
    const c = await first.connect();
    await c.publish('queue://work', 'gone', { persistent: true });
    await first.stop();
    const second = await start({ name: 'memory-app' });
    const d = await second.connect();
    expect(await d.subscribe('queue://work').receive({ timeout: 150 })).toBeUndefined();
  });
});

describe('network listeners on request', () => {
  it('shares one broker between vm:// and TCP clients', async () => {
    const before = tcpServers();
    const broker = await start({ listeners: { native: 0, stomp: 0 } });
    expect(broker.ports.native).toBeGreaterThan(0);
    expect(broker.ports.stomp).toBeGreaterThan(0);
    expect(broker.ports.http).toBeUndefined();
    expect(tcpServers()).toBe(before + 2);
    const tcp = await connect(`tcp://127.0.0.1:${broker.ports.native}`, { heartbeatMs: 0 });
    const sub = tcp.subscribe('queue://bridge');
    await sub.ready;
    const vm = await broker.connect();
    await vm.publish('queue://bridge', 'from vm', { properties: { k: 'v' } });
    const m = (await sub.receive({ timeout: 2000 }))!;
    expect(m.text()).toBe('from vm');
    expect(m.properties).toEqual({ k: 'v' });
    await m.ack();
    await tcp.close();
    await broker.stop();
    expect(tcpServers()).toBe(before);
  });
});
