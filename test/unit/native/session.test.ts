import { afterEach, describe, expect, it } from 'vitest';
import { type Client, type Decoded, type Harness, harness, onlyAlice } from './helpers.js';

const body = (s: string) => Buffer.from(s);
let h: Harness | undefined;

afterEach(async () => {
  await h?.core.shutdown();
  h = undefined;
});

function depth(address: string): number {
  return h!.core.stats().queues.find((q) => q.address === address)?.depth ?? 0;
}

function kinds(frames: Decoded[]): string[] {
  return frames.map((f) => f.kind);
}

async function connected(options: Parameters<typeof harness>[0] = {}): Promise<Client> {
  h = await harness(options);
  const c = h.open();
  await c.connect();
  return c;
}

describe('native session: connecting', () => {
  it('answers Connected with the negotiated version, connection id and limits', async () => {
    h = await harness();
    const c = h.open();
    const f = await c.connect({ versions: [1, 7], heartbeat_ms: 10, client_name: 'test' });
    expect(f.connected).toMatchObject({ request_id: 1, version: 1, server: 'blazemq/test' });
    expect(f.connected.connection_id).toMatch(/^c\d+$/);
    // Heart-beats are clamped to the broker's minimum.
    expect(f.connected.heartbeat_ms).toBe(1000);
    expect(f.connected.max_frame_size).toBe(4 * 1024 * 1024);
  });

  it('refuses a first frame that is not Connect, fatally', async () => {
    h = await harness();
    const c = h.open();
    c.send('subscribe', { request_id: 5, subscription_id: 1, address: 'queue://a', credit: 1 });
    const [e] = c.take();
    expect(e!.error).toMatchObject({ request_id: 5, code: 'PROTOCOL', fatal: true });
    expect(c.transport.ended).toBe(true);
  });

  it('refuses garbage and a frame above the limit, fatally, before buffering it', async () => {
    h = await harness({ limits: { maxFrameSize: 1000 } });
    const c = h.open();
    await c.connect();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(5000, 0);
    c.session.onData(head);
    expect(c.take()[0]!.error).toMatchObject({ code: 'LIMIT_EXCEEDED', fatal: true });
    const g = h.open();
    g.session.onData(Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff]));
    expect(g.take()[0]!.error).toMatchObject({ code: 'PROTOCOL', fatal: true });
  });

  it('refuses unknown versions, bad logins and bearer tokens (no token authenticator)', async () => {
    h = await harness({ authenticator: onlyAlice });
    const v = h.open();
    v.send('connect', { request_id: 1, versions: [3] });
    expect(v.take()[0]!.error).toMatchObject({ code: 'NOT_SUPPORTED', fatal: true });
    const bad = h.open();
    bad.send('connect', { request_id: 1, login: 'alice', passcode: 'nope' });
    await bad.settle();
    expect(bad.take()[0]!.error).toMatchObject({ request_id: 1, code: 'UNAUTHENTICATED', fatal: true });
    const token = h.open();
    token.send('connect', { request_id: 1, token: 'abc' });
    await token.settle();
    expect(token.take()[0]!.error).toMatchObject({ code: 'UNAUTHENTICATED', fatal: true });
    const good = h.open();
    await good.connect({ login: 'alice', passcode: 'secret' });
  });

  it('sends heart-beats when idle and drops a silent client', async () => {
    const c = await connected();
    c.send('disconnect', {});
    const hb = h!.open();
    await hb.connect({ heartbeat_ms: 1000 });
    h!.timers.advance(1000);
    expect(kinds(hb.take())).toEqual(['heartbeat']);
    h!.timers.advance(2500);
    const frames = hb.take();
    expect(frames.at(-1)!.error).toMatchObject({ code: 'CLOSED', fatal: true });
    expect(hb.transport.ended).toBe(true);
  });
});

