/**
 * XA two-phase commit in the core: the resource-manager side of X/Open XA ("Distributed Transaction
 * Processing: The XA Specification", C193, 1991; cited as [XA §n]) as JTA's XAResource exposes it.
 *
 * A branch (one Xid) is a Transaction (transaction.ts: buffered sends, recorded acks) plus XA state:
 *
 *   - associations: the connections currently working in it, each through one txId of its own (the
 *     "thread of control" of [XA §2.2.3]; here a connection + txId). An association is active or
 *     suspended (TMSUSPEND). While active, send/ack/nack with that txId join the branch.
 *   - rollback-only: set by xaEnd(TMFAIL); prepare or one-phase commit then roll back (XA_RBROLLBACK).
 *   - prepared: after xaPrepare. A prepared branch belongs to the broker, not to a connection
 *     [XA §2.3.2: "the RM must be able to commit or roll back ... even after a failure"]: its store record
 *     (`xa-prepare`) is durable before xaPrepare resolves, closing the connection does not touch it, a
 *     restart re-creates it (restore), and any connection may commit or roll it back.
 *
 * State table, as enforced ([XA §6, table 6-4] restricted to what JTA uses; no heuristics):
 *
 *   call                  allowed when                                    otherwise
 *   start(TMNOFLAGS)      xid unknown                                     XA_DUPID
 *   start(TMJOIN)         known, not prepared, not associated with conn   XA_NOTA / XA_PROTO
 *   start(TMRESUME)       conn's association is suspended                 XA_NOTA / XA_PROTO
 *   end(TMSUCCESS|TMFAIL) conn is associated (active or suspended)        XA_NOTA / XA_PROTO
 *   end(TMSUSPEND)        conn's association is active                    XA_PROTO
 *   prepare               no association, not prepared                    XA_NOTA / XA_PROTO
 *   commit(onePhase)      no association, not prepared                    XA_PROTO
 *   commit(twoPhase)      prepared                                        XA_PROTO
 *   rollback              no active association (suspended ones end)      XA_PROTO
 *
 * A rollback-only branch answers prepare and one-phase commit with XA_RBROLLBACK after rolling back,
 * and start(TMJOIN/TMRESUME) with XA_RBROLLBACK ([XA §6: xa_start returns XA_RB* for such a branch]).
 * A branch that did nothing prepares as 'readonly' and is forgotten at once [XA §2.3.2, XA_RDONLY].
 * A branch that is not prepared is rolled back when any connection that worked in it closes.
 *
 * Locking. An ack inside a branch takes the message out of its subscription's credit at once but leaves
 * it in flight in its queue until the branch ends, so nobody else receives it; commit dequeues it,
 * rollback returns it for redelivery. Sends are held in the branch and routed only on commit. Commit
 * runs in one synchronous turn, so `xa-forget` and the commit's enqueues and dequeues form one store
 * batch: after a crash the branch is either still prepared or wholly applied.
 *
 * Operators. A prepared branch whose coordinator never comes back holds its locks forever, so an
 * operator may list prepared branches (`preparedBranches`) and resolve one (`resolvePrepared`) through
 * the very commit/rollback paths above. That is a heuristic decision [XA §2.3.3]; this broker does not
 * record it (no heuristic outcomes, no xa_forget): the coordinator later gets XA_NOTA for the xid.
 */
