/**
 * XA branches in the core (src/core/xa.ts): the state table, locking of acked messages and holding of
 * sends while prepared, commit as one store batch, rollback of unprepared branches on close, and
 * recovery of prepared branches from the store.
 */
import { describe, expect, it } from 'vitest';
import type { MessageStore, RecoveredState, StoreOp, Xid } from '../../../src/core/index.js';
import { XA_FLAGS } from '../../../src/core/index.js';
import { MemoryStore } from '../../../src/store/memory/index.js';
import { bytes, expectCode, harness, sendAll } from './helpers.js';

const flush = () => new Promise<void>((r) => setImmediate(r));
const { TMJOIN, TMRESUME, TMSUSPEND, TMFAIL } = XA_FLAGS;

function xid(n: number, branch = 'b'): Xid {
  return { formatId: 0x4242, globalId: bytes(`gtrid-${n}`), branchId: bytes(branch) };
}

/** A MemoryStore that also records each write batch's operations. */
class RecordingStore implements MessageStore {
  readonly batches: StoreOp[][] = [];
  constructor(readonly inner = new MemoryStore()) {}
  load(): Promise<RecoveredState> {
    return this.inner.load();
  }
  write(ops: readonly StoreOp[]): Promise<void> {
    this.batches.push([...ops]);
    return this.inner.write(ops);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const keys = (xids: Xid[]) => xids.map((x) => new TextDecoder().decode(x.globalId)).sort();

describe('XA branches: the happy paths', () => {
  it('two-phase commit: sends held and acked messages locked while prepared, both applied on commit', async () => {
    const store = new RecordingStore();
    const h = await harness({ store });
    const c = h.connect();
    const other = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://in', prefetch: 1 });
    await sendAll(c, 'queue://in', ['a', 'b'], { persistent: true });
    expect(rec.texts()).toEqual(['a']);

    c.xaStart(xid(1), 't1');
    await c.send({ address: 'queue://out', body: bytes('o1'), persistent: true }, 't1');
    sub.ack(rec.last.tag, 't1');
    // Credit comes back at once: the consumer keeps receiving inside its branch.
    expect(rec.texts()).toEqual(['a', 'b']);
    c.xaEnd(xid(1));
    expect(await c.xaPrepare(xid(1))).toBe('prepared');
    expect(store.inner.preparedBranches()).toHaveLength(1);
    expect(store.inner.preparedBranches()[0]!.acks).toEqual([
      { queue: 'queue://in', messageId: expect.any(String) },
    ]);
    expect(store.inner.preparedBranches()[0]!.sends.map((s) => s.address)).toEqual(['queue://out']);

    // 'a' is locked: closing the subscription that acked it does not hand it to anyone else.
    sub.close();
    const { rec: rival } = h.sub(other, { address: 'queue://in' });
    expect(rival.texts()).toEqual(['b']);
    const { rec: out } = h.sub(other, { address: 'queue://out' });
    expect(out.texts()).toEqual([]);
    expect(other.xaRecover()).toEqual([xid(1)]);

    await flush();
    const before = store.batches.length;
    await other.xaCommit(xid(1), false);
    expect(out.texts()).toEqual(['o1']);
    // One atomic batch: forget + the send's enqueue + the ack's dequeue.
    expect(store.batches.length).toBe(before + 1);
    expect(
      store.batches
        .at(-1)!
        .map((op) => op.type)
        .sort(),
    ).toEqual(['dequeue', 'enqueue', 'xa-forget']);
    expect(store.inner.preparedBranches()).toEqual([]);
    expect(store.inner.messageIds('queue://in')).toHaveLength(1);
    expect(other.xaRecover()).toEqual([]);
    await expectCode(other.xaCommit(xid(1), false), 'XA_NOTA');
  });

  it('rollback of a prepared branch returns acked messages and discards sends', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://in' });
    await sendAll(c, 'queue://in', ['a'], { persistent: true });
    c.xaStart(xid(2), 't');
    await c.send({ address: 'queue://out', body: bytes('o'), persistent: true }, 't');
    sub.ack(rec.last.tag, 't');
    c.xaEnd(xid(2));
    await c.xaPrepare(xid(2));
    await c.xaRollback(xid(2));
    expect(rec.texts()).toEqual(['a', 'a']);
    expect(rec.last).toMatchObject({ redelivered: true, deliveryCount: 2 });
    expect(store.preparedBranches()).toEqual([]);
    expect(store.messageIds('queue://out')).toEqual([]);
    expect(c.xaRecover()).toEqual([]);
  });

  it('one-phase commit applies the branch without a prepare record', async () => {
    const store = new RecordingStore();
    const h = await harness({ store });
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'queue://q' });
    c.xaStart(xid(3), 't');
    await c.send({ address: 'queue://q', body: bytes('1'), persistent: true }, 't');
    c.xaEnd(xid(3));
    expect(rec.texts()).toEqual([]);
    await c.xaCommit(xid(3), true);
    expect(rec.texts()).toEqual(['1']);
    expect(store.batches.flat().map((op) => op.type)).toEqual(['enqueue']);
  });

