/**
 * The broker process driven by a real third-party client, @stomp/stompjs over TCP: the semantics
 * ActiveMQ users rely on, end to end.
 */
import type { Client } from '@stomp/stompjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBroker } from './helpers/broker.js';
import { connectStomp, sendWithReceipt, settle, sleep, subscribe } from './helpers/stomp.js';

let broker: BrokerProcess;
const open: Client[] = [];
let seq = 0;
const unique = (base: string) => `${base}.${process.pid}.${++seq}`;

async function client(headers: Record<string, string> = {}): Promise<Client> {
  const c = await connectStomp(broker.stomp, { headers });
  open.push(c);
  return c;
}

beforeAll(async () => {
  broker = await startBroker({
    args: ['--config', new URL('./fixtures/test-broker.yaml', import.meta.url).pathname],
  });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.deactivate()));
});
afterAll(async () => {
  expect(await broker.stop()).toBe(0);
});

describe('queues', () => {
  it('delivers a message from one client to another, body and custom headers unchanged', async () => {
    const q = `/queue/${unique('tour')}`;
    const producer = await client();
    const consumer = await client();
    const inbox = subscribe(consumer, q);
    await sendWithReceipt(producer, q, 'hello', { 'x-app': 'demo', 'content-type': 'text/plain' });
    const [m] = await inbox.waitFor(1);
    expect(m!.body).toBe('hello');
    expect(m!.headers['x-app']).toBe('demo');
    expect(m!.headers['content-type']).toBe('text/plain');
    expect(m!.headers['message-id']).toBeTruthy();
    expect(m!.headers.destination).toBe(q);
  });

  it('carries binary bodies containing NUL bytes via content-length', async () => {
    const q = `/queue/${unique('bin')}`;
    const c = await client();
    const inbox = subscribe(c, q);
    const body = new Uint8Array([0, 1, 2, 0, 255, 0]);
    await sendWithReceipt(c, q, body);
    const [m] = await inbox.waitFor(1);
    expect(Array.from(m!.binaryBody)).toEqual(Array.from(body));
  });

  it('load-balances a queue across two consumers, each message to exactly one', async () => {
    const q = `/queue/${unique('shared')}`;
    const a = subscribe(await client(), q, { ack: 'client-individual', 'activemq.prefetchSize': '1' });
    const b = subscribe(await client(), q, { ack: 'client-individual', 'activemq.prefetchSize': '1' });
    // Ack as they come so that prefetch 1 keeps both busy.
    const ackAll = (inbox: typeof a) =>
      setInterval(() => {
        for (const m of inbox.messages)
          if (!(m as { acked?: boolean }).acked) {
            (m as { acked?: boolean }).acked = true;
            m.ack();
          }
      }, 5);
    const ta = ackAll(a);
    const tb = ackAll(b);
    const p = await client();
    for (let i = 0; i < 40; i++) p.publish({ destination: q, body: String(i) });
    await sendWithReceipt(p, q, 'last');
    await settle(a);
    clearInterval(ta);
    clearInterval(tb);
    const all = [...a.messages, ...b.messages].map((m) => m.body).sort();
    expect(all.length).toBe(41);
    expect(new Set(all).size).toBe(41);
    expect(a.messages.length).toBeGreaterThan(5);
    expect(b.messages.length).toBeGreaterThan(5);
  });

  it('delivers higher priorities first', async () => {
    const q = `/queue/${unique('prio')}`;
    const p = await client();
    for (const prio of [1, 9, 4, 7, 0]) await sendWithReceipt(p, q, `p${prio}`, { priority: String(prio) });
    const inbox = subscribe(await client(), q);
    const got = await inbox.waitFor(5);
    expect(got.map((m) => m.body)).toEqual(['p9', 'p7', 'p4', 'p1', 'p0']);
  });

  it('filters with JMS selectors on custom headers', async () => {
    const q = `/queue/${unique('sel')}`;
    const p = await client();
    const rows = [
      ['IBM', '12'],
      ['MSFT', '5'],
      ['ORCL', '50'],
      ['MSFT', '11'],
    ];
    for (const [sym, price] of rows)
      await sendWithReceipt(p, q, `${sym}@${price}`, { sym: sym!, price: price! });
    const inbox = subscribe(await client(), q, { selector: "price > 10 AND sym IN ('IBM','MSFT')" });
    await sleep(300);
    expect(inbox.messages.map((m) => m.body)).toEqual(['IBM@12', 'MSFT@11']);
  });

  it('refuses an invalid selector with an ERROR frame', async () => {
    const c = await client();
    const error = new Promise<string>((resolve) => {
      c.onStompError = (f) => resolve(f.headers.message ?? '');
    });
    c.subscribe(`/queue/${unique('badsel')}`, () => {}, { selector: 'price >' });
    expect(await error).toMatch(/selector/i);
  });

  it('drops expired messages instead of delivering them', async () => {
    const q = `/queue/${unique('exp')}`;
    const p = await client();
    await sendWithReceipt(p, q, 'stale', { expires: String(Date.now() + 100) });
    await sendWithReceipt(p, q, 'fresh', { expires: '0' });
    await sleep(250);
    const inbox = subscribe(await client(), q);
    await sleep(300);
    expect(inbox.messages.map((m) => m.body)).toEqual(['fresh']);
  });

  it('moves a message to DLQ.<queue> after the maximum redeliveries', async () => {
    const name = unique('poison');
    const p = await client();
    await sendWithReceipt(p, `/queue/${name}`, 'poison');
    const c = await client();
    const inbox = subscribe(c, `/queue/${name}`, { ack: 'client-individual' });
    // fixtures/test-broker.yaml sets maxRedeliveries: 2 -> 3 deliveries, then the DLQ.
    for (let i = 1; i <= 3; i++) {
      const [m] = (await inbox.waitFor(i)).slice(-1);
      expect(m!.headers.redelivered ?? 'false').toBe(i === 1 ? 'false' : 'true');
      m!.nack();
    }
    const dlq = subscribe(await client(), `/queue/DLQ.${name}`);
    const [dead] = await dlq.waitFor(1);
    expect(dead!.body).toBe('poison');
    await sleep(200);
    expect(inbox.messages.length).toBe(3);
  });

  it('sends to several destinations at once with a composite destination', async () => {
    const a = `/queue/${unique('compA')}`;
    const b = `/topic/${unique('compB')}`;
    const c = await client();
    const qa = subscribe(c, a);
    const tb = subscribe(c, b);
    await sleep(50);
    await sendWithReceipt(c, `${a},${b}`, 'both');
    expect((await qa.waitFor(1))[0]!.body).toBe('both');
    expect((await tb.waitFor(1))[0]!.body).toBe('both');
  });

  it('keeps a message group on one consumer', async () => {
    const q = `/queue/${unique('grp')}`;
    const a = subscribe(await client(), q);
    const b = subscribe(await client(), q);
    await sleep(50);
    const p = await client();
    for (let i = 0; i < 20; i++)
      p.publish({
        destination: q,
        body: `${i % 2 ? 'x' : 'y'}`,
        headers: { JMSXGroupID: i % 2 ? 'gx' : 'gy' },
      });
    await sendWithReceipt(p, q, 'y', { JMSXGroupID: 'gy' });
    await settle(a, 200);
    for (const inbox of [a, b])
      expect(new Set(inbox.messages.map((m) => m.headers.JMSXGroupID)).size).toBeLessThanOrEqual(1);
    expect(a.messages.length + b.messages.length).toBe(21);
  });
});

