/**
 * Message ids in the answer to Send/SendBatch with `want_ids` (native.proto version 2), over a real
 * in-memory core: the id answered is the id consumers receive, outside and inside local and XA
 * transactions, and a resent duplicate is answered with the id of its first send.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeOk } from '../../../src/protocol/native/codec/index.js';
import { type Client, type Decoded, type Harness, harness, openV2 } from './helpers.js';

const body = (s: string) => Buffer.from(s);
let h: Harness | undefined;

afterEach(async () => {
  await h?.core.shutdown();
  h = undefined;
});

const open = () => openV2(h!);

async function frames(c: Client): Promise<Decoded[]> {
  await c.settle();
  return c.take();
}

/** Ok.message_ids of the Ok answering `requestId` ('' stays ''). */
function idsOf(fs: Decoded[], requestId: number): string[] {
  const ok = fs.find((f) => f.kind === 'ok' && f.ok.request_id === requestId);
  if (ok === undefined) throw new Error(`no Ok for ${requestId}: ${JSON.stringify(fs)}`);
  return ok.ok.message_ids ?? [];
}

/** Ids of the messages a new subscription on `address` receives. */
async function deliveredIds(c: Client, address: string, subscriptionId = 90): Promise<string[]> {
  c.send('subscribe', {
    request_id: 900 + subscriptionId,
    subscription_id: subscriptionId,
    address,
    credit: 100,
  });
  const fs = await frames(c);
  return fs
    .filter((f) => f.kind === 'deliver')
    .flatMap((f) => f.deliver.deliveries.map((d: { message: { id: string } }) => d.message.id));
}

function depth(address: string): number {
  return h!.core.stats().queues.find((q) => q.address === address)?.depth ?? 0;
}

const send = (c: Client, request_id: number, address: string, extra: object = {}) =>
  c.send('send', { request_id, message: { address, body: body('x'), persistent: true }, ...extra });

describe('Send/SendBatch want_ids', () => {
  it('answers the id consumers then receive; without want_ids the Ok is the version 1 bytes', async () => {
    h = await harness();
    const c = await open();
    send(c, 2, 'queue://a', { want_ids: true });
    const [id] = idsOf(await frames(c), 2);
    expect(id).toMatch(/^ID:/);
    const at = c.transport.chunks.length;
    send(c, 3, 'queue://a');
    await c.settle();
    expect(Buffer.compare(Buffer.concat(c.transport.chunks.slice(at)), encodeOk(3))).toBe(0);
    c.take();
    const got = await deliveredIds(c, 'queue://a');
    expect(got[0]).toBe(id);
    expect(got).toHaveLength(2);
  });

  it('answers one id per message of a SendBatch, in order', async () => {
    h = await harness();
    const c = await open();
    c.send('send_batch', {
      request_id: 5,
      messages: [1, 2, 3].map((i) => ({ address: 'queue://b', body: body(`${i}`) })),
      producer_id: 'p',
      first_sequence: 1,
      want_ids: true,
    });
    const ids = idsOf(await frames(c), 5);
    expect(new Set(ids).size).toBe(3);
    expect(await deliveredIds(c, 'queue://b')).toEqual(ids);
  });

  it('a composite address gives its copies one id', async () => {
    h = await harness();
    const c = await open();
    send(c, 2, 'queue://c1,queue://c2', { want_ids: true });
    const [id] = idsOf(await frames(c), 2);
    expect(await deliveredIds(c, 'queue://c1', 1)).toEqual([id]);
    expect(await deliveredIds(c, 'queue://c2', 2)).toEqual([id]);
  });

  it('a refused send is answered with Error, as without want_ids', async () => {
    h = await harness();
    const c = await open();
    send(c, 2, 'temp-queue://nope', { want_ids: true });
    const fs = await frames(c);
    expect(fs).toMatchObject([{ kind: 'error', error: { request_id: 2, code: 'NOT_FOUND' } }]);
  });
});