  it('a branch that did nothing prepares read-only and is forgotten', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    c.xaStart(xid(4), 't');
    c.xaEnd(xid(4));
    expect(await c.xaPrepare(xid(4))).toBe('readonly');
    expect(store.writes).toBe(0);
    expect(c.xaRecover()).toEqual([]);
    await expectCode(c.xaCommit(xid(4), false), 'XA_NOTA');
  });

  it('xaPrepare resolves only once its record is durable', async () => {
    const store = new MemoryStore();
    const h = await harness({ store });
    const c = h.connect();
    c.xaStart(xid(5), 't');
    await c.send({ address: 'queue://q', body: bytes('1'), persistent: true }, 't');
    c.xaEnd(xid(5));
    store.hold();
    let done = false;
    const p = c.xaPrepare(xid(5)).then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    store.release();
    await p;
    expect(store.preparedBranches().map((b) => b.xid)).toEqual([xid(5)]);
  });

  it('suspend and resume (with another txId), and join from a second connection', async () => {
    const h = await harness();
    const a = h.connect();
    const b = h.connect();
    const { rec } = h.sub(a, { address: 'queue://q' });
    a.xaStart(xid(6), 'first');
    await a.send({ address: 'queue://q', body: bytes('1') }, 'first');
    a.xaEnd(xid(6), TMSUSPEND);
    await expectCode(a.send({ address: 'queue://q', body: bytes('x') }, 'first'), 'NOT_FOUND');
    a.xaStart(xid(6), 'second', TMRESUME);
    await a.send({ address: 'queue://q', body: bytes('2') }, 'second');
    a.xaEnd(xid(6));
    b.xaStart(xid(6), 'joined', TMJOIN);
    await b.send({ address: 'queue://q', body: bytes('3') }, 'joined');
    b.xaEnd(xid(6));
    expect(rec.texts()).toEqual([]);
    expect(await b.xaPrepare(xid(6))).toBe('prepared');
    await a.xaCommit(xid(6), false);
    expect(rec.texts()).toEqual(['1', '2', '3']);
  });
});