describe('topics', () => {
  it('fans out to every subscriber, with ActiveMQ wildcards', async () => {
    const base = unique('prices');
    const exact = subscribe(await client(), `/topic/${base}.NASDAQ.IBM`);
    const star = subscribe(await client(), `/topic/${base}.*.IBM`);
    const rest = subscribe(await client(), `/topic/${base}.>`);
    const other = subscribe(await client(), `/topic/${base}.NYSE.*`);
    await sleep(100);
    const p = await client();
    await sendWithReceipt(p, `/topic/${base}.NASDAQ.IBM`, '101.5');
    for (const inbox of [exact, star, rest]) expect((await inbox.waitFor(1))[0]!.body).toBe('101.5');
    await sleep(100);
    expect(other.messages.length).toBe(0);
  });

  it('keeps messages for a durable subscriber while it is away', async () => {
    const t = `/topic/${unique('news')}`;
    const clientId = unique('durable-client');
    const sub = { 'activemq.subscriptionName': 'news-sub' };
    const first = await connectStomp(broker.stomp, { headers: { 'client-id': clientId } });
    const s1 = subscribe(first, t, sub);
    await sleep(50);
    const p = await client();
    await sendWithReceipt(p, t, 'while-online');
    await s1.waitFor(1);
    await first.deactivate();
    await sendWithReceipt(p, t, 'while-away-1');
    await sendWithReceipt(p, t, 'while-away-2');
    const again = await client({ 'client-id': clientId });
    const s2 = subscribe(again, t, sub);
    const got = await s2.waitFor(2);
    expect(got.map((m) => m.body)).toEqual(['while-away-1', 'while-away-2']);
  });

  it('accepts the durable-subscriber-name header for durable subscriptions too', async () => {
    const t = `/topic/${unique('dsn')}`;
    const clientId = unique('dsn-client');
    const sub = { 'durable-subscriber-name': 'dsn-sub' };
    const first = await connectStomp(broker.stomp, { headers: { 'client-id': clientId } });
    subscribe(first, t, sub);
    await sleep(50);
    await first.deactivate();
    const p = await client();
    await sendWithReceipt(p, t, 'kept');
    const again = await client({ 'client-id': clientId });
    expect((await subscribe(again, t, sub).waitFor(1))[0]!.body).toBe('kept');
  });

  it('a non-durable subscriber does not get what was published before it subscribed', async () => {
    const t = `/topic/${unique('live')}`;
    const p = await client();
    await sendWithReceipt(p, t, 'before');
    const inbox = subscribe(await client(), t);
    await sleep(50);
    await sendWithReceipt(p, t, 'after');
    await sleep(150);
    expect(inbox.messages.map((m) => m.body)).toEqual(['after']);
  });
});