describe('native session: producing and consuming', () => {
  it('delivers within credit, one Deliver frame per input turn, more on Credit', async () => {
    const c = await connected();
    for (let i = 0; i < 3; i++) {
      c.send('send', { request_id: 10 + i, message: { address: 'queue://q', body: body(`m${i}`) } });
    }
    expect(c.take().map((f) => f.ok.request_id)).toEqual([10, 11, 12]);
    c.send('subscribe', { request_id: 20, subscription_id: 7, address: 'queue://q', credit: 2, ack_mode: 2 });
    const frames = c.take();
    expect(kinds(frames)).toEqual(['subscribed', 'deliver']);
    const ds = frames[1]!.deliver.deliveries;
    expect(ds.map((d: { message: { body: Buffer } }) => d.message.body.toString())).toEqual(['m0', 'm1']);
    expect(ds[0]).toMatchObject({ subscription_id: 7, tag: 1, delivery_count: 1 });
    expect(ds[0].message.id).toMatch(/^ID:/);
    c.send('credit', { subscription_id: 7, credit: 5 });
    const more = c.take();
    expect(more[0]!.deliver.deliveries.map((d: { tag: number }) => d.tag)).toEqual([3]);
    // Acks (individual) free the queue; credit is not given back by acks.
    c.send('ack', { request_id: 30, subscription_id: 7, tags: [1, 2, 3] });
    await c.settle();
    expect(c.take()).toEqual([{ kind: 'ok', ok: { request_id: 30 } }]);
    expect(depth('queue://q')).toBe(0);
  });

  it('answers a persistent send only once durable, in request order', async () => {
    const c = await connected();
    h!.store.hold();
    c.send('send', { request_id: 1, message: { address: 'queue://p', body: body('x'), persistent: true } });
    c.send('send', { request_id: 2, message: { address: 'queue://p', body: body('y') } });
    await c.settle();
    expect(c.take()).toEqual([]);
    h!.store.release();
    await c.settle();
    expect(c.take().map((f) => f.ok.request_id)).toEqual([1, 2]);
  });

  it('stops reading at maxInflight and reads again at half', async () => {
    const c = await connected({ limits: { maxInflight: 4 } });
    h!.store.hold();
    for (let i = 1; i <= 4; i++) {
      c.send('send', { request_id: i, message: { address: 'queue://p', body: body('x'), persistent: true } });
      await c.settle();
    }
    expect(c.transport.readingPaused).toBe(true);
    h!.store.release();
    await c.settle();
    expect(c.transport.readingPaused).toBe(false);
    expect(c.take()).toHaveLength(4);
  });

  it('reports request errors without closing; unknown subscription -> NOT_FOUND', async () => {
    const c = await connected();
    c.send('ack', { request_id: 3, subscription_id: 99, tags: [1] });
    c.send('send', { request_id: 4, message: { address: 'bogus://x', body: body('x') } });
    c.send('send', { request_id: 5, message: { address: 'queue://ok', body: body('x') } });
    await c.settle();
    const frames = c.take();
    expect(frames[0]!.error).toMatchObject({ request_id: 3, code: 'NOT_FOUND' });
    expect(frames[0]!.error.fatal).toBeUndefined();
    expect(frames[1]!.error).toMatchObject({ request_id: 4, code: 'INVALID_ADDRESS' });
    expect(frames[2]).toEqual({ kind: 'ok', ok: { request_id: 5 } });
    expect(c.transport.ended).toBe(false);
  });

  it('cumulative ack and nack (redelivery)', async () => {
    const c = await connected();
    c.send('send_batch', {
      request_id: 1,
      messages: [1, 2, 3].map((i) => ({ address: 'queue://c', body: body(`m${i}`) })),
    });
    c.send('subscribe', { request_id: 2, subscription_id: 1, address: 'queue://c', credit: 10, ack_mode: 1 });
    c.take();
    c.send('ack', { request_id: 3, subscription_id: 1, up_to: 2 });
    await c.settle();
    expect(depth('queue://c')).toBe(1);
    c.send('nack', { request_id: 4, subscription_id: 1, tags: [3] });
    await c.settle();
    const frames = c.take();
    const redelivered = frames.find((f) => f.kind === 'deliver')!.deliver.deliveries[0];
    expect(redelivered).toMatchObject({ tag: 4, redelivered: true, delivery_count: 2 });
  });

  it('fans a topic out and holds back deliveries while the transport is not writable', async () => {
    const c = await connected();
    c.send('subscribe', { request_id: 1, subscription_id: 1, address: 'topic://t', credit: 100 });
    c.take();
    c.transport.writable = false;
    c.send('send', { message: { address: 'topic://t', body: body('a') } });
    c.send('send', { message: { address: 'topic://t', body: body('b') } });
    // The first Deliver is written (and refused): the subscription is paused after it.
    expect(c.take().flatMap((f) => f.deliver.deliveries.map((d: { tag: number }) => d.tag))).toEqual([1]);
    c.transport.drain();
    await c.settle();
    expect(c.take().flatMap((f) => f.deliver.deliveries.map((d: { tag: number }) => d.tag))).toEqual([2]);
  });

  it('drops a consumer that does not drain its output in time', async () => {
    const c = await connected({ limits: { slowConsumerTimeoutMs: 500 } });
    c.send('subscribe', { request_id: 1, subscription_id: 1, address: 'topic://slow', credit: 100 });
    c.take();
    c.transport.writable = false;
    c.send('send', { message: { address: 'topic://slow', body: body('a') } });
    h!.timers.advance(600);
    expect(c.take().at(-1)!.error).toMatchObject({ code: 'LIMIT_EXCEEDED', fatal: true });
    expect(c.transport.destroyed).toBe(true);
  });

  it('detects duplicates by (producer_id, sequence), also after a restart', async () => {
    const c = await connected();
    const send = (seq: number) =>
      c.send('send', {
        request_id: seq,
        message: { address: 'queue://d', body: body(`s${seq}`), persistent: true },
        producer_id: 'prod-1',
        sequence: seq,
      });
    send(1);
    send(2);
    send(2);
    send(1);
    await c.settle();
    expect(c.take().map((f) => f.ok.request_id)).toEqual([1, 2, 2, 1]);
    expect(depth('queue://d')).toBe(2);
    const store = h!.store;
    await h!.core.shutdown();
    h = await harness({ store });
    const again = h.open();
    await again.connect();
    again.send('send', {
      request_id: 9,
      message: { address: 'queue://d', body: body('again'), persistent: true },
      producer_id: 'prod-1',
      sequence: 2,
    });
    await again.settle();
    expect(again.take()).toEqual([{ kind: 'ok', ok: { request_id: 9 } }]);
    expect(depth('queue://d')).toBe(2);
  });
});

