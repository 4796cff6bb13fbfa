/** The bespoke client over the scripted fake broker: handshake, request correlation, credit, acks. */
import { afterEach, describe, expect, it } from 'vitest';
import { type BlazeClient, connect } from '../../../src/client/client.js';
import { FakeBroker, fields, flush } from './fake-broker.js';

const open: BlazeClient[] = [];
async function start(broker = new FakeBroker(), url = 'tcp://fake:1', extra = {}) {
  const client = await connect(url, { transportFactory: broker.factory, heartbeatMs: 0, ...extra });
  open.push(client);
  return { broker, client, conn: broker.last };
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const text = (s: string) => new TextEncoder().encode(s);

describe('connect', () => {
  it('sends Connect offering versions 1 and 2 with credentials, and exposes what Connected said', async () => {
    const { client, conn } = await start(new FakeBroker(), 'tcp://fake:1', {
      login: 'u',
      passcode: 'p',
      clientId: 'app-1',
    });
    expect(conn.of('connect')[0]).toMatchObject({
      connect: { versions: [1, 2], login: 'u', passcode: 'p', client_id: 'app-1' },
    });
    expect(client.connection).toMatchObject({
      server: 'fake/1',
      storeId: 'store-1',
      endpoint: 'tcp://fake:1',
    });
  });

  it('rejects with the broker code when Connect is refused', async () => {
    const broker = new FakeBroker();
    broker.refuseCode = 'UNAUTHENTICATED';
    await expect(connect('tcp://fake:1', { transportFactory: broker.factory })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('a plain URL gets one attempt', async () => {
    const broker = new FakeBroker();
    broker.refuseAttempts = 1;
    await expect(connect('tcp://fake:1', { transportFactory: broker.factory })).rejects.toMatchObject({
      code: 'CONNECTION_LOST',
    });
    expect(broker.attempts).toBe(1);
  });
});

describe('publish', () => {
  it('resolves on Ok and carries producer id and increasing sequences', async () => {
    const { client, conn } = await start();
    await client.publish('queue://a', 'one', { persistent: true, priority: 7, properties: { k: 1.5 } });
    await client.publishBatch([
      { address: 'queue://a', body: 'two' },
      { address: 'queue://b', body: text('three') },
    ]);
    const send = fields(conn.of('send')[0]);
    expect(send).toMatchObject({ producer_id: client.producerId, sequence: 1 });
    expect(send.message).toMatchObject({
      address: 'queue://a',
      persistent: true,
      priority: 7,
      content_type: 'text/plain; charset=utf-8',
      properties: { k: { double_value: 1.5 } },
    });
    const batch = fields(conn.of('send_batch')[0]);
    expect(batch).toMatchObject({ producer_id: client.producerId, first_sequence: 2 });
    expect(batch.messages).toHaveLength(2);
  });

  it('matches answers to requests by request_id and rejects with the broker error code', async () => {
    const { client, conn } = await start();
    conn.holdSends = true;
    const a = client.publish('queue://a', 'a');
    const b = client.publish('queue://forbidden', 'b');
    await flush();
    const [fa, fb] = conn.of('send');
    // Answered out of order: the correlation is by id, not position.
    conn.answer(fb!, {
      error: {
        request_id: fields(fb).request_id,
        code: 'FORBIDDEN',
        message: 'not on queue://forbidden',
      },
    });
    conn.answer(fa!);
    await expect(b).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'not on queue://forbidden' });
    await expect(a).resolves.toBeUndefined();
  });

  it('waits for room when maxInflightSends messages are unconfirmed', async () => {
    const { client, conn } = await start(new FakeBroker(), 'tcp://fake:1', { maxInflightSends: 2 });
    conn.holdSends = true;
    const done: number[] = [];
    const ps = [1, 2, 3].map((i) => client.publish('queue://a', `${i}`).then(() => done.push(i)));
    await flush();
    expect(conn.of('send')).toHaveLength(2); // the third waits: producer flow control
    conn.answer(conn.of('send')[0]!);
    await flush();
    expect(conn.of('send')).toHaveLength(3);
    for (const f of conn.of('send').slice(1)) conn.answer(f);
    await Promise.all(ps);
    expect(done).toEqual([1, 2, 3]);
  });
});

describe('subscribe', () => {
  it('grants the prefetch as initial credit and more only as the application consumes', async () => {
    const { client, conn } = await start();
    const sub = client.subscribe('queue://work', { prefetch: 4, selector: "color = 'red'" });
    await sub.ready;
    const [s] = conn.of('subscribe') as unknown as Array<{ subscribe: Record<string, unknown> }>;
    expect(s!.subscribe).toMatchObject({
      address: 'queue://work',
      credit: 4,
      ack_mode: 2,
      selector: "color = 'red'",
    });
    const id = s!.subscribe.subscription_id as number;
    conn.deliver(
      id,
      ...[1, 2, 3, 4].map((i) => ({ address: 'queue://work', id: `m${i}`, body: text(`${i}`) })),
    );
    await flush();
    expect(conn.of('credit')).toHaveLength(0); // nothing consumed yet: the broker must stop
    const seen: string[] = [];
    for await (const m of sub) {
      seen.push(m.text());
      await m.ack();
      if (seen.length === 4) break;
    }
    expect(seen).toEqual(['1', '2', '3', '4']);
    // Credit back in batches of prefetch/4 = 1 here: one per consumed message.
    const credits = conn.of('credit').map((f) => fields(f).credit as number);
    expect(credits.reduce((a, b) => a + b, 0)).toBe(4);
    expect(conn.of('unsubscribe')).toHaveLength(1); // break ends the subscription
  });

  it('batches acks of one turn into one Ack frame and resolves them on its Ok', async () => {
    const { client, conn } = await start();
    const sub = client.subscribe('queue://q', { prefetch: 10 });
    await sub.ready;
    const id = fields(conn.of('subscribe')[0]).subscription_id;
    conn.deliver(id, { id: 'a' }, { id: 'b' }, { id: 'c' });
    const ms = [await sub.receive(), await sub.receive(), await sub.receive()];
    await Promise.all(ms.map((m) => m!.ack()));
    const acks = conn.of('ack') as Array<{ ack: { tags: number[] } }>;
    expect(acks).toHaveLength(1);
    expect(acks[0]!.ack.tags).toEqual(ms.map((_, i) => i + 1));
  });

  it('cumulative mode acks with up_to', async () => {
    const { client, conn } = await start();
    const sub = client.subscribe('queue://q', { ackMode: 'cumulative' });
    await sub.ready;
    const id = fields(conn.of('subscribe')[0]).subscription_id;
    conn.deliver(id, { id: 'a' }, { id: 'b' });
    await sub.receive();
    const second = (await sub.receive())!;
    await second.ack();
    expect(fields(conn.of('ack')[0])).toMatchObject({ up_to: 2 });
  });

  it('receive(timeout) resolves undefined, and an AbortSignal ends receive and the iteration', async () => {
    const { client } = await start();
    const sub = client.subscribe('queue://q');
    await sub.ready;
    expect(await sub.receive({ timeout: 10 })).toBeUndefined();
    const ac = new AbortController();
    const pending = sub.receive({ signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });

    const ac2 = new AbortController();
    const sub2 = client.subscribe('queue://r', { signal: ac2.signal });
    const loop = (async () => {
      let n = 0;
      for await (const _ of sub2) n++;
      return n;
    })();
    await sub2.ready;
    ac2.abort();
    expect(await loop).toBe(0);
  });

  it('a refused subscription rejects ready and ends the iteration with the error', async () => {
    const { broker, client } = await start();
    broker.refuseSubscribe = 'FORBIDDEN';
    const sub = client.subscribe('queue://secret');
    await expect(sub.ready).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(sub.next()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await sub.next()).done).toBe(true);
  });
});

describe('request/reply', () => {
  it('sends with reply_to on one temporary queue and resolves with the reply of matching correlation id', async () => {
    const { client, conn } = await start();
    const reply = client.request('queue://service', 'ping', { timeout: 1000 });
    await flush(40);
    const temp = { subscribe: fields(conn.of('subscribe')[0]) };
    expect(temp.subscribe).toMatchObject({ address: 'temp-queue://t1' });
    expect(temp.subscribe.ack_mode ?? 0).toBe(0); // AUTO: replies need no ack
    const sent = fields(conn.of('send')[0]).message;
    expect(sent.reply_to).toBe('temp-queue://t1');
    conn.deliver(temp.subscribe.subscription_id, { id: 'x', correlation_id: 'unrelated', body: text('no') });
    conn.deliver(temp.subscribe.subscription_id, {
      id: 'y',
      correlation_id: sent.correlation_id,
      body: text('pong'),
    });
    expect((await reply).text()).toBe('pong');
    // A second request reuses the queue.
    const again = client.request('queue://service', 'ping', { timeout: 20 });
    await expect(again).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(conn.of('create_temporary')).toHaveLength(1);
  });

  it('an aborted request rejects with ABORTED', async () => {
    const { client } = await start();
    const ac = new AbortController();
    const p = client.request('queue://service', 'ping', { signal: ac.signal });
    await flush(40);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('transactions', () => {
  it('TxBegin, sends and acks carry the tx id, TxCommit', async () => {
    const { client, conn } = await start();
    const sub = client.subscribe('queue://in');
    await sub.ready;
    conn.deliver(fields(conn.of('subscribe')[0]).subscription_id, { id: 'm1' });
    const m = (await sub.receive())!;
    const tx = await client.transaction();
    await tx.publish('queue://out', 'x');
    await tx.ack(m);
    await tx.commit();
    const txId = fields(conn.of('tx_begin')[0]).tx_id;
    expect(fields(conn.of('send')[0]).tx_id).toBe(txId);
    expect(fields(conn.of('ack')[0])).toMatchObject({ tx_id: txId, tags: [1] });
    expect(fields(conn.of('tx_commit')[0]).tx_id).toBe(txId);
    await expect(tx.commit()).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
  });
});

describe('heart-beats', () => {
  it('closes a connection whose broker has been silent for twice the interval', async () => {
    const { ManualTimers } = await import('../../helpers/manual-timers.js');
    const timers = new ManualTimers();
    const broker = new FakeBroker();
    broker.heartbeatMs = 1000;
    const { client, conn } = await start(broker, 'tcp://fake:1', { timers, heartbeatMs: 1000 });
    timers.advance(600);
    expect(conn.of('heartbeat').length).toBeGreaterThan(0); // nothing else was sent
    const closed = new Promise((r) => client.on('closed', r));
    timers.advance(2000);
    await closed;
    expect(client.isClosed).toBe(true);
  });
});
