/**
 * Duplicate detection inside transactions (producers.ts, handlers/transaction.ts): a sequence counts as
 * accepted only once its transaction commits, durably with the commit; a rollback releases it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreOp } from '../../../src/core/store.js';
import { ProducerRegistry } from '../../../src/protocol/native/producers.js';
import { ManualTimers } from '../../helpers/manual-timers.js';
import { type Client, type Harness, harness } from './helpers.js';

const body = (s: string) => Buffer.from(s);
let h: Harness | undefined;

afterEach(async () => {
  await h?.core.shutdown();
  h = undefined;
});

function depth(address: string): number {
  return h!.core.stats().queues.find((q) => q.address === address)?.depth ?? 0;
}

async function open(): Promise<Client> {
  const c = h!.open();
  await c.connect();
  return c;
}

async function restart(): Promise<Client> {
  const store = h!.store;
  await h!.core.shutdown();
  h = await harness({ store });
  return open();
}

function txSend(c: Client, requestId: number, txId: string, seq: number, address = 'queue://t'): void {
  c.send('send', {
    request_id: requestId,
    tx_id: txId,
    message: { address, body: body(`s${seq}`), persistent: true },
    producer_id: 'p1',
    sequence: seq,
  });
}

/** A local transaction sending sequences `seqs`, committed. */
async function committedBatch(c: Client, txId: string, seqs: number[], base: number): Promise<void> {
  c.send('tx_begin', { request_id: base, tx_id: txId });
  for (const [i, s] of seqs.entries()) txSend(c, base + 1 + i, txId, s);
  c.send('tx_commit', { request_id: base + 50, tx_id: txId });
  await c.settle();
  const frames = c.take();
  expect(frames.filter((f) => f.kind !== 'ok')).toEqual([]);
}

const xid = (g: string) => ({
  format_id: 7,
  global_transaction_id: Buffer.from(g),
  branch_qualifier: Buffer.from('b'),
});

