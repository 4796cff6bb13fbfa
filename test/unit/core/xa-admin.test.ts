/**
 * Operators and prepared XA branches (core/xa.ts preparedBranches/resolvePrepared, core/admin.ts
 * transactions/completeTransaction): the listing, heuristic commit and rollback through the coordinator's
 * paths, refusal of unknown and unprepared branches, and branches recovered after a restart.
 */
import { describe, expect, it } from 'vitest';
import type { CoreConnection, Xid } from '../../../src/core/index.js';
import { MAX_LISTED_ADDRESSES } from '../../../src/core/xa.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { type LogLine, recordingLogger } from '../../helpers/recording-logger.js';
import { bytes, expectCode, type Harness, harness, sendAll } from './helpers.js';

function xid(n: number): Xid {
  return { formatId: 0x4242, globalId: bytes(`g${n}`), branchId: bytes('b') };
}

/** `formatId:globalHex:branchHex` of xid(n). */
function key(n: number): string {
  return `${0x4242}:${Buffer.from(`g${n}`).toString('hex')}:${Buffer.from('b').toString('hex')}`;
}

/**
 * Prepares xid(n) on `c`: acks the first delivery of `queue://in` (sent by the caller) and sends one
 * persistent message to `queue://out`; the consumer is closed so that the acked message could only come
 * back through the branch. Returns after the prepare.
 */
async function prepareOne(h: Harness, c: CoreConnection, n: number): Promise<void> {
  const { sub, rec } = h.sub(c, { address: 'queue://in', prefetch: 1 });
  c.xaStart(xid(n), `t${n}`);
  await c.send({ address: 'queue://out', body: bytes(`out${n}`), persistent: true }, `t${n}`);
  sub.ack(rec.last.tag, `t${n}`);
  c.xaEnd(xid(n));
  expect(await c.xaPrepare(xid(n))).toBe('prepared');
  sub.close();
}

/**
 * One message on `queue://in`, taken and acked by branch xid(1), which also sends to `queue://out`, then
 * prepared by a connection that goes away; a second connection watches both queues (nothing arrives
 * while the branch is in doubt).
 */
async function preparedThenWatched(h: Harness) {
  const c = h.connect();
  await sendAll(c, 'queue://in', ['a'], { persistent: true });
  await prepareOne(h, c, 1);
  c.close();
  const d = h.connect();
  const { rec: inRec } = h.sub(d, { address: 'queue://in' });
  const { rec: outRec } = h.sub(d, { address: 'queue://out' });
  return { d, inRec, outRec };
}

describe('listing prepared branches', () => {
  it('shows xid, time of prepare, counts and addresses; nothing for unprepared branches', async () => {
    const h = await harness({ store: new MemoryStore() });
    const c = h.connect();
    await sendAll(c, 'queue://in', ['a'], { persistent: true });
    expect(h.core.admin.transactions()).toEqual([]);
    const t0 = h.time.now();
    await prepareOne(h, c, 1);
    // An active branch and an ended but unprepared one are their connection's: not listed.
    c.xaStart(xid(2), 'active');
    await c.send({ address: 'queue://x', body: bytes('x') }, 'active');
    c.xaStart(xid(3), 'ended');
    await c.send({ address: 'queue://x', body: bytes('x') }, 'ended');
    c.xaEnd(xid(3));
    h.time.advance(5000);

    expect(h.core.admin.transactions()).toEqual([
      {
        xidKey: key(1),
        xid: { formatId: 0x4242, globalId: Buffer.from('g1').toString('hex'), branchId: '62' },
        preparedAt: t0,
        ageMs: 5000,
        recovered: false,
        sends: 1,
        acks: 1,
        addresses: ['queue://out', 'queue://in'],
        moreAddresses: 0,
      },
    ]);
    expect(h.core.admin.transactionStats()).toEqual({ count: 1, oldestAgeMs: 5000 });
  });

  it('lists the oldest first, de-duplicates addresses and caps them', async () => {
    const h = await harness();
    const c = h.connect();
    c.xaStart(xid(1), 't1');
    await c.send({ address: 'queue://late', body: bytes('1') }, 't1');
    c.xaEnd(xid(1));
    c.xaStart(xid(2), 't2');
    const n = MAX_LISTED_ADDRESSES + 5;
    for (let i = 0; i < n; i++) {
      await c.send({ address: `queue://q${i}`, body: bytes('1') }, 't2');
      await c.send({ address: `queue://q${i}`, body: bytes('2') }, 't2');
    }
    c.xaEnd(xid(2));
    await c.xaPrepare(xid(2));
    h.time.advance(1000);
    await c.xaPrepare(xid(1));

    const [first, second] = h.core.admin.transactions();
    expect(first!.xidKey).toBe(key(2));
    expect(first!.sends).toBe(2 * n);
    expect(first!.addresses).toEqual(Array.from({ length: MAX_LISTED_ADDRESSES }, (_, i) => `queue://q${i}`));
    expect(first!.moreAddresses).toBe(5);
    expect(second).toMatchObject({ xidKey: key(1), addresses: ['queue://late'], ageMs: 0 });
    expect(h.core.admin.transactionStats()).toEqual({ count: 2, oldestAgeMs: 1000 });
  });

  it('names the topic of an ack made by a topic subscriber', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'topic://prices.>' });
    await c.send({ address: 'topic://prices.ibm', body: bytes('1') });
    c.xaStart(xid(1), 't');
    sub.ack(rec.last.tag, 't');
    c.xaEnd(xid(1));
    await c.xaPrepare(xid(1));
    expect(h.core.admin.transactions()[0]).toMatchObject({
      sends: 0,
      acks: 1,
      addresses: ['topic://prices.>'],
    });
  });
});

