/**
 * BrokerResource over the scripted fake broker: the frames each XA call sends, publish/ack carrying the
 * branch's transaction id, a lost connection failing the unprepared branch instead of sending its work to
 * the new connection, and committed acks filtering redeliveries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BlazeClient, connect } from '../../../src/client/client.js';
import { BrokerResource } from '../../../src/client/tm/index.js';
import { branchXid } from '../../../src/client/tm/xid.js';
import { XA_FLAGS } from '../../../src/client/xa.js';
import { ManualTimers } from '../../helpers/manual-timers.js';
import { FakeBroker, fields, flush } from './fake-broker.js';

const open: BlazeClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function start(url = 'tcp://a:1') {
  const broker = new FakeBroker();
  const client = await connect(url, {
    transportFactory: broker.factory,
    timers: new ManualTimers(),
    heartbeatMs: 0,
  });
  open.push(client);
  return { broker, client, res: new BrokerResource(client) };
}

const xid = branchXid('tm:g1', 'broker');
const wire = (f: unknown) => fields(f as never);
const body = (s: string) => ({
  id: s,
  address: 'queue://in',
  body: new TextEncoder().encode(s),
  persistent: true,
});

describe('BrokerResource', () => {
  it('binds one transaction id to the branch and sends the XA frames in order', async () => {
    const { broker, client, res } = await start();
    const sub = client.subscribe('queue://in');
    await sub.ready;
    const subscriptionId = wire(broker.last.of('subscribe')[0]).subscription_id;
    broker.last.deliver(subscriptionId, body('m1'));
    const m = (await sub.receive({ timeout: 1000 }))!;

    await res.start(xid);
    await res.publish('queue://out', 'hello', { persistent: true });
    await res.ack(m);
    await res.end(xid, true);
    expect(await res.prepare(xid)).toBe('prepared');
    await res.commit(xid, false);

    const c = broker.last;
    const txId = wire(c.of('xa_start')[0]).tx_id;
    expect(txId).toMatch(/^xa-/);
    expect(wire(c.of('xa_start')[0]).xid.branch_qualifier).toEqual(new TextEncoder().encode('broker'));
    expect(wire(c.of('send')[0]).tx_id).toBe(txId);
    expect(wire(c.of('ack')[0]).tx_id).toBe(txId);
    expect(wire(c.of('xa_end')[0]).flags).toBe(XA_FLAGS.TMSUCCESS);
    expect(c.of('xa_prepare')).toHaveLength(1);
    expect(wire(c.of('xa_commit')[0]).one_phase).toBeFalsy(); // proto3: false is not on the wire

    // Committed: a redelivery of the acked message is acked again quietly, never handed out.
    broker.last.deliver(subscriptionId, body('m1'));
    await flush();
    expect(await sub.receive({ timeout: 0 })).toBeUndefined();
    expect(c.of('ack')).toHaveLength(2);
    expect(wire(c.of('ack')[1]).tx_id ?? '').toBe('');
  });

  it('ends with TMFAIL, and does work only inside a branch, one at a time', async () => {
    const { broker, res } = await start();
    await expect(res.publish('queue://out', 'x')).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    await res.start(xid);
    await expect(res.start(branchXid('tm:g2', 'broker'))).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    await res.end(xid, false);
    await expect(res.publish('queue://out', 'x')).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    await res.rollback(xid);
    expect(wire(broker.last.of('xa_end')[0]).flags).toBe(XA_FLAGS.TMFAIL);
    expect(broker.last.of('xa_rollback')).toHaveLength(1);
  });

  it('a connection lost before prepare fails the branch; its work never reaches the new connection', async () => {
    const { broker, res } = await start('failover:(tcp://a:1)?initialReconnectDelay=1');
    await res.start(xid);
    await res.publish('queue://out', 'before');
    broker.last.drop();
    await flush();
    await expect(res.publish('queue://out', 'after')).rejects.toMatchObject({
      code: 'TRANSACTION_ROLLED_BACK',
    });
    await expect(res.end(xid, true)).rejects.toMatchObject({ code: 'TRANSACTION_ROLLED_BACK' });
    await expect(res.prepare(xid)).rejects.toMatchObject({ code: 'TRANSACTION_ROLLED_BACK' });
    await flush();
    expect(broker.connections).toHaveLength(2); // reconnected
    expect(broker.last.of('send')).toEqual([]);
    expect(broker.last.of('xa_end')).toEqual([]);
  });

  it('a prepared branch outlives its connection: commit goes over the next one', async () => {
    const { broker, res } = await start('failover:(tcp://a:1)?initialReconnectDelay=1');
    await res.start(xid);
    await res.publish('queue://out', 'x');
    await res.end(xid, true);
    await res.prepare(xid);
    broker.last.drop();
    await flush();
    await res.commit(xid, false);
    expect(broker.connections).toHaveLength(2);
    expect(broker.last.of('xa_commit')).toHaveLength(1);
  });
});
