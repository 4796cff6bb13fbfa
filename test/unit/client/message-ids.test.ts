/**
 * The client side of native protocol version 2: message ids after send (`want_ids`, Ok.message_ids) in
 * the bespoke API, transactions and JMS (JMSMessageID, setDisableMessageID), and temporary destination
 * delete (DeleteTemporary, JMS TemporaryQueue/TemporaryTopic.delete). Frames are cross-checked against the
 * broker's own codec; behaviour runs over the scripted fake broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BlazeClient, connect } from '../../../src/client/client.js';
import { decodeFrame, encodeFrame } from '../../../src/client/codec/codec.js';
import { isClientError } from '../../../src/client/codec/errors.js';
import {
  type Connection,
  ConnectionFactory,
  Destination,
  Session,
  type TemporaryQueue,
} from '../../../src/client/jms/index.js';
import {
  decodeFrame as brokerDecode,
  encodeOk,
  encodeOkIds,
} from '../../../src/protocol/native/codec/index.js';
import { FakeBroker, fields, flush } from './fake-broker.js';

const clients: BlazeClient[] = [];
const connections: Connection[] = [];
afterEach(async () => {
  await Promise.all([...clients.splice(0), ...connections.splice(0)].map((c) => c.close()));
});

async function start(broker = new FakeBroker()) {
  const client = await connect('tcp://fake:1', { transportFactory: broker.factory, heartbeatMs: 0 });
  clients.push(client);
  return { broker, client, conn: broker.last };
}

async function jms(broker = new FakeBroker()) {
  const connection = await new ConnectionFactory('tcp://fake:1', {
    transportFactory: broker.factory,
    heartbeatMs: 0,
  }).createConnection();
  connections.push(connection);
  return { broker, connection, conn: broker.last };
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; cause?: unknown }> {
  try {
    await p;
  } catch (e) {
    if (!isClientError(e)) throw e;
    return e as { code: string; cause?: unknown };
  }
  throw new Error('resolved');
}

describe('version 2 frames: client codec against the broker codec', () => {
  it('want_ids and DeleteTemporary reach the broker decoder; the plain Send carries no want_ids', () => {
    const message = { address: 'queue://a', body: new Uint8Array([1]) };
    const want = brokerDecode(
      encodeFrame({
        send: { request_id: 1, message, producer_id: 'p', sequence: 3, want_ids: true },
      }).subarray(4),
    );
    expect(want.kind === 'send' && want.value.want_ids).toBe(true);
    const plain = encodeFrame({ send: { request_id: 1, message, producer_id: 'p', sequence: 3 } });
    const explicitFalse = encodeFrame({
      send: { request_id: 1, message, producer_id: 'p', sequence: 3, want_ids: false },
    });
    expect(Buffer.compare(plain, explicitFalse)).toBe(0);
    const batch = brokerDecode(
      encodeFrame({ send_batch: { request_id: 2, messages: [message, message], want_ids: true } }).subarray(
        4,
      ),
    );
    expect(batch.kind === 'send_batch' && batch.value.want_ids).toBe(true);
    const del = brokerDecode(
      encodeFrame({ delete_temporary: { request_id: 4, address: 'temp-queue://t' } }).subarray(4),
    );
    expect(del).toEqual({ kind: 'delete_temporary', value: { request_id: 4, address: 'temp-queue://t' } });
  });

  it('reads the broker hand-written Ok with ids, "" kept in place, and the plain Ok with none', () => {
    const withIds = decodeFrame(encodeOkIds(7, ['ID:b:1', '', 'ID:b:3']).subarray(4));
    expect(withIds).toMatchObject({
      kind: 'ok',
      ok: { request_id: 7, message_ids: ['ID:b:1', '', 'ID:b:3'] },
    });
    const plain = decodeFrame(encodeOk(8).subarray(4)) as { ok: { message_ids?: string[] } };
    expect(plain.ok.message_ids ?? []).toEqual([]);
  });
});

describe('BlazeClient message ids', () => {
  it('publishForId resolves with the id; publish asks for none', async () => {
    const { client, conn } = await start();
    expect(await client.publishForId('queue://a', 'x')).toBe('ID:fake:1');
    await client.publish('queue://a', 'y');
    const [withId, without] = conn.of('send').map(fields);
    expect(withId.want_ids).toBe(true);
    expect(without.want_ids).toBeFalsy();
    expect(
      await client.publishBatchForIds([
        { address: 'queue://a', body: '1' },
        { address: 'queue://b', body: '2' },
      ]),
    ).toEqual(['ID:fake:2', 'ID:fake:3']);
    expect(fields(conn.of('send_batch')[0]).want_ids).toBe(true);
    expect(await client.publishBatchForIds([])).toEqual([]);
  });

  it('a transaction knows the ids before commit', async () => {
    const { client, conn } = await start();
    const tx = await client.transaction();
    const id = await tx.publishForId('queue://t', 'x');
    const ids = await tx.publishBatchForIds([{ address: 'queue://t', body: 'y' }]);
    expect([id, ...ids]).toEqual(['ID:fake:1', 'ID:fake:2']);
    expect(conn.of('tx_commit')).toHaveLength(0);
    await tx.commit();
    expect(fields(conn.of('send')[0]).tx_id).toBe(tx.id);
  });

  it('undefined when the broker sends no ids (version 1), or "" for one it forgot', async () => {
    const old = new FakeBroker();
    old.version = 1;
    const { client, conn } = await start(old);
    conn.holdSends = true;
    const pending = client.publishForId('queue://a', 'x');
    await flush();
    const send = conn.of('send')[0]!;
    conn.answer(send, { ok: { request_id: fields(send).request_id } });
    expect(await pending).toBeUndefined();
    const batch = client.publishBatchForIds([
      { address: 'queue://a', body: '1' },
      { address: 'queue://a', body: '2' },
    ]);
    await flush();
    const sb = conn.of('send_batch')[0]!;
    conn.answer(sb, { ok: { request_id: fields(sb).request_id, message_ids: ['', 'ID:x:9'] } });
    expect(await batch).toEqual([undefined, 'ID:x:9']);
  });
});

describe('BlazeClient.deleteTemporary', () => {
  it('sends DeleteTemporary and passes the broker refusal code on', async () => {
    const { client, broker, conn } = await start();
    await client.deleteTemporary('temp-queue://t1');
    expect(fields(conn.of('delete_temporary')[0]).address).toBe('temp-queue://t1');
    broker.refuseDelete = 'TEMPORARY_IN_USE';
    expect((await rejection(client.deleteTemporary('temp-queue://t1'))).code).toBe('TEMPORARY_IN_USE');
  });

  it('NOT_SUPPORTED against a version 1 broker, without sending a frame it would not know', async () => {
    const old = new FakeBroker();
    old.version = 1;
    const { client, conn } = await start(old);
    expect((await rejection(client.deleteTemporary('temp-queue://t1'))).code).toBe('NOT_SUPPORTED');
    expect(conn.of('delete_temporary')).toHaveLength(0);
  });
});

describe('JMS: JMSMessageID after send', () => {
  it('is the broker id after send, non-transacted and transacted (before commit)', async () => {
    const { connection } = await jms();
    const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const producer = session.createProducer(session.createQueue('q'));
    const m = session.createTextMessage('a');
    m.setJMSMessageID('ID:stale');
    await producer.send(m);
    expect(m.getJMSMessageID()).toBe('ID:fake:1');

    const tx = connection.createSession(true, Session.SESSION_TRANSACTED);
    const txm = tx.createTextMessage('b');
    await tx.createProducer(tx.createQueue('q')).send(txm);
    expect(txm.getJMSMessageID()).toBe('ID:fake:2');
    await tx.commit();
    expect(txm.getJMSMessageID()).toBe('ID:fake:2');
  });

  it('setDisableMessageID(true): no id asked for, JMSMessageID null', async () => {
    const { connection, conn } = await jms();
    const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const producer = session.createProducer(session.createQueue('q'));
    expect(producer.getDisableMessageID()).toBe(false);
    producer.setDisableMessageID(true);
    const m = session.createTextMessage('a');
    m.setJMSMessageID('ID:stale');
    await producer.send(m);
    expect(m.getJMSMessageID()).toBeNull();
    expect(fields(conn.of('send')[0]).want_ids).toBeFalsy();
  });
});

describe('JMS: TemporaryQueue/TemporaryTopic.delete', () => {
  it('reaches the broker; in use -> ILLEGAL_STATE (IllegalStateException), gone -> INVALID_DESTINATION', async () => {
    const { connection, broker, conn } = await jms();
    const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    const tq: TemporaryQueue = await session.createTemporaryQueue();
    await tq.delete();
    expect(fields(conn.of('delete_temporary')[0]).address).toBe(tq.address);
    const tt = await session.createTemporaryTopic();
    broker.refuseDelete = 'TEMPORARY_IN_USE';
    const inUse = await rejection(tt.delete());
    expect(inUse.code).toBe('ILLEGAL_STATE');
    expect((inUse.cause as { code: string }).code).toBe('TEMPORARY_IN_USE');
    broker.refuseDelete = 'NOT_FOUND';
    expect((await rejection(tq.delete())).code).toBe('INVALID_DESTINATION');
    broker.refuseDelete = 'FORBIDDEN';
    expect((await rejection(tq.delete())).code).toBe('FORBIDDEN');
  });

  it('one read from a message (JMSReplyTo) was not created here: ILLEGAL_STATE, nothing sent', async () => {
    const { conn } = await jms();
    const replyTo = Destination.fromAddress('temp-queue://elsewhere') as TemporaryQueue;
    expect((await rejection(replyTo.delete())).code).toBe('ILLEGAL_STATE');
    expect(conn.of('delete_temporary')).toHaveLength(0);
  });
});