describe('XA branches: the state table', () => {
  it('refuses calls in the wrong state with XA_NOTA, XA_PROTO and XA_DUPID', async () => {
    const h = await harness();
    const c = h.connect();
    const other = h.connect();
    await expectCode(() => c.xaEnd(xid(9)), 'XA_NOTA');
    await expectCode(c.xaPrepare(xid(9)), 'XA_NOTA');
    await expectCode(c.xaCommit(xid(9), true), 'XA_NOTA');
    await expectCode(c.xaRollback(xid(9)), 'XA_NOTA');
    await expectCode(() => c.xaStart(xid(9), 't', TMJOIN), 'XA_NOTA');

    c.xaStart(xid(1), 't');
    await c.send({ address: 'queue://q', body: bytes('1') }, 't');
    await expectCode(() => c.xaStart(xid(1), 'u'), 'XA_DUPID');
    await expectCode(() => other.xaStart(xid(1), 'u'), 'XA_DUPID');
    await expectCode(() => c.xaStart(xid(2), 't'), 'XA_PROTO'); // txId already bound
    await expectCode(c.xaPrepare(xid(1)), 'XA_PROTO'); // still active
    await expectCode(c.xaCommit(xid(1), true), 'XA_PROTO');
    await expectCode(c.xaRollback(xid(1)), 'XA_PROTO');
    await expectCode(() => other.xaEnd(xid(1)), 'XA_PROTO'); // not associated there
    await expectCode(() => c.xaStart(xid(1), 'u', TMRESUME), 'XA_PROTO'); // not suspended
    await expectCode(() => c.xaStart(xid(1), 'u', TMJOIN), 'XA_PROTO'); // already associated
    // A branch ends through XA calls only; a local begin cannot reuse its txId either.
    await expectCode(c.commit('t'), 'XA_PROTO');
    await expectCode(() => c.rollback('t'), 'XA_PROTO');
    await expectCode(() => c.begin('t'), 'CONFLICT');
    c.begin('local');
    await expectCode(() => c.xaStart(xid(3), 'local'), 'CONFLICT');

    c.xaEnd(xid(1));
    await expectCode(() => c.xaEnd(xid(1)), 'XA_PROTO');
    await expectCode(c.send({ address: 'queue://q', body: bytes('x') }, 't'), 'NOT_FOUND');
    await expectCode(c.xaCommit(xid(1), false), 'XA_PROTO'); // two-phase needs prepare
    await c.xaPrepare(xid(1));
    await expectCode(c.xaPrepare(xid(1)), 'XA_PROTO');
    await expectCode(c.xaCommit(xid(1), true), 'XA_PROTO'); // one-phase of a prepared branch
    await expectCode(() => other.xaStart(xid(1), 'u', TMJOIN), 'XA_PROTO');
    await c.xaCommit(xid(1), false);
  });

  it('refuses invalid xids and flags with BAD_REQUEST', async () => {
    const h = await harness();
    const c = h.connect();
    await expectCode(
      () => c.xaStart({ formatId: -1, globalId: bytes('g'), branchId: bytes('b') }, 't'),
      'BAD_REQUEST',
    );
    await expectCode(
      () => c.xaStart({ formatId: 1, globalId: new Uint8Array(0), branchId: bytes('b') }, 't'),
      'BAD_REQUEST',
    );
    await expectCode(
      () => c.xaStart({ formatId: 1, globalId: new Uint8Array(65), branchId: bytes('b') }, 't'),
      'BAD_REQUEST',
    );
    await expectCode(
      () => c.xaStart({ formatId: 1.5, globalId: bytes('g'), branchId: bytes('b') }, 't'),
      'BAD_REQUEST',
    );
    await expectCode(() => c.xaStart(xid(1), 't', 12345), 'BAD_REQUEST');
    c.xaStart(xid(1), 't');
    await expectCode(() => c.xaEnd(xid(1), XA_FLAGS.TMJOIN), 'BAD_REQUEST');
    // Same global id, other branch qualifier: another branch.
    c.xaStart(xid(1, 'other'), 'u');
    expect(() => c.xaEnd(xid(1, 'other'))).not.toThrow();
  });

  it('TMFAIL makes the branch rollback-only: prepare rolls it back with XA_RBROLLBACK', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://q' });
    await sendAll(c, 'queue://q', ['a']);
    c.xaStart(xid(1), 't');
    sub.ack(rec.last.tag, 't');
    c.xaEnd(xid(1), TMFAIL);
    await expectCode(() => c.xaStart(xid(1), 'u', TMJOIN), 'XA_RBROLLBACK');
    await expectCode(c.xaPrepare(xid(1)), 'XA_RBROLLBACK');
    expect(rec.texts()).toEqual(['a', 'a']);
    await expectCode(c.xaRollback(xid(1)), 'XA_NOTA');

    c.xaStart(xid(2), 't');
    c.xaEnd(xid(2), TMFAIL);
    await expectCode(c.xaCommit(xid(2), true), 'XA_RBROLLBACK');
    await expectCode(c.xaCommit(xid(2), true), 'XA_NOTA');
  });

  it('rollback is allowed while the only association is suspended', async () => {
    const h = await harness();
    const c = h.connect();
    c.xaStart(xid(1), 't');
    await c.send({ address: 'queue://q', body: bytes('1') }, 't');
    c.xaEnd(xid(1), TMSUSPEND);
    await c.xaRollback(xid(1));
    await expectCode(() => c.xaStart(xid(1), 't', TMRESUME), 'XA_NOTA');
    // The txId is free again.
    c.xaStart(xid(2), 't');
  });
});

