/**
 * Failover over the fake broker on a fake clock: back-off between attempts, re-subscription, resend of
 * unconfirmed sends with the same (producer_id, sequence), and no second hand-out of acked messages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BlazeClient, connect } from '../../../src/client/client.js';
import type { ClientError } from '../../../src/client/codec/errors.js';
import { ManualTimers } from '../../helpers/manual-timers.js';
import { FakeBroker, fields, flush } from './fake-broker.js';

const URL =
  'failover:(tcp://a:1,tcp://b:2)?initialReconnectDelay=100&maxReconnectDelay=1000&backOffMultiplier=2';
const open: BlazeClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function start(url = URL) {
  const broker = new FakeBroker();
  const timers = new ManualTimers();
  const client = await connect(url, { transportFactory: broker.factory, timers, heartbeatMs: 0 });
  open.push(client);
  const events: string[] = [];
  client.on('interrupted', () => events.push('interrupted'));
  client.on('resumed', (i) => events.push(`resumed ${i.endpoint} sameStore=${i.sameStore}`));
  client.on('closed', (e) => events.push(`closed ${e?.code}`));
  return { broker, timers, client, events };
}

const subId = (f: unknown) => (f as { subscribe: { subscription_id: number } }).subscribe.subscription_id;

describe('failover', () => {
  it('reconnects with exponential back-off, alternating endpoints, and reports interrupted/resumed', async () => {
    const endpoints: string[] = [];
    const { broker, timers, client, events } = await start();
    const factory = broker.factory;
    (client as unknown as { options: { transportFactory: typeof factory } }).options.transportFactory = (
      e,
      h,
      o,
    ) => {
      endpoints.push(e.url);
      return factory(e, h, o);
    };
    broker.refuseAttempts = 2;
    broker.last.drop();
    await flush();
    expect(events).toEqual(['interrupted']);
    // First retry at once (to the other endpoint), then after 100, then 200 ms.
    expect(broker.attempts).toBe(2);
    timers.advance(99);
    await flush();
    expect(broker.attempts).toBe(2);
    timers.advance(1);
    await flush();
    expect(broker.attempts).toBe(3);
    timers.advance(200);
    await flush();
    expect(broker.attempts).toBe(4);
    expect(client.connection).toBeDefined();
    expect(events).toEqual(['interrupted', 'resumed tcp://b:2 sameStore=true']);
    expect(endpoints).toEqual(['tcp://b:2', 'tcp://a:1', 'tcp://b:2']);
  });

  it('gives up after maxReconnectAttempts and fails what waits', async () => {
    const { broker, timers, client, events } = await start(
      'failover:(tcp://a:1)?initialReconnectDelay=10&maxReconnectAttempts=2',
    );
    broker.refuseAttempts = 100;
    broker.last.drop();
    await flush();
    const pending = client.publish('queue://q', 'x');
    timers.advance(10);
    await flush();
    timers.advance(20);
    await flush();
    await expect(pending).rejects.toMatchObject({ code: 'RECONNECT_FAILED' });
    expect(events).toEqual(['interrupted', 'closed RECONNECT_FAILED']);
    expect(client.isClosed).toBe(true);
  });

  it('resends unconfirmed sends with the same producer id and sequences, in order, before new ones', async () => {
    const { broker, client } = await start();
    const first = broker.last;
    first.holdSends = true;
    const p1 = client.publish('queue://q', 'one');
    const p2 = client.publishBatch([
      { address: 'queue://q', body: 'two' },
      { address: 'queue://q', body: 'three' },
    ]);
    await flush();
    first.answer(first.of('send')[0]!); // 'one' confirmed before the loss: not resent
    await p1;
    first.drop();
    await flush();
    const p3 = client.publish('queue://q', 'four'); // while reconnecting: goes out after the resend
    await flush(40);
    const second = broker.last;
    expect(second).not.toBe(first);
    const kinds = second.received.filter((f) => f.kind === 'send' || f.kind === 'send_batch');
    expect(kinds.map((f) => f.kind)).toEqual(['send_batch', 'send']);
    expect(fields(kinds[0])).toMatchObject({ producer_id: client.producerId, first_sequence: 2 });
    expect(fields(kinds[1])).toMatchObject({ producer_id: client.producerId, sequence: 4 });
    await Promise.all([p2, p3]);
  });

  it('makes subscriptions again with the same id and full credit, dropping unconsumed buffered messages', async () => {
    const { broker, client } = await start();
    const sub = client.subscribe('queue://q', { prefetch: 8, durableName: undefined });
    await sub.ready;
    const id = subId(broker.last.of('subscribe')[0]);
    broker.last.deliver(id, { id: 'm1' }, { id: 'm2' });
    await flush();
    expect(sub.buffered).toBe(2);
    broker.last.drop();
    await flush(40);
    expect(sub.buffered).toBe(0); // the broker redelivers them: keeping them would double them
    const again = broker.last.of('subscribe')[0]!;
    expect(subId(again)).toBe(id);
    expect(fields(again).credit).toBe(8);
  });

  it('never hands the application a message it acked before the connection was lost', async () => {
    const { broker, client } = await start();
    const sub = client.subscribe('queue://q', { prefetch: 10 });
    await sub.ready;
    const id = subId(broker.last.of('subscribe')[0]);
    broker.last.deliver(id, { id: 'm1' }, { id: 'm2' });
    const m1 = (await sub.receive())!;
    const m2 = (await sub.receive())!;
    // m1's ack goes out but the connection dies before its Ok; m2 is acked only after the loss.
    const ack1 = m1.ack();
    broker.last.drop();
    await flush(40);
    await ack1; // resolved: a redelivery is acked again silently
    const conn = broker.last;
    const sid = subId(conn.of('subscribe')[0]);
    // The broker (restarted from its store) redelivers both.
    const [d1] = conn.deliver(sid, { id: 'm1' });
    await flush();
    const ack2 = m2.ack(); // old handle, after the loss: recorded, the redelivered copy will be acked
    await ack2;
    const [d2] = conn.deliver(sid, { id: 'm2' }, { id: 'm3' });
    const next = await sub.receive({ timeout: 50 });
    expect(next?.id).toBe('m3');
    expect(await sub.receive({ timeout: 10 })).toBeUndefined();
    const ackedTags = conn.of('ack').flatMap((f) => fields(f).tags as number[]);
    expect(ackedTags).toEqual(expect.arrayContaining([d1!.tag, d2!.tag]));
  });

  it('a transaction open across a failover commits as TRANSACTION_ROLLED_BACK', async () => {
    const { broker, client } = await start();
    const tx = await client.transaction();
    await tx.publish('queue://q', 'x');
    broker.last.drop();
    await flush(40);
    await expect(tx.commit()).rejects.toMatchObject({
      code: 'TRANSACTION_ROLLED_BACK',
    } satisfies Partial<ClientError>);
    expect(broker.last.of('tx_commit')).toHaveLength(0);
  });

  it('fails outstanding requests whose reply queue died, and makes a new queue for the next', async () => {
    const { broker, client } = await start();
    const r = client.request('queue://svc', 'ping', { timeout: 10_000 });
    await flush(40);
    broker.last.drop();
    await expect(r).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
    await flush(40);
    const r2 = client.request('queue://svc', 'ping', { timeout: 10_000 });
    await flush(40);
    const conn = broker.last;
    expect(conn.of('create_temporary')).toHaveLength(1);
    const sent = fields(conn.of('send').at(-1)).message;
    expect(sent.reply_to).toBe('temp-queue://t2');
    conn.deliver(subId(conn.of('subscribe')[0]), { id: 'r', correlation_id: sent.correlation_id });
    await expect(r2).resolves.toMatchObject({ id: 'r' });
  });

  it('a plain URL does not reconnect: the client closes with CONNECTION_LOST', async () => {
    const { broker, client, events } = await start('tcp://a:1');
    broker.last.drop();
    await flush();
    expect(client.isClosed).toBe(true);
    expect(events).toEqual(['closed CONNECTION_LOST']);
  });
});