describe('want_ids in transactions: the id is known before commit and kept through it', () => {
  it('local transaction: ids at Send, the same ids delivered after commit, nothing after rollback', async () => {
    h = await harness();
    const c = await open();
    c.send('tx_begin', { request_id: 1, tx_id: 't' });
    send(c, 2, 'queue://tx', { tx_id: 't', want_ids: true, producer_id: 'p/t', sequence: 1 });
    c.send('send_batch', {
      request_id: 3,
      tx_id: 't',
      messages: [{ address: 'queue://tx', body: body('b') }],
      producer_id: 'p/t',
      first_sequence: 2,
      want_ids: true,
    });
    const before = await frames(c);
    const ids = [...idsOf(before, 2), ...idsOf(before, 3)];
    expect(depth('queue://tx')).toBe(0);
    c.send('tx_commit', { request_id: 4, tx_id: 't' });
    await frames(c);
    expect(await deliveredIds(c, 'queue://tx')).toEqual(ids);

    c.send('tx_begin', { request_id: 5, tx_id: 'r' });
    send(c, 6, 'queue://rb', { tx_id: 'r', want_ids: true });
    expect(idsOf(await frames(c), 6)[0]).toMatch(/^ID:/);
    c.send('tx_rollback', { request_id: 7, tx_id: 'r' });
    await frames(c);
    expect(depth('queue://rb')).toBe(0);
  });

  it('XA branch: the id answered at Send is the delivered id after a one-phase commit', async () => {
    h = await harness();
    const c = await open();
    const xid = {
      format_id: 1,
      global_transaction_id: Buffer.from('g1'),
      branch_qualifier: Buffer.from('b'),
    };
    c.send('xa_start', { request_id: 1, xid, tx_id: 'x' });
    send(c, 2, 'queue://xa', { tx_id: 'x', want_ids: true, producer_id: 'px', sequence: 1 });
    const [id] = idsOf(await frames(c), 2);
    c.send('xa_end', { request_id: 3, xid, flags: 0x4000000 });
    c.send('xa_commit', { request_id: 4, xid, one_phase: true });
    const done = await frames(c);
    expect(done.map((f) => f.kind)).toEqual(['ok', 'ok']);
    expect(await deliveredIds(c, 'queue://xa')).toEqual([id]);
  });

  it('a transaction resent after an in-doubt commit is answered with the committed ids', async () => {
    h = await harness();
    const c = await open();
    c.send('tx_begin', { request_id: 1, tx_id: 'a' });
    send(c, 2, 'queue://d', { tx_id: 'a', want_ids: true, producer_id: 'p/a', sequence: 1 });
    c.send('tx_commit', { request_id: 3, tx_id: 'a' });
    const [first] = idsOf(await frames(c), 2);
    // The replay (client.ts Transaction): same producer id and sequence, in a new transaction.
    const again = await open();
    again.send('tx_begin', { request_id: 1, tx_id: 'a' });
    send(again, 2, 'queue://d', { tx_id: 'a', want_ids: true, producer_id: 'p/a', sequence: 1 });
    again.send('tx_commit', { request_id: 3, tx_id: 'a' });
    expect(idsOf(await frames(again), 2)).toEqual([first]);
    expect(depth('queue://d')).toBe(1);
  });
});

describe('a resent duplicate is answered with the id of its first send', () => {
  it('on a new connection, for Send and for the duplicates of a SendBatch', async () => {
    h = await harness();
    const c = await open();
    send(c, 2, 'queue://dup', { want_ids: true, producer_id: 'p', sequence: 1 });
    send(c, 3, 'queue://dup', { want_ids: true, producer_id: 'p', sequence: 2 });
    const fs = await frames(c);
    const [one, two] = [idsOf(fs, 2)[0], idsOf(fs, 3)[0]];
    const d = await open();
    send(d, 2, 'queue://dup', { want_ids: true, producer_id: 'p', sequence: 1 });
    d.send('send_batch', {
      request_id: 3,
      messages: [{ address: 'queue://dup' }, { address: 'queue://dup' }],
      producer_id: 'p',
      first_sequence: 2,
      want_ids: true,
    });
    const again = await frames(d);
    expect(idsOf(again, 2)).toEqual([one]);
    const batch = idsOf(again, 3);
    expect(batch[0]).toBe(two);
    expect(batch[1]).toMatch(/^ID:/);
    expect(batch[1]).not.toBe(two);
    expect(depth('queue://dup')).toBe(3);
  });

  it('after a restart: the last sequence of a producer keeps its id with its record; older ones answer ""', async () => {
    h = await harness();
    const c = await open();
    send(c, 2, 'queue://r', { want_ids: true, producer_id: 'p', sequence: 1 });
    send(c, 3, 'queue://r', { want_ids: true, producer_id: 'p', sequence: 2 });
    const fs = await frames(c);
    const last = idsOf(fs, 3)[0];
    const store = h.store;
    await h.core.shutdown();
    h = await harness({ store });
    const d = await open();
    send(d, 2, 'queue://r', { want_ids: true, producer_id: 'p', sequence: 2 });
    send(d, 3, 'queue://r', { want_ids: true, producer_id: 'p', sequence: 1 });
    const again = await frames(d);
    expect(idsOf(again, 2)).toEqual([last]);
    expect(idsOf(again, 3)).toEqual(['']);
    expect(depth('queue://r')).toBe(2);
  });

  it('a producer that did not ask for ids gets "" for its duplicates', async () => {
    h = await harness();
    const c = await open();
    send(c, 2, 'queue://n', { producer_id: 'p', sequence: 1 });
    await frames(c);
    send(c, 3, 'queue://n', { want_ids: true, producer_id: 'p', sequence: 1 });
    expect(idsOf(await frames(c), 3)).toEqual(['']);
  });
});