describe('resolving prepared branches', () => {
  it('commit routes the sends and dequeues the acked message, in the store too, and logs who did it', async () => {
    const lines: LogLine[] = [];
    const store = new MemoryStore();
    const h = await harness({ store, logger: recordingLogger(lines) });
    const { d, inRec, outRec } = await preparedThenWatched(h);
    expect(inRec.texts()).toEqual([]);
    expect(outRec.texts()).toEqual([]);

    await h.core.admin.completeTransaction(key(1), 'commit', 'ops');
    expect(outRec.texts()).toEqual(['out1']);
    expect(inRec.texts()).toEqual([]);
    expect(store.messageIds('queue://in')).toEqual([]);
    expect(store.preparedBranches()).toEqual([]);
    expect(h.core.admin.transactions()).toEqual([]);
    expect(d.xaRecover()).toEqual([]);
    const warn = lines.filter((l) => l.level === 'warn');
    expect(warn).toHaveLength(1);
    expect(warn[0]!.obj).toEqual({ xid: key(1), outcome: 'commit', user: 'ops' });
    expect(warn[0]!.msg).toMatch(/heuristic commit .*ops/);
    // The coordinator, if it comes back, finds nothing.
    await expectCode(d.xaCommit(xid(1), false), 'XA_NOTA');
  });

  it('rollback returns the acked message for redelivery and drops the sends', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const { inRec, outRec } = await preparedThenWatched(h);
    // Upper-case hex is the same key.
    await h.core.admin.completeTransaction(key(1).toUpperCase(), 'rollback', 'ops');
    expect(inRec.texts()).toEqual(['a']);
    expect(inRec.last).toMatchObject({ redelivered: true, deliveryCount: 2 });
    expect(outRec.texts()).toEqual([]);
    expect(store.messageIds('queue://out')).toEqual([]);
    expect(store.preparedBranches()).toEqual([]);
    expect(h.core.admin.transactions()).toEqual([]);
  });

  it('refuses an unknown key and a branch that is not prepared with NOT_FOUND, changing nothing', async () => {
    const h = await harness();
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'queue://out' });
    await expectCode(h.core.admin.completeTransaction(key(9), 'commit', 'ops'), 'NOT_FOUND');
    await expectCode(h.core.admin.completeTransaction('nonsense', 'rollback', 'ops'), 'NOT_FOUND');

    c.xaStart(xid(1), 't');
    await c.send({ address: 'queue://out', body: bytes('1') }, 't');
    c.xaEnd(xid(1));
    let message = '';
    try {
      await h.core.admin.completeTransaction(key(1), 'commit', 'ops');
    } catch (err) {
      message = (err as Error).message;
      expect(err).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(message).toMatch(/not prepared.*connection/);
    await expectCode(h.core.admin.completeTransaction(key(1), 'rollback', 'ops'), 'NOT_FOUND');
    // Still the connection's branch: it can prepare and commit it.
    await c.xaPrepare(xid(1));
    await c.xaCommit(xid(1), false);
    expect(rec.texts()).toEqual(['1']);
    await expectCode(
      h.core.admin.completeTransaction(key(1), 'maybe' as unknown as 'commit', 'ops'),
      'BAD_REQUEST',
    );
  });
});

describe('branches recovered after a restart', () => {
  it('are listed with recovered: true, stamped at the restore, and resolvable', async () => {
    const store = new MemoryStore();
    const first = await harness({ store });
    const c = first.connect();
    await sendAll(c, 'queue://in', ['a', 'b'], { persistent: true });
    await prepareOne(first, c, 1);
    await prepareOne(first, c, 2);

    // "Crash": a new core on the same store; its clock starts elsewhere.
    const second = await harness({ store });
    second.time.advance(60_000);
    const restoredAt = second.time.now() - 60_000;
    const listed = second.core.admin.transactions();
    expect(listed.map((t) => t.xidKey).sort()).toEqual([key(1), key(2)]);
    for (const t of listed) {
      expect(t).toMatchObject({ recovered: true, preparedAt: restoredAt, ageMs: 60_000, sends: 1, acks: 1 });
      expect([...t.addresses].sort()).toEqual(['queue://in', 'queue://out']);
    }

    const d = second.connect();
    const { rec: inRec } = second.sub(d, { address: 'queue://in' });
    const { rec: outRec } = second.sub(d, { address: 'queue://out' });
    await second.core.admin.completeTransaction(key(1), 'rollback', 'ops');
    await second.core.admin.completeTransaction(key(2), 'commit', 'ops');
    expect(inRec.texts()).toEqual(['a']);
    expect(outRec.texts()).toEqual(['out2']);
    expect(store.preparedBranches()).toEqual([]);

    const third = await harness({ store });
    expect(third.core.admin.transactions()).toEqual([]);
  });
});
