/**
 * The broker as an XA resource (native.proto XaStart..XaRecovered), the building block for a transaction
 * manager: the application's own two-phase commit coordinator drives it. Branch work is bound to a local
 * `txId` by start(); sends and acks through a Transaction-like handle with that id join the branch.
 * Flags and outcomes follow X/Open XA: prepare() answers 'readonly' for XA_RDONLY.
 */
import { isClientError } from './codec/errors.js';
import type { DecodedFrame, Frame, WireXid } from './codec/frames.js';

export interface Xid {
  formatId: number;
  globalId: Uint8Array;
  branchId: Uint8Array;
}

export const XA_FLAGS = {
  TMNOFLAGS: 0,
  TMJOIN: 0x200000,
  TMRESUME: 0x8000000,
  TMSUCCESS: 0x4000000,
  TMFAIL: 0x20000000,
  TMSUSPEND: 0x2000000,
} as const;

const toWire = (x: Xid): WireXid => ({
  format_id: x.formatId,
  global_transaction_id: x.globalId,
  branch_qualifier: x.branchId,
});

const fromWire = (x: WireXid): Xid => ({
  formatId: x.format_id ?? 0,
  globalId: x.global_transaction_id ?? new Uint8Array(0),
  branchId: x.branch_qualifier ?? new Uint8Array(0),
});

type Requester = (build: (requestId: number) => Frame) => Promise<DecodedFrame>;

export class XaResource {
  constructor(private readonly request: Requester) {}

  async start(xid: Xid, txId: string, flags: number = XA_FLAGS.TMNOFLAGS): Promise<void> {
    await this.request((request_id) => ({ xa_start: { request_id, xid: toWire(xid), tx_id: txId, flags } }));
  }

  async end(xid: Xid, flags: number = XA_FLAGS.TMSUCCESS): Promise<void> {
    await this.request((request_id) => ({ xa_end: { request_id, xid: toWire(xid), flags } }));
  }

  /** 'prepared': durable at the broker until commit/rollback; 'readonly': nothing to commit, forgotten. */
  async prepare(xid: Xid): Promise<'prepared' | 'readonly'> {
    try {
      await this.request((request_id) => ({ xa_prepare: { request_id, xid: toWire(xid) } }));
      return 'prepared';
    } catch (e) {
      if (isClientError(e) && e.code === 'XA_RDONLY') return 'readonly';
      throw e;
    }
  }

  async commit(xid: Xid, onePhase = false): Promise<void> {
    await this.request((request_id) => ({
      xa_commit: { request_id, xid: toWire(xid), one_phase: onePhase },
    }));
  }

  async rollback(xid: Xid): Promise<void> {
    await this.request((request_id) => ({ xa_rollback: { request_id, xid: toWire(xid) } }));
  }

  /** Prepared branches at the broker (after a coordinator or broker crash). */
  async recover(): Promise<Xid[]> {
    const f = await this.request((request_id) => ({ xa_recover: { request_id } }));
    return ((f as { xa_recovered?: { xids?: WireXid[] } }).xa_recovered?.xids ?? []).map(fromWire);
  }
}