describe('XA branches and connections', () => {
  it('closing a connection rolls back its branches that are not prepared', async () => {
    const h = await harness();
    const c = h.connect();
    const other = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://in' });
    await sendAll(other, 'queue://in', ['a']);
    c.xaStart(xid(1), 'active');
    sub.ack(rec.last.tag, 'active');
    await c.send({ address: 'queue://out', body: bytes('o') }, 'active');
    c.xaStart(xid(2), 'ended');
    await c.send({ address: 'queue://out', body: bytes('o2') }, 'ended');
    c.xaEnd(xid(2));
    c.close();
    await expectCode(other.xaPrepare(xid(1)), 'XA_NOTA');
    await expectCode(other.xaPrepare(xid(2)), 'XA_NOTA');
    const { rec: got } = h.sub(other, { address: 'queue://in' });
    expect(got.texts()).toEqual(['a']);
    expect(got.last.redelivered).toBe(true);
    const { rec: out } = h.sub(other, { address: 'queue://out' });
    expect(out.texts()).toEqual([]);
  });

  it('a prepared branch survives its connection and is finished from another one', async () => {
    const h = await harness();
    const c = h.connect();
    const { sub, rec } = h.sub(c, { address: 'queue://in' });
    await sendAll(c, 'queue://in', ['a', 'b']);
    c.xaStart(xid(1), 't');
    sub.ack(rec.deliveries[0]!.tag, 't');
    c.xaEnd(xid(1));
    await c.xaPrepare(xid(1));
    c.close();
    const d = h.connect();
    expect(d.xaRecover()).toEqual([xid(1)]);
    const { rec: got } = h.sub(d, { address: 'queue://in' });
    expect(got.texts()).toEqual(['b']);
    expect(h.core.stats().queues.find((q) => q.address === 'queue://in')).toMatchObject({ depth: 2 });
    await d.xaCommit(xid(1), false);
    expect(h.core.stats().queues.find((q) => q.address === 'queue://in')).toMatchObject({ depth: 1 });
    expect(got.texts()).toEqual(['b']);
  });

  it('a local transaction and an XA branch on one connection stay apart', async () => {
    const h = await harness();
    const c = h.connect();
    const { rec } = h.sub(c, { address: 'queue://q' });
    c.begin('local');
    c.xaStart(xid(1), 'xa');
    await c.send({ address: 'queue://q', body: bytes('L') }, 'local');
    await c.send({ address: 'queue://q', body: bytes('X') }, 'xa');
    await c.commit('local');
    expect(rec.texts()).toEqual(['L']);
    c.xaEnd(xid(1));
    await c.xaCommit(xid(1), true);
    expect(rec.texts()).toEqual(['L', 'X']);
  });
});

