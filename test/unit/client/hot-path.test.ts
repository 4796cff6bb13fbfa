/**
 * What the per-message paths promise after their allocations were cut (docs/CLIENT.md "Performance"):
 * received messages are class instances that still look like plain data, the acks of a turn share one
 * frame and one promise, publish() never throws, and the acked-id memory stays bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AckedIds } from '../../../src/client/acked-ids.js';
import { type BlazeClient, connect } from '../../../src/client/client.js';
import { isClientError } from '../../../src/client/codec/errors.js';
import { FakeBroker, fields, flush } from './fake-broker.js';

const open: BlazeClient[] = [];
async function start(broker = new FakeBroker()) {
  const client = await connect('tcp://fake:1', { transportFactory: broker.factory, heartbeatMs: 0 });
  open.push(client);
  return { broker, client, conn: broker.last };
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const text = (s: string) => new TextEncoder().encode(s);

describe('received messages', () => {
  it('are plain data to spread, log and serialise; ack, nack and text live on the prototype', async () => {
    const { client, conn } = await start();
    const sub = client.subscribe('queue://q');
    await sub.ready;
    const id = fields(conn.of('subscribe')[0]).subscription_id;
    conn.deliver(id, {
      address: 'queue://q',
      id: 'm1',
      body: text('héllo'),
      properties: { n: { int_value: 3 }, s: { string_value: 'x' }, z: { null_value: true } },
      priority: 0,
    });
    const m = (await sub.receive({ timeout: 1000 }))!;
    expect(Object.keys(m)).not.toContain('ack');
    expect(Object.keys(m)).not.toContain('text');
    expect({ ...m }).toMatchObject({
      id: 'm1',
      address: 'queue://q',
      priority: 0,
      properties: { n: 3, s: 'x', z: null },
      redelivered: false,
      deliveryCount: 1,
    });
    // Nothing circular (the subscription is in private fields): JSON works.
    expect(JSON.parse(JSON.stringify(m)).id).toBe('m1');
    expect(m.text()).toBe('héllo');
    await m.ack();
    expect(fields(conn.of('ack')[0]).tags).toEqual([1]);
  });

  it('a message that did not come from a subscription cannot be acked in a transaction', async () => {
    const broker = new FakeBroker();
    broker.browsable = [{ address: 'queue://q', id: 'b1' }];
    const { client } = await start(broker);
    const [m] = await client.browse('queue://q');
    expect((m as unknown as { ack?: unknown }).ack).toBeUndefined();
    const tx = await client.transaction();
    const e = await tx.ack(m as never).catch((x: unknown) => x);
    expect(isClientError(e) && e.code).toBe('ILLEGAL_STATE');
  });
});

describe('acks of one turn', () => {
  it('share one Ack frame and one promise, which a broker error rejects for all', async () => {
    const { client, conn } = await start();
    const sub = client.subscribe('queue://q', { prefetch: 10 });
    await sub.ready;
    const id = fields(conn.of('subscribe')[0]).subscription_id;
    conn.deliver(id, { id: 'a' }, { id: 'b' });
    const a = (await sub.receive())!;
    const b = (await sub.receive())!;
    conn.holdAcks = true;
    const pa = a.ack();
    const pb = b.ack();
    expect(pa).toBe(pb);
    const ack = await conn.next('ack');
    conn.answer(ack, {
      error: { request_id: fields(ack).request_id, code: 'FORBIDDEN', message: 'no acks today' },
    });
    await expect(pa).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(pb).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(conn.of('ack')).toHaveLength(1);
  });
});

describe('closing a subscription', () => {
  it('sends the acks of the turn before the Unsubscribe (break right after ack())', async () => {
    const { client, conn } = await start();
    const sub = client.subscribe('queue://q', { prefetch: 10 });
    await sub.ready;
    const id = fields(conn.of('subscribe')[0]).subscription_id;
    conn.deliver(id, { id: 'a' }, { id: 'b' });
    let acked: Promise<void> | undefined;
    for await (const m of sub) {
      acked = m.ack();
      break;
    }
    await acked;
    const kinds = conn.received.map((f) => f.kind).filter((k) => k === 'ack' || k === 'unsubscribe');
    expect(kinds).toEqual(['ack', 'unsubscribe']);
    await flush();
    expect(conn.of('ack')).toHaveLength(1); // the turn's own flush finds nothing left to send
  });
});

describe('publish', () => {
  it('reports a closed client or a bad option as a rejection, never a throw', async () => {
    const { client } = await start();
    const bad = client.publish('queue://a', 'x', { priority: 10 });
    await expect(bad).rejects.toThrow(RangeError);
    await client.close();
    const closed = client.publish('queue://a', 'x');
    await expect(closed).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('sends a batch of one as a plain Send, and resolves publish with nothing', async () => {
    const { client, conn } = await start();
    await client.publishBatch([{ address: 'queue://a', body: 'one' }]);
    expect(conn.of('send')).toHaveLength(1);
    expect(conn.of('send_batch')).toHaveLength(0);
    await expect(client.publish('queue://a', 'x')).resolves.toBeUndefined();
  });

  it('many publishes in flight each resolve on their own Ok, in order', async () => {
    const { client, conn } = await start();
    conn.holdSends = true;
    const order: number[] = [];
    const ps = Array.from({ length: 50 }, (_, i) =>
      client.publish('queue://a', `${i}`).then(() => order.push(i)),
    );
    await flush();
    const sends = conn.of('send');
    expect(sends.map((f) => fields(f).sequence)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (const f of sends) conn.answer(f);
    await Promise.all(ps);
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('AckedIds', () => {
  it('remembers at least the last `capacity` ids and at most twice as many', () => {
    const ids = new AckedIds(100);
    for (let i = 0; i < 1000; i++) ids.add(`id-${i}`);
    for (let i = 900; i < 1000; i++) expect(ids.has(`id-${i}`)).toBe(true);
    expect(ids.has('id-0')).toBe(false);
    expect(ids.size).toBeGreaterThanOrEqual(100);
    expect(ids.size).toBeLessThanOrEqual(200);
    ids.add('');
    expect(ids.has('')).toBe(false);
  });
});
