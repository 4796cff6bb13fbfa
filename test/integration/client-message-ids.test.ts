/**
 * Native protocol version 2 against the real broker process (dist/): JMSMessageID after send equals the
 * id the consumer receives (non-transacted, transacted, publishBatchForIds), and temporary destinations
 * deleted before their connection ends (JMS TemporaryQueue.delete): refused while consumed, gone from the
 * management listing afterwards, sends to it refused, and never deletable by another connection.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlazeClient,
  ConnectionFactory,
  connect,
  DeliveryMode,
  isClientError,
  type Connection as JmsConnection,
  Session,
  type TextMessage,
} from '../../src/client/index.js';
import { type BrokerProcess, startBroker } from './helpers/broker.js';

let broker: BrokerProcess;
const closing: Array<{ close(): Promise<void> }> = [];
let seq = 0;
const unique = (base: string) => `${base}.${process.pid}.${++seq}`;

const url = () => `tcp://127.0.0.1:${broker.native}`;

async function client(): Promise<BlazeClient> {
  const c = await connect(url(), { heartbeatMs: 0 });
  closing.push(c);
  return c;
}

async function jms(): Promise<JmsConnection> {
  const c = await new ConnectionFactory(url(), { heartbeatMs: 0 }).createConnection();
  closing.push(c);
  c.start();
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isClientError(e) ? e.code : `not a ClientError: ${String(e)}`;
  }
  return 'no error';
}

async function addresses(): Promise<string[]> {
  const r = await fetch(`http://127.0.0.1:${broker.http}/v1/admin/addresses`);
  expect(r.status).toBe(200);
  return ((await r.json()) as Array<{ address: string }>).map((a) => a.address);
}

beforeAll(async () => {
  broker = await startBroker();
}, 30_000);
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  expect(await broker.stop()).toBe(0);
});

describe('JMSMessageID after send is the id the consumer receives', () => {
  it('non-transacted (AUTO_ACKNOWLEDGE), persistent and not', async () => {
    const connection = await jms();
    const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const queue = session.createQueue(unique('ids'));
    const producer = session.createProducer(queue);
    const sent = [session.createTextMessage('one'), session.createTextMessage('two')];
    await producer.send(sent[0]!);
    producer.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
    await producer.send(sent[1]!);
    const consumer = session.createConsumer(queue);
    for (const m of sent) {
      expect(m.getJMSMessageID()).toMatch(/^ID:/);
      const got = (await consumer.receive(5000)) as TextMessage;
      expect(got.getText()).toBe(m.getText());
      expect(got.getJMSMessageID()).toBe(m.getJMSMessageID());
    }
  });

  it('transacted: known when send returns, the same after commit', async () => {
    const connection = await jms();
    const session = connection.createSession(true, Session.SESSION_TRANSACTED);
    const queue = session.createQueue(unique('tx-ids'));
    const m = session.createTextMessage('in a transaction');
    await session.createProducer(queue).send(m);
    const before = m.getJMSMessageID();
    expect(before).toMatch(/^ID:/);
    await session.commit();
    const reader = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const got = await reader.createConsumer(queue).receive(5000);
    expect(got?.getJMSMessageID()).toBe(before);
  });

  it('publishBatchForIds: one id per message, in order; publishForId in a transaction', async () => {
    const c = await client();
    const q = `queue://${unique('batch-ids')}`;
    const ids = await c.publishBatchForIds([1, 2, 3].map((i) => ({ address: q, body: `${i}` })));
    const tx = await c.transaction();
    ids.push(await tx.publishForId(q, '4', { persistent: true }));
    await tx.commit();
    expect(new Set(ids).size).toBe(4);
    const sub = c.subscribe(q);
    for (const id of ids) {
      const m = (await sub.receive({ timeout: 5000 }))!;
      expect(m.id).toBe(id);
      await m.ack();
    }
  });
});

describe('TemporaryQueue/TemporaryTopic.delete', () => {
  it('refused while it has a consumer, then deleted: unlisted, sends refused, consumers refused', async () => {
    const connection = await jms();
    const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const temp = await session.createTemporaryQueue();
    expect(await addresses()).toContain(temp.address);
    const consumer = session.createConsumer(temp);
    await consumer.ready;
    // JMS 1.1 section 4.4.3: deleting a temporary destination that has consumers is an IllegalStateException.
    expect(await codeOf(temp.delete())).toBe('ILLEGAL_STATE');
    await consumer.close();
    await temp.delete();
    expect(await addresses()).not.toContain(temp.address);
    expect(await codeOf(connection.client.publish(temp.address, 'late'))).toBe('NOT_FOUND');
    const again = session.createConsumer(temp);
    expect(await codeOf(again.ready)).toBe('NOT_FOUND');
    expect(await codeOf(temp.delete())).toBe('INVALID_DESTINATION');
  });

  it('a temporary topic without subscribers is deleted at once', async () => {
    const connection = await jms();
    const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const topic = await session.createTemporaryTopic();
    await topic.delete();
    expect(await addresses()).not.toContain(topic.address);
  });

  it('another connection can send to it but cannot delete it', async () => {
    const owner = await client();
    const other = await client();
    const q = await owner.createTemporary('queue');
    expect(await codeOf(other.deleteTemporary(q))).toBe('FORBIDDEN');
    await other.publish(q, 'still there');
    const m = await owner.subscribe(q).receive({ timeout: 5000 });
    expect(m?.text()).toBe('still there');
    expect(await addresses()).toContain(q);
  });
});
