/** The JMS-style layer over the fake broker: acknowledge modes, transactions, start/stop, producers. */
import { afterEach, describe, expect, it } from 'vitest';
import type { DecodedFrame } from '../../../src/client/codec/frames.js';
import {
  type Connection,
  ConnectionFactory,
  DeliveryMode,
  type JmsMessage,
  Session,
  type TextMessage,
} from '../../../src/client/jms/index.js';
import { FakeBroker, type FakeBroker as FB, fields, flush } from './fake-broker.js';

const open: Connection[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function start(options = {}): Promise<{ broker: FB; connection: Connection }> {
  const broker = new FakeBroker();
  const connection = await new ConnectionFactory('tcp://fake:1', {
    transportFactory: broker.factory,
    heartbeatMs: 0,
    ...options,
  }).createConnection();
  open.push(connection);
  return { broker, connection };
}

const body = (f: DecodedFrame) => fields(f);
const text = (s: string) => new TextEncoder().encode(s);

async function consumerWith(mode: number, n = 2) {
  const { broker, connection } = await start();
  connection.start();
  const session = connection.createSession(mode === Session.SESSION_TRANSACTED, mode as never);
  const consumer = session.createConsumer(session.createQueue('in'));
  await consumer.ready;
  const conn = broker.last;
  const sid = body(conn.of('subscribe')[0]!).subscription_id;
  const tags = conn
    .deliver(
      sid,
      ...Array.from({ length: n }, (_, i) => ({
        id: `m${i + 1}`,
        body: text(`${i + 1}`),
        content_type: 'text/plain',
      })),
    )
    .map((d) => d.tag);
  return { broker, connection, session, consumer, conn, tags };
}

describe('JMS producer', () => {
  it('sends with the producer defaults, or per-send overrides, and a text content type', async () => {
    const { broker, connection } = await start();
    const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const producer = session.createProducer(session.createQueue('orders'));
    producer.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
    producer.setPriority(7);
    producer.setTimeToLive(5000);
    const m = session.createTextMessage('hello');
    m.setStringProperty('region', 'eu');
    m.setIntProperty('qty', 3);
    m.setJMSCorrelationID('c-1');
    await producer.send(m);
    await producer.send(session.createTextMessage('urgent'), DeliveryMode.PERSISTENT, 9, 0);
    const [a, b] = broker.last.of('send').map((f) => body(f).message);
    expect(a).toMatchObject({
      address: 'queue://orders',
      priority: 7,
      time_to_live_ms: 5000,
      correlation_id: 'c-1',
      content_type: 'text/plain; charset=utf-8',
      properties: { region: { string_value: 'eu' }, qty: { int_value: 3 } },
    });
    expect(a.persistent).toBeUndefined();
    expect(b).toMatchObject({ persistent: true, priority: 9 });
    expect(m.getJMSDestination()?.toString()).toBe('queue://orders');
    expect(m.getJMSExpiration()).toBeGreaterThan(Date.now());
    expect(() => producer.setPriority(10)).toThrow(/not 0..9/);
  });
});

describe('JMS acknowledge modes', () => {
  it('AUTO_ACKNOWLEDGE acks each message when receive() returns it', async () => {
    const { consumer, conn, tags } = await consumerWith(Session.AUTO_ACKNOWLEDGE);
    const m = (await consumer.receive(1000)) as TextMessage;
    expect(m.getText()).toBe('1');
    expect(m.getJMSMessageID()).toBe('m1');
    expect(conn.of('ack').flatMap((f) => body(f).tags)).toEqual([tags[0]]);
  });

  it('CLIENT_ACKNOWLEDGE: acknowledge() acks everything consumed so far; recover() redelivers', async () => {
    const { consumer, conn, tags, session } = await consumerWith(Session.CLIENT_ACKNOWLEDGE, 3);
    await consumer.receive(1000);
    const second = (await consumer.receive(1000))!;
    expect(conn.of('ack')).toHaveLength(0);
    await second.acknowledge();
    expect(conn.of('ack').flatMap((f) => body(f).tags)).toEqual([tags[0], tags[1]]);
    await consumer.receive(1000);
    await session.recover();
    expect(conn.of('nack').flatMap((f) => body(f).tags)).toEqual([tags[2]]);
  });

  it('INDIVIDUAL_ACKNOWLEDGE acks only the message acknowledged', async () => {
    const { consumer, conn, tags } = await consumerWith(Session.INDIVIDUAL_ACKNOWLEDGE);
    await consumer.receive(1000);
    const second = (await consumer.receive(1000))!;
    await second.acknowledge();
    expect(conn.of('ack').flatMap((f) => body(f).tags)).toEqual([tags[1]]);
  });

  it('SESSION_TRANSACTED: acks carry the transaction, commit sends TxCommit, rollback nacks', async () => {
    const { consumer, conn, tags, session } = await consumerWith(Session.SESSION_TRANSACTED);
    await consumer.receive(1000);
    await session.createProducer(session.createQueue('out')).send(session.createTextMessage('x'));
    await session.commit();
    const txId = body(conn.of('tx_begin')[0]!).tx_id;
    expect(conn.of('ack').map((f) => body(f))).toEqual([
      expect.objectContaining({ tx_id: txId, tags: [tags[0]] }),
    ]);
    expect(body(conn.of('send')[0]!).tx_id).toBe(txId);
    expect(body(conn.of('tx_commit')[0]!).tx_id).toBe(txId);

    await consumer.receive(1000);
    await session.rollback();
    expect(conn.of('tx_rollback')).toHaveLength(1);
    expect(conn.of('nack').flatMap((f) => body(f).tags)).toEqual([tags[1]]);
  });
});

describe('JMS consumers and connection', () => {
  it('a stopped connection delivers nothing; start() resumes; listeners run one at a time', async () => {
    const { broker, connection } = await start();
    const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const consumer = session.createConsumer(session.createQueue('in'));
    await consumer.ready;
    const sid = body(broker.last.of('subscribe')[0]!).subscription_id;
    broker.last.deliver(sid, { id: 'a', body: text('a') }, { id: 'b', body: text('b') });
    expect(await consumer.receive(30)).toBeNull(); // not started
    expect(await consumer.receiveNoWait()).toBeNull();
    const seen: string[] = [];
    let running = 0;
    let overlap = false;
    consumer.setMessageListener(async (m: JmsMessage) => {
      running++;
      overlap ||= running > 1;
      await new Promise((r) => setTimeout(r, 5));
      seen.push(m.getJMSMessageID()!);
      running--;
    });
    await flush();
    expect(seen).toEqual([]);
    connection.start();
    for (let i = 0; i < 50 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['a', 'b']);
    expect(overlap).toBe(false);
    await expect(consumer.receive(10)).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
  });

  it('a listener that throws gets the message nacked (AUTO_ACKNOWLEDGE)', async () => {
    const { conn, consumer, tags } = await consumerWith(Session.AUTO_ACKNOWLEDGE, 1);
    consumer.setMessageListener(() => {
      throw new Error('boom');
    });
    for (let i = 0; i < 50 && conn.of('nack').length === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(conn.of('nack').flatMap((f) => body(f).tags)).toEqual([tags[0]]);
  });

  it('durable subscribers need a client id and carry the subscription name; unsubscribe deletes it', async () => {
    const { connection } = await start();
    const session = connection.createSession();
    expect(() => session.createDurableSubscriber(session.createTopic('t'), 'sub')).toThrow(/client id/);
    const { broker, connection: withId } = await start({ clientID: 'app-1' });
    expect(body(broker.last.of('connect')[0]!).client_id).toBe('app-1');
    const s2 = withId.createSession();
    const durable = s2.createDurableSubscriber(s2.createTopic('prices'), 'sub-1', "sym = 'X'");
    await durable.ready;
    expect(body(broker.last.of('subscribe')[0]!)).toMatchObject({
      address: 'topic://prices',
      durable_name: 'sub-1',
      selector: "sym = 'X'",
    });
    await durable.close();
    await s2.unsubscribe('sub-1');
    expect(body(broker.last.of('unsubscribe_durable')[0]!).durable_name).toBe('sub-1');
  });

  it('temporary queues and the queue browser use their frames', async () => {
    const { broker, connection } = await start();
    const session = connection.createSession();
    const tq = await session.createTemporaryQueue();
    expect(tq.toString()).toBe('temp-queue://t1');
    broker.browsable = [{ id: 'p1', address: 'queue://q', body: text('look'), content_type: 'text/plain' }];
    const browser = session.createBrowser(session.createQueue('q'), 'a > 1');
    const seen = (await browser.getEnumeration()).map((m) => (m as TextMessage).getText());
    expect(seen).toEqual(['look']);
    expect(body(broker.last.of('browse')[0]!)).toMatchObject({ address: 'queue://q', selector: 'a > 1' });
  });
});
