/**
 * An in-doubt commit (connection lost after TxCommit was written, before its answer): a transaction that
 * only sent is replayed on the next connection with its own producer id and the same sequences; one that
 * acked is not (its tags died with the connection) and rejects with CONNECTION_LOST.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BlazeClient, connect } from '../../../src/client/client.js';
import { ManualTimers } from '../../helpers/manual-timers.js';
import { FakeBroker, type FakeConnection, fields, flush } from './fake-broker.js';

const open: BlazeClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function start() {
  const broker = new FakeBroker();
  const client = await connect('failover:(tcp://a:1,tcp://b:2)', {
    transportFactory: broker.factory,
    timers: new ManualTimers(),
    heartbeatMs: 0,
    producerId: 'P',
  });
  open.push(client);
  return { broker, client };
}

/** The connection drops right after it received TxCommit, before the (queued) answer goes out. */
function dropOnCommit(conn: FakeConnection): void {
  const input = conn.input.bind(conn);
  conn.input = (bytes) => {
    input(bytes);
    if (conn.of('tx_commit').length > 0) conn.drop();
  };
}

describe('transaction commit in doubt', () => {
  it('replays a send-only transaction with the same producer id and sequences', async () => {
    const { broker, client } = await start();
    const tx = await client.transaction();
    await tx.publishBatch([
      { address: 'queue://q', body: 'a' },
      { address: 'queue://q', body: 'b' },
    ]);
    await tx.publish('queue://q', 'c');
    const first = broker.last;
    dropOnCommit(first);
    const committed = tx.commit();
    await flush(40);
    await committed;
    const second = broker.last;
    expect(second).not.toBe(first);
    const kinds = second.received.map((f) => f.kind).filter((k) => k !== 'connect');
    expect(kinds).toEqual(['tx_begin', 'send_batch', 'send', 'tx_commit']);
    const batch = fields(second.of('send_batch')[0]);
    const one = fields(second.of('send')[0]);
    const original = fields(first.of('send_batch')[0]);
    expect(batch).toMatchObject({ producer_id: `P/${tx.id}`, first_sequence: 1, tx_id: tx.id });
    expect(one).toMatchObject({ producer_id: `P/${tx.id}`, sequence: 3 });
    expect(original).toMatchObject({ producer_id: `P/${tx.id}`, first_sequence: 1 });
  });

  it('does not replay a transaction that acked: CONNECTION_LOST', async () => {
    const { broker, client } = await start();
    const sub = client.subscribe('queue://in');
    await sub.ready;
    const conn = broker.last;
    const sid = fields(conn.of('subscribe')[0]).subscription_id as number;
    conn.deliver(sid, { id: 'm1', address: 'queue://in' });
    const m = (await sub.receive({ timeout: 1000 }))!;
    const tx = await client.transaction();
    await tx.publish('queue://out', 'x');
    await tx.ack(m);
    dropOnCommit(conn);
    const committed = tx.commit();
    await flush(40);
    await expect(committed).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
  });
});