describe('XA recovery from the store', () => {
  it('a prepared branch comes back after a restart: listed, acked message locked, sends held', async () => {
    const store = new MemoryStore();
    const first = await harness({ store });
    const c = first.connect();
    const { sub, rec } = first.sub(c, { address: 'queue://in' });
    await sendAll(c, 'queue://in', ['a', 'b', 'c'], { persistent: true });
    c.xaStart(xid(1), 't');
    sub.ack(rec.deliveries[1]!.tag, 't');
    await c.send({ address: 'queue://out', body: bytes('o'), persistent: true }, 't');
    await c.send({ address: 'queue://out', body: bytes('lost'), persistent: false }, 't');
    c.xaEnd(xid(1));
    await c.xaPrepare(xid(1));
    c.xaStart(xid(2), 'u');
    sub.ack(rec.deliveries[2]!.tag, 'u');
    c.xaEnd(xid(2));
    await c.xaPrepare(xid(2));
    // "Crash": a new core on the same store; the old one is simply abandoned.

    const second = await harness({ store });
    const d = second.connect();
    expect(keys(d.xaRecover())).toEqual(['gtrid-1', 'gtrid-2']);
    const { rec: got } = second.sub(d, { address: 'queue://in' });
    expect(got.texts()).toEqual(['a']);
    const { rec: out } = second.sub(d, { address: 'queue://out' });
    expect(out.texts()).toEqual([]);

    await d.xaCommit(xid(1), false);
    // Only the persistent send was stored; a non-persistent one may be lost in a crash (JMS 4.7).
    expect(out.texts()).toEqual(['o']);
    expect(store.messageIds('queue://in')).toHaveLength(2);
    await d.xaRollback(xid(2));
    expect(got.texts()).toEqual(['a', 'c']);
    expect(got.last).toMatchObject({ redelivered: true });
    expect(store.preparedBranches()).toEqual([]);

    const third = await harness({ store });
    expect(third.connect().xaRecover()).toEqual([]);
  });

  it('restores branches from a RecoveredState written directly, locking messages of durable queues too', async () => {
    const store = new MemoryStore();
    const m = (id: string, address: string) => ({
      id,
      address,
      body: bytes(id),
      properties: {},
      persistent: true,
      priority: 4,
      expiration: 0,
      timestamp: 1,
    });
    const durable = {
      queue: 'durable://c/s',
      clientId: 'c',
      name: 's',
      address: 'topic://t',
      noLocal: false,
    };
    await store.write([
      { type: 'durable-add', record: durable },
      { type: 'enqueue', queue: 'queue://q', message: m('q1', 'queue://q') },
      { type: 'enqueue', queue: 'queue://q', message: m('q2', 'queue://q') },
      { type: 'enqueue', queue: 'durable://c/s', message: m('d1', 'topic://t') },
      { type: 'delivery-count', queue: 'queue://q', messageId: 'q1', deliveryCount: 1 },
      {
        type: 'xa-prepare',
        xid: xid(7),
        sends: [{ address: 'topic://t', message: m('s1', 'topic://t') }],
        acks: [
          { queue: 'queue://q', messageId: 'q1' },
          { queue: 'durable://c/s', messageId: 'd1' },
          { queue: 'queue://gone', messageId: 'x' },
        ],
      },
    ]);
    const h = await harness({ store });
    const c = h.connect('c');
    const { rec: q } = h.sub(c, { address: 'queue://q' });
    expect(q.texts()).toEqual(['q2']);
    const { rec: t } = h.sub(c, { address: 'topic://t', durableName: 's' });
    expect(t.texts()).toEqual([]);
    await c.xaRollback(xid(7));
    // Returned with the delivery it had when acked counted in.
    expect(q.last).toMatchObject({ redelivered: true, deliveryCount: 3 });
    expect(q.texts()).toEqual(['q2', 'q1']);
    expect(t.texts()).toEqual(['d1']);
  });
});