describe('native duplicate detection inside transactions', () => {
  it('drops a committed sequence resent in a new transaction, also after a restart', async () => {
    h = await harness();
    const c = await open();
    await committedBatch(c, 'a', [1, 2], 10);
    expect(depth('queue://t')).toBe(2);
    // The same batch again (a client that lost the commit's answer): nothing routed twice.
    await committedBatch(c, 'b', [1, 2], 100);
    expect(depth('queue://t')).toBe(2);
    const again = await restart();
    await committedBatch(again, 'c', [1, 2, 3], 200);
    expect(depth('queue://t')).toBe(3);
  });

  it('a rolled-back or never-committed transaction does not advance the sequence', async () => {
    h = await harness();
    const c = await open();
    c.send('tx_begin', { request_id: 1, tx_id: 'r' });
    txSend(c, 2, 'r', 1);
    c.send('tx_rollback', { request_id: 3, tx_id: 'r' });
    await committedBatch(c, 'a', [1], 10);
    expect(depth('queue://t')).toBe(1);
    // Open, uncommitted at the restart: its sequence 2 stays free.
    c.send('tx_begin', { request_id: 20, tx_id: 'open' });
    txSend(c, 21, 'open', 2);
    await c.settle();
    const again = await restart();
    await committedBatch(again, 'b', [2], 30);
    expect(depth('queue://t')).toBe(2);
  });

  it('the sequence becomes durable in the commit batch, not before', async () => {
    h = await harness();
    const c = await open();
    c.send('tx_begin', { request_id: 1, tx_id: 'a' });
    txSend(c, 2, 'a', 5);
    await c.settle();
    const store = h.store;
    const batches: StoreOp[][] = [];
    const write = store.write.bind(store);
    store.write = (ops) => {
      batches.push([...ops]);
      return write(ops);
    };
    c.send('tx_commit', { request_id: 3, tx_id: 'a' });
    await c.settle();
    expect(batches).toHaveLength(1);
    const types = batches[0]!.map((op) => op.type);
    expect(types).toContain('enqueue');
    expect(types).toContain('kv-put');
  });

  it('refuses a sequence held by another unfinished transaction (CONFLICT), duplicates within one', async () => {
    h = await harness();
    const c = await open();
    c.send('tx_begin', { request_id: 1, tx_id: 'a' });
    c.send('tx_begin', { request_id: 2, tx_id: 'b' });
    txSend(c, 3, 'a', 1);
    txSend(c, 4, 'a', 1);
    txSend(c, 5, 'b', 1);
    await c.settle();
    const frames = c.take();
    expect(frames.map((f) => f.kind)).toEqual(['ok', 'ok', 'ok', 'ok', 'error']);
    expect(frames[4]!.error).toMatchObject({ request_id: 5, code: 'CONFLICT' });
    c.send('tx_commit', { request_id: 6, tx_id: 'a' });
    await c.settle();
    expect(depth('queue://t')).toBe(1);
  });

  it('a closed connection releases the sequences of its open transactions', async () => {
    h = await harness();
    const c = await open();
    c.send('tx_begin', { request_id: 1, tx_id: 'a' });
    txSend(c, 2, 'a', 1);
    await c.settle();
    c.session.onClose();
    const next = await open();
    await committedBatch(next, 'b', [1], 10);
    expect(depth('queue://t')).toBe(1);
  });

  it('XA: a branch prepared before a restart advances the sequence when committed after it', async () => {
    h = await harness();
    const c = await open();
    const x = xid('g1');
    c.send('xa_start', { request_id: 1, xid: x, tx_id: 'x' });
    txSend(c, 2, 'x', 1);
    txSend(c, 3, 'x', 2);
    c.send('xa_end', { request_id: 4, xid: x });
    c.send('xa_prepare', { request_id: 5, xid: x });
    await c.settle();
    expect(c.take().map((f) => f.kind)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    const again = await restart();
    again.send('xa_commit', { request_id: 1, xid: x });
    await again.settle();
    expect(again.take()).toEqual([{ kind: 'ok', ok: { request_id: 1 } }]);
    expect(depth('queue://t')).toBe(2);
    await committedBatch(again, 'resend', [1, 2], 10);
    expect(depth('queue://t')).toBe(2);
  });

  it('XA: one-phase commit advances it; a rolled-back or failed branch does not', async () => {
    h = await harness();
    const c = await open();
    const one = xid('one');
    c.send('xa_start', { request_id: 1, xid: one, tx_id: 'x' });
    txSend(c, 2, 'x', 1);
    c.send('xa_end', { request_id: 3, xid: one });
    c.send('xa_commit', { request_id: 4, xid: one, one_phase: true });
    const failed = xid('failed');
    c.send('xa_start', { request_id: 5, xid: failed, tx_id: 'y' });
    txSend(c, 6, 'y', 2);
    c.send('xa_end', { request_id: 7, xid: failed, flags: 0x20000000 });
    c.send('xa_commit', { request_id: 8, xid: failed, one_phase: true });
    await c.settle();
    const rolled = xid('rolled');
    c.send('xa_start', { request_id: 9, xid: rolled, tx_id: 'z' });
    txSend(c, 10, 'z', 2);
    c.send('xa_end', { request_id: 11, xid: rolled });
    c.send('xa_prepare', { request_id: 12, xid: rolled });
    await c.settle();
    c.send('xa_rollback', { request_id: 13, xid: rolled });
    await c.settle();
    const errors = c.take().filter((f) => f.kind === 'error');
    expect(errors.map((f) => f.error.request_id)).toEqual([8]);
    expect(depth('queue://t')).toBe(1);
    await committedBatch(c, 'resend', [1, 2], 20);
    expect(depth('queue://t')).toBe(2);
  });
});

describe('ProducerRegistry transactions', () => {
  it('holds, commits, aborts', () => {
    const r = new ProducerRegistry(undefined, new ManualTimers(), 10, 60_000);
    expect(r.isDuplicateInTransaction('t1', 'p', 1)).toBe(false);
    r.holdInTransaction('t1', 'p', 1);
    r.holdInTransaction('t1', 'p', 3);
    expect(r.isDuplicateInTransaction('t1', 'p', 2)).toBe(true);
    expect(() => r.isDuplicateInTransaction('t2', 'p', 3)).toThrow(/unfinished transaction/);
    expect(r.isDuplicateInTransaction('t2', 'p', 4)).toBe(false);
    expect(r.isDuplicate('p', 1)).toBe(false);
    r.commitTransaction('t1');
    expect(r.isDuplicate('p', 3)).toBe(true);
    expect(r.isDuplicate('p', 4)).toBe(false);
    r.holdInTransaction('t2', 'p', 4);
    r.abortTransaction('t2');
    expect(r.isDuplicate('p', 4)).toBe(false);
    expect(r.holds('t2')).toBe(false);
  });
});