import { BlazeError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { type Address, isTemporaryKind, parseAddress } from './address.js';
import type { Xid } from './api.js';
import type { QueueEntry } from './entry-list.js';
import type { Message } from './message.js';
import { Queue } from './queue.js';
import type { Clock } from './scheduler.js';
import { type PreparedBranch, xidKey } from './store.js';
import { RESOLVED } from './store-writer.js';
import { TopicSubscriber } from './topic-subscriber.js';
import { type CommitContext, commitTransaction, Transaction } from './transaction.js';

/** XA flag values (xa.h; JTA XAResource constants). */
export const XA_FLAGS = {
  TMNOFLAGS: 0,
  TMJOIN: 0x00200000,
  TMRESUME: 0x08000000,
  TMSUCCESS: 0x04000000,
  TMFAIL: 0x20000000,
  TMSUSPEND: 0x02000000,
  TMONEPHASE: 0x40000000,
} as const;

/** [XA §4.2] MAXGTRIDSIZE and MAXBQUALSIZE. */
export const MAX_XID_PART = 64;

/** What the registry needs from the broker. */
interface XaContext extends CommitContext {
  readonly log: Logger;
  /** Stamps `preparedAt` (operators judge how long a branch has been in doubt). */
  readonly clock: Clock;
}

/** Most addresses listed per branch in `PreparedBranchInfo`; the rest are only counted. */
export const MAX_LISTED_ADDRESSES = 20;

/** An operator's view of one prepared (in-doubt) branch. */
export interface PreparedBranchInfo {
  /** The registry's key for the branch (`formatId:globalIdHex:branchIdHex`): what `resolvePrepared` takes. */
  readonly xidKey: string;
  readonly xid: { readonly formatId: number; readonly globalId: string; readonly branchId: string };
  /**
   * Epoch ms of the prepare, by the core's clock; for a branch re-created from the store at start-up
   * (`recovered`), the time of that recovery: the prepare record carries no time.
   */
  readonly preparedAt: number;
  readonly recovered: boolean;
  /** Messages the branch sends on commit. */
  readonly sends: number;
  /** Messages the branch acknowledged: held in flight, delivered to nobody, until it ends. */
  readonly acks: number;
  /** Send targets and acknowledged queues, de-duplicated, at most MAX_LISTED_ADDRESSES. */
  readonly addresses: readonly string[];
  /** How many more distinct addresses there are beyond `addresses`. */
  readonly moreAddresses: number;
}

interface Association {
  txId: string;
  suspended: boolean;
}

class Branch {
  readonly associations = new Map<string, Association>();
  /** Connections that worked in the branch; closing one rolls back a branch that is not prepared. */
  readonly workers = new Set<string>();
  rollbackOnly = false;
  prepared = false;
  /** Epoch ms of the prepare (or of the restore, when `recovered`). */
  preparedAt = 0;
  recovered = false;

  constructor(
    readonly key: string,
    readonly xid: Xid,
    readonly tx: Transaction,
  ) {}

  get activeAssociations(): number {
    let n = 0;
    for (const a of this.associations.values()) if (!a.suspended) n++;
    return n;
  }
}

export { xidKey };

export function formatXid(xid: Xid): string {
  return `xid(${xidKey(xid)})`;
}

/** Refuses what XA calls an invalid argument (XAER_INVAL): the core reports it as BAD_REQUEST. */
export function checkXid(xid: Xid): void {
  if (typeof xid !== 'object' || xid === null) throw new BlazeError('BAD_REQUEST', 'missing xid');
  const { formatId, globalId, branchId } = xid;
  // -1 is the null XID [XA §4.2]; format ids are C longs in xa.h, JTA ints.
  if (!Number.isInteger(formatId) || formatId === -1 || formatId < -(2 ** 31) || formatId >= 2 ** 31) {
    throw new BlazeError('BAD_REQUEST', `invalid xid format id ${formatId}`);
  }
  if (!(globalId instanceof Uint8Array) || globalId.length < 1 || globalId.length > MAX_XID_PART) {
    throw new BlazeError('BAD_REQUEST', `xid global id must be 1..${MAX_XID_PART} bytes`);
  }
  if (!(branchId instanceof Uint8Array) || branchId.length > MAX_XID_PART) {
    throw new BlazeError('BAD_REQUEST', `xid branch qualifier must be 0..${MAX_XID_PART} bytes`);
  }
}

function copyXid(xid: Xid): Xid {
  return { formatId: xid.formatId, globalId: xid.globalId.slice(), branchId: xid.branchId.slice() };
}

function nota(xid: Xid): BlazeError {
  return new BlazeError('XA_NOTA', `unknown XA branch ${formatXid(xid)}`);
}

function proto(b: Branch, what: string): BlazeError {
  return new BlazeError('XA_PROTO', `${what} (${formatXid(b.xid)})`);
}

function rolledBack(b: Branch): BlazeError {
  return new BlazeError('XA_RBROLLBACK', `XA branch ${formatXid(b.xid)} was rolled back (rollback-only)`);
}

function rejected<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * What a branch commits, as stored: persistent sends to non-temporary destinations, and acks of
 * stored queue messages. Non-persistent sends, acks of non-durable topic deliveries and nacks are kept
 * in memory only: a crash may lose them, as it may lose any non-persistent message (JMS 4.7), and a
 * nacked message is redeliverable after a restart anyway.
 */
export function preparedRecord(xid: Xid, tx: Transaction): PreparedBranch {
  const sends: { address: string; message: Message }[] = [];
  for (const s of tx.sends) {
    if (s.message.persistent && !isTemporaryKind(s.target.kind)) {
      sends.push({ address: s.target.canonical, message: s.message });
    }
  }
  const acks: { queue: string; messageId: string }[] = [];
  for (const s of tx.settlements) {
    if (s.nack || !(s.settler instanceof Queue) || !s.settler.stored) continue;
    const entry = s.item as QueueEntry;
    if (entry.stored) acks.push({ queue: s.settler.key, messageId: entry.message.id });
  }
  return { xid, sends, acks };
}

/** Every XA branch of one broker, keyed by xid; connections reach it through their txIds. */
export class XaRegistry {
  private readonly branches = new Map<string, Branch>();
  /** connection id -> txId -> branch, for active associations only. */
  private readonly bound = new Map<string, Map<string, Branch>>();
  /** connection id -> branches it worked in that are not prepared. */
  private readonly work = new Map<string, Set<Branch>>();

  constructor(private readonly ctx: XaContext) {}

  /** The transaction of the branch bound to `txId` on the connection (send/ack/nack join it). */
  boundTransaction(connection: string, txId: string): Transaction | undefined {
    return this.bound.get(connection)?.get(txId)?.tx;
  }

  start(connection: string, xid: Xid, txId: string, flags: number = XA_FLAGS.TMNOFLAGS): void {
    checkXid(xid);
    const key = xidKey(xid);
    let b = this.branches.get(key);
    // Checked after the xid's own state below, but before anything changes.
    const txIdTaken = this.bound.get(connection)?.has(txId) === true;
    const taken = () =>
      new BlazeError('XA_PROTO', `transaction id '${txId}' is already bound to an XA branch`);
    switch (flags) {
      case XA_FLAGS.TMNOFLAGS:
        if (b !== undefined) throw new BlazeError('XA_DUPID', `XA branch ${formatXid(xid)} already exists`);
        if (txIdTaken) throw taken();
        b = new Branch(key, copyXid(xid), new Transaction(`xa:${key}`));
        this.branches.set(key, b);
        break;
      case XA_FLAGS.TMJOIN:
        if (b === undefined) throw nota(xid);
        if (b.prepared) throw proto(b, 'cannot join a prepared branch');
        if (b.associations.has(connection)) throw proto(b, 'connection already associated with the branch');
        if (b.rollbackOnly) throw rolledBack(b);
        break;
      case XA_FLAGS.TMRESUME: {
        if (b === undefined) throw nota(xid);
        if (b.associations.get(connection)?.suspended !== true) {
          throw proto(b, 'TMRESUME needs a branch this connection suspended');
        }
        if (b.rollbackOnly) throw rolledBack(b);
        break;
      }
      default:
        throw new BlazeError('BAD_REQUEST', `invalid xaStart flags 0x${flags.toString(16)}`);
    }
    if (txIdTaken) throw taken();
    b.associations.set(connection, { txId, suspended: false });
    this.bind(connection, txId, b);
    if (!b.workers.has(connection)) {
      b.workers.add(connection);
      let set = this.work.get(connection);
      if (set === undefined) {
        set = new Set();
        this.work.set(connection, set);
      }
      set.add(b);
    }
  }

  end(connection: string, xid: Xid, flags: number = XA_FLAGS.TMSUCCESS): void {
    checkXid(xid);
    const b = this.branches.get(xidKey(xid));
    if (b === undefined) throw nota(xid);
    const a = b.associations.get(connection);
    if (a === undefined) throw proto(b, 'connection is not associated with the branch');
    switch (flags) {
      case XA_FLAGS.TMSUSPEND:
        if (a.suspended) throw proto(b, 'branch already suspended');
        a.suspended = true;
        this.unbind(connection, a.txId);
        return;
      case XA_FLAGS.TMSUCCESS:
      case XA_FLAGS.TMFAIL:
        if (!a.suspended) this.unbind(connection, a.txId);
        b.associations.delete(connection);
        if (flags === XA_FLAGS.TMFAIL) b.rollbackOnly = true;
        return;
      default:
        throw new BlazeError('BAD_REQUEST', `invalid xaEnd flags 0x${flags.toString(16)}`);
    }
  }

  prepare(xid: Xid): Promise<'prepared' | 'readonly'> {
    return rejected(() => {
      const b = this.branch(xid);
      if (b.prepared) throw proto(b, 'branch already prepared');
      if (b.associations.size > 0) throw proto(b, 'branch still associated: xaEnd first');
      if (b.rollbackOnly) {
        this.discard(b);
        throw rolledBack(b);
      }
      const tx = b.tx;
      if (tx.sends.length === 0 && tx.settlements.length === 0) {
        this.remove(b);
        return Promise.resolve('readonly' as const);
      }
      b.prepared = true;
      b.preparedAt = this.ctx.clock.now();
      // From here the branch survives its connections.
      this.unwork(b);
      const writer = this.ctx.writer;
      if (writer === undefined) return Promise.resolve('prepared' as const);
      writer.add({ type: 'xa-prepare', ...preparedRecord(b.xid, tx) });
      return writer.durable().then(() => 'prepared' as const);
    });
  }

  commit(xid: Xid, onePhase: boolean): Promise<void> {
    return rejected(() => {
      const b = this.branch(xid);
      if (b.associations.size > 0) throw proto(b, 'branch still associated: xaEnd first');
      if (onePhase) {
        if (b.prepared) throw proto(b, 'one-phase commit of a prepared branch');
        if (b.rollbackOnly) {
          this.discard(b);
          throw rolledBack(b);
        }
      } else if (!b.prepared) {
        throw proto(b, 'two-phase commit of a branch that is not prepared');
      }
      this.remove(b);
      // Same synchronous turn as the commit's enqueues and dequeues: one atomic store batch.
      if (b.prepared) this.ctx.writer?.add({ type: 'xa-forget', xid: b.xid });
      return commitTransaction(this.ctx, b.tx);
    });
  }

  rollback(xid: Xid): Promise<void> {
    return rejected(() => {
      const b = this.branch(xid);
      if (b.activeAssociations > 0) throw proto(b, 'branch still active: xaEnd first');
      this.remove(b);
      if (b.prepared) this.ctx.writer?.add({ type: 'xa-forget', xid: b.xid });
      b.tx.returnSettlements();
      return this.ctx.writer?.durable() ?? RESOLVED;
    });
  }

  /** [XA xa_recover] Prepared branches; copies, so callers cannot alter the registry's ids. */
  recover(): Xid[] {
    const out: Xid[] = [];
    for (const b of this.branches.values()) if (b.prepared) out.push(copyXid(b.xid));
    return out;
  }

  /** Operator view of every prepared branch, longest in doubt first. */
  preparedBranches(): PreparedBranchInfo[] {
    const out: PreparedBranchInfo[] = [];
    for (const b of this.branches.values()) if (b.prepared) out.push(branchInfo(b));
    return out.sort((a, b) => a.preparedAt - b.preparedAt);
  }

  /** How many branches are prepared and when the oldest was (undefined when none); O(branches). */
  preparedSummary(): { count: number; oldestPreparedAt: number | undefined } {
    let count = 0;
    let oldest: number | undefined;
    for (const b of this.branches.values()) {
      if (!b.prepared) continue;
      count++;
      if (oldest === undefined || b.preparedAt < oldest) oldest = b.preparedAt;
    }
    return { count, oldestPreparedAt: oldest };
  }

  /**
   * An operator's heuristic decision [XA §2.3.3] on a prepared branch, by its key: the same commit or
   * rollback (same store records, same atomicity) a coordinator would get. Rejects NOT_FOUND for an
   * unknown key and for a branch that is not prepared: that one is still its connection's to finish
   * (and is rolled back when that connection closes), so an operator has nothing to resolve.
   */
  resolvePrepared(key: string, outcome: 'commit' | 'rollback'): Promise<void> {
    return rejected(() => {
      if (outcome !== 'commit' && outcome !== 'rollback') {
        throw new BlazeError(
          'BAD_REQUEST',
          `outcome must be 'commit' or 'rollback', not '${String(outcome)}'`,
        );
      }
      const b = this.branches.get(key.toLowerCase());
      if (b === undefined) throw new BlazeError('NOT_FOUND', `no XA branch xid(${key.slice(0, 300)})`);
      if (!b.prepared) {
        throw new BlazeError(
          'NOT_FOUND',
          `XA branch ${formatXid(b.xid)} is not prepared: it belongs to the connection working in it ` +
            '(which commits or rolls it back, or rolls it back by closing), not to an operator',
        );
      }
      return outcome === 'commit' ? this.commit(b.xid, false) : this.rollback(b.xid);
    });
  }

  /** The connection is gone: its associations end and branches it worked in roll back unless prepared. */
  connectionClosed(connection: string): void {
    this.bound.delete(connection);
    // Associations exist only on branches not prepared, all of which are in `work`.
    const mine = this.work.get(connection);
    this.work.delete(connection);
    if (mine === undefined) return;
    for (const b of mine) {
      b.associations.delete(connection);
      if (b.prepared || this.branches.get(b.key) !== b) continue;
      this.ctx.log.debug({ xid: b.key, connection }, 'XA branch rolled back: its connection closed');
      this.discard(b);
    }
  }

  /**
   * Re-creates prepared branches read back from the store, after the queues were recovered and before
   * any consumer exists: the messages they acked are taken out of their queues' pending lists and held
   * in flight (locked), their sends wait for commit.
   */
  restore(prepared: readonly PreparedBranch[], storedQueue: (key: string) => Queue | undefined): void {
    if (prepared.length === 0) return;
    // One walk per queue finds every locked entry.
    const wanted = new Map<string, Map<string, QueueEntry | undefined>>();
    for (const p of prepared) {
      for (const a of p.acks) {
        let ids = wanted.get(a.queue);
        if (ids === undefined) {
          ids = new Map();
          wanted.set(a.queue, ids);
        }
        ids.set(a.messageId, undefined);
      }
    }
    const queues = new Map<string, Queue>();
    const now = this.ctx.clock.now();
    for (const [key, ids] of wanted) {
      const q = storedQueue(key);
      if (q === undefined) continue;
      queues.set(key, q);
      for (const e of q.pending) if (ids.has(e.message.id)) ids.set(e.message.id, e);
    }
    for (const p of prepared) {
      const key = xidKey(p.xid);
      if (this.branches.has(key)) {
        this.ctx.log.warn({ xid: key }, 'prepared XA branch recovered twice; the first copy is kept');
        continue;
      }
      const tx = new Transaction(`xa:${key}`);
      for (const s of p.sends) {
        let target: Address;
        try {
          target = parseAddress(s.address);
        } catch (err) {
          this.ctx.log.error({ err, xid: key, address: s.address }, 'prepared XA send has a bad address');
          continue;
        }
        tx.sends.push({ target, message: s.message });
      }
      for (const a of p.acks) {
        const q = queues.get(a.queue);
        const e = wanted.get(a.queue)?.get(a.messageId);
        if (q === undefined || e === undefined || !e.linked) {
          this.ctx.log.warn(
            { xid: key, queue: a.queue, id: a.messageId },
            'message acked by a prepared XA branch not found',
          );
          continue;
        }
        // In flight, as it was when the branch acked it: delivered to nobody until commit or rollback.
        q.pending.remove(e);
        q.inFlight++;
        e.deliveryCount++;
        tx.settle(q, e, false);
      }
      const b = new Branch(key, copyXid(p.xid), tx);
      b.prepared = true;
      // The record has no time: the restore is the earliest moment this process knows of.
      b.preparedAt = now;
      b.recovered = true;
      this.branches.set(key, b);
    }
    this.ctx.log.info({ prepared: prepared.length }, 'prepared XA branches recovered');
  }

  private branch(xid: Xid): Branch {
    checkXid(xid);
    const b = this.branches.get(xidKey(xid));
    if (b === undefined) throw nota(xid);
    return b;
  }

  private bind(connection: string, txId: string, b: Branch): void {
    let m = this.bound.get(connection);
    if (m === undefined) {
      m = new Map();
      this.bound.set(connection, m);
    }
    m.set(txId, b);
  }

  private unbind(connection: string, txId: string): void {
    const m = this.bound.get(connection);
    if (m === undefined) return;
    m.delete(txId);
    if (m.size === 0) this.bound.delete(connection);
  }

  private unwork(b: Branch): void {
    for (const c of b.workers) {
      const set = this.work.get(c);
      set?.delete(b);
      if (set?.size === 0) this.work.delete(c);
    }
    b.workers.clear();
  }

  /** Forgets the branch (its outcome is being applied by the caller). */
  private remove(b: Branch): void {
    this.branches.delete(b.key);
    for (const [c, a] of b.associations) if (!a.suspended) this.unbind(c, a.txId);
    b.associations.clear();
    this.unwork(b);
  }

  /** Rolls back a branch that was never prepared (rollback-only, or its connection closed). */
  private discard(b: Branch): void {
    this.remove(b);
    b.tx.returnSettlements();
  }
}

/** Counts and de-duplicated addresses of a prepared branch (acks of topic subscribers name the topic). */
function branchInfo(b: Branch): PreparedBranchInfo {
  const seen = new Set<string>();
  for (const s of b.tx.sends) seen.add(s.target.canonical);
  let acks = 0;
  for (const s of b.tx.settlements) {
    if (s.nack) continue;
    acks++;
    const settler = s.settler;
    if (settler instanceof Queue) seen.add(settler.key);
    else if (settler instanceof TopicSubscriber) seen.add(settler.options.address);
  }
  const all = [...seen];
  // The key is `formatId:globalHex:branchHex` (store.ts xidKey), the hex an operator needs.
  const [, globalId = '', branchId = ''] = b.key.split(':');
  return {
    xidKey: b.key,
    xid: { formatId: b.xid.formatId, globalId, branchId },
    preparedAt: b.preparedAt,
    recovered: b.recovered,
    sends: b.tx.sends.length,
    acks,
    addresses: all.slice(0, MAX_LISTED_ADDRESSES),
    moreAddresses: Math.max(0, all.length - MAX_LISTED_ADDRESSES),
  };
}