describe('transactions', () => {
  it("delivers a transaction's sends only on commit, and nothing on abort", async () => {
    const q = `/queue/${unique('tx')}`;
    const c = await client();
    const inbox = subscribe(await client(), q);
    const aborted = c.begin();
    c.publish({ destination: q, body: 'aborted', headers: { transaction: aborted.id } });
    aborted.abort();
    const tx = c.begin();
    c.publish({ destination: q, body: 'one', headers: { transaction: tx.id } });
    c.publish({ destination: q, body: 'two', headers: { transaction: tx.id } });
    await sleep(150);
    expect(inbox.messages.length).toBe(0);
    tx.commit();
    expect((await inbox.waitFor(2)).map((m) => m.body)).toEqual(['one', 'two']);
    await sleep(100);
    expect(inbox.messages.length).toBe(2);
  });

  it('redelivers what an aborted transaction acked', async () => {
    const q = `/queue/${unique('txack')}`;
    const p = await client();
    await sendWithReceipt(p, q, 'work');
    const c = await client();
    const inbox = subscribe(c, q, { ack: 'client-individual' });
    const [m] = await inbox.waitFor(1);
    const tx = c.begin();
    m!.ack({ transaction: tx.id });
    tx.abort();
    const [, again] = await inbox.waitFor(2);
    expect(again!.body).toBe('work');
    expect(again!.headers.redelivered).toBe('true');
  });

  it('COMMIT of an unknown transaction gets an ERROR frame', async () => {
    const c = await client();
    const error = new Promise<string>((resolve) => {
      c.onStompError = (f) => resolve(f.headers.message ?? '');
    });
    c.commit('no-such-tx');
    expect(await error).toMatch(/transaction/i);
  });
});

describe('temporary destinations', () => {
  it('delivers replies through a temporary topic', async () => {
    const service = `/queue/${unique('svc-topic')}`;
    const server = await client();
    server.subscribe(service, (m) => {
      server.publish({ destination: m.headers['reply-to']!, body: `re:${m.body}` });
    });
    const requester = await client();
    const events = subscribe(requester, '/temp-topic/events');
    await sleep(50);
    requester.publish({ destination: service, body: 'hello', headers: { 'reply-to': '/temp-topic/events' } });
    const [r] = await events.waitFor(1);
    expect(r!.body).toBe('re:hello');
  });

  it('supports request/reply through a temporary queue', async () => {
    const service = `/queue/${unique('svc')}`;
    const server = await client();
    server.subscribe(service, (m) => {
      server.publish({
        destination: m.headers['reply-to']!,
        body: `re:${m.body}`,
        headers: { 'correlation-id': m.headers['correlation-id']! },
      });
    });
    const requester = await client();
    const replies = subscribe(requester, '/temp-queue/replies');
    await sleep(50);
    requester.publish({
      destination: service,
      body: 'ping',
      headers: { 'reply-to': '/temp-queue/replies', 'correlation-id': 'c1' },
    });
    const [r] = await replies.waitFor(1);
    expect(r!.body).toBe('re:ping');
    expect(r!.headers['correlation-id']).toBe('c1');
  });
});