describe('native session: transactions, temporaries, browse, disconnect', () => {
  it('local transaction: sends are delivered at commit, rolled back ones never', async () => {
    const c = await connected();
    c.send('subscribe', { request_id: 1, subscription_id: 1, address: 'queue://t', credit: 10 });
    c.send('tx_begin', { request_id: 2, tx_id: 'a' });
    c.send('send', { request_id: 3, tx_id: 'a', message: { address: 'queue://t', body: body('in-a') } });
    c.send('tx_begin', { request_id: 4, tx_id: 'b' });
    c.send('send', { request_id: 5, tx_id: 'b', message: { address: 'queue://t', body: body('in-b') } });
    expect(kinds(c.take())).toEqual(['subscribed', 'ok', 'ok', 'ok', 'ok']);
    c.send('tx_rollback', { request_id: 6, tx_id: 'b' });
    c.send('tx_commit', { request_id: 7, tx_id: 'a' });
    await c.settle();
    const frames = c.take();
    const delivered = frames
      .filter((f) => f.kind === 'deliver')
      .flatMap((f) =>
        f.deliver.deliveries.map((d: { message: { body: Buffer } }) => d.message.body.toString()),
      );
    expect(delivered).toEqual(['in-a']);
    c.send('tx_commit', { request_id: 8, tx_id: 'b' });
    await c.settle();
    expect(c.take()[0]!.error).toMatchObject({ request_id: 8, code: 'NOT_FOUND' });
  });

  it('creates a temporary queue, browses a queue, unsubscribes and disconnects', async () => {
    const c = await connected();
    c.send('create_temporary', { request_id: 1, kind: 0 });
    const tmp = c.take()[0]!.temporary_created;
    expect(tmp.address).toMatch(/^temp-queue:\/\//);
    c.send('send', { request_id: 2, message: { address: 'queue://b', body: body('1'), priority: 7 } });
    c.send('send', { request_id: 3, message: { address: 'queue://b', body: body('2') } });
    c.send('browse', { request_id: 4, address: 'queue://b' });
    const browse = c.take()[2]!.browse_result;
    expect(browse.messages.map((m: { body: Buffer }) => m.body.toString())).toEqual(['1', '2']);
    expect(depth('queue://b')).toBe(2);
    c.send('subscribe', { request_id: 5, subscription_id: 3, address: tmp.address, credit: 1 });
    c.send('unsubscribe', { request_id: 6, subscription_id: 3 });
    c.send('unsubscribe', { request_id: 7, subscription_id: 3 });
    const frames = c.take();
    expect(kinds(frames)).toEqual(['subscribed', 'ok', 'error']);
    c.send('disconnect', { request_id: 8 });
    expect(c.take()).toEqual([{ kind: 'ok', ok: { request_id: 8 } }]);
    expect(c.transport.ended).toBe(true);
  });

  it('runs an XA branch through prepare and commit', async () => {
    const c = await connected();
    const xid = {
      format_id: 1,
      global_transaction_id: Buffer.from('g1'),
      branch_qualifier: Buffer.from('b1'),
    };
    c.send('xa_start', { request_id: 1, xid, tx_id: 'x1' });
    c.send('send', { request_id: 2, tx_id: 'x1', message: { address: 'queue://xa', body: body('x') } });
    c.send('xa_end', { request_id: 3, xid });
    c.send('xa_prepare', { request_id: 4, xid });
    await c.settle();
    c.send('xa_recover', { request_id: 5 });
    await c.settle();
    const frames = c.take();
    expect(kinds(frames)).toEqual(['ok', 'ok', 'ok', 'ok', 'xa_recovered']);
    expect(frames[4]!.xa_recovered.xids).toHaveLength(1);
    expect(depth('queue://xa')).toBe(0);
    c.send('xa_commit', { request_id: 6, xid });
    await c.settle();
    expect(c.take()).toEqual([{ kind: 'ok', ok: { request_id: 6 } }]);
    expect(depth('queue://xa')).toBe(1);
  });
});
