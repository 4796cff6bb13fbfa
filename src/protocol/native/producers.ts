/**
 * Duplicate detection across reconnects and failover (native.proto `Send.producer_id`/`sequence`): the
 * highest sequence accepted per producer id. Shared by every session of the listener(s), because a
 * failover client comes back on a new connection.
 *
 * Durability: the record of a producer is written to the core's key/value store in the same store batch
 * as the messages it covers (core/kv.ts), so after a crash either both the message and "sequence n
 * accepted" are there, or neither is, and a resend is routed exactly once. Records are written once per
 * producer per input turn, not per message (the batch flushes on a microtask, after the turn).
 *
 * Bounded: at most `maxProducers` ids (least recently used forgotten first) and none idle longer than
 * `producerIdleMs`; a forgotten producer's next message is simply accepted.
 *
 * Transactions (local and XA): a sequence sent inside a transaction is only *held* by it. It is checked
 * against the committed high-water mark when sent (a duplicate is dropped), but the mark moves only when
 * the transaction commits, and the record is written in the commit's own synchronous turn, so it lands in
 * the commit's store batch: committed messages and "sequence n accepted" are durable together. A rollback
 * drops what the transaction held, so its messages can be sent again. A sequence held by another
 * unfinished transaction is refused with CONFLICT (the outcome of that transaction is not known yet).
 * An XA branch's held sequences are written with its prepare (key prefix `PREPARED_PREFIX`) and read back
 * at start-up, so a branch prepared before a restart still moves the mark when it commits.
 *
 * Message ids (native.proto version 2, `want_ids`): a duplicate is answered with the id of its first send.
 * The id of each producer's highest sequence is part of its record (so it survives a restart with it);
 * ids of other recent sends are kept in memory, bounded (recent-ids.ts).
 */
import type { KeyValueNamespace } from '../../core/kv.js';
import { BlazeError } from '../../util/errors.js';
import { flushAfterTurn, inInputTurn, type TurnOutput } from '../../util/input-turn.js';
import type { Timers } from '../../util/timers.js';
import { RecentIds } from './recent-ids.js';
import { XaMirror } from './xa-mirror.js';

interface Entry {
  sequence: number;
  lastUsed: number;
  /** Message id given to `sequence` when its send asked for it, else ''. */
  id: string;
  /** Must be written to the store at the end of this turn. */
  dirty: boolean;
}

/** Record keys of prepared XA branches' held sequences; producer ids are the other keys. */
export const PREPARED_PREFIX = '\u0000prepared:';

/** Sequences held by one unfinished transaction: producer id -> highest sequence. */
type Held = Map<string, number>;

export class ProducerRegistry implements TurnOutput {
  private readonly entries = new Map<string, Entry>();
  /** Unfinished transactions by key (`txKey`): what each holds, and whether it is prepared. */
  private readonly held = new Map<string, { sequences: Held; prepared: boolean }>();
  /** XA branch states the transaction handlers follow to predict one-phase commits (xa-mirror.ts). */
  readonly xa = new XaMirror();
  /** Ids of recent sends that asked for them, for duplicates below the high-water mark. */
  readonly recentIds = new RecentIds();
  private readonly dirty: string[] = [];
  private queued = false;

  constructor(
    private readonly kv: KeyValueNamespace | undefined,
    private readonly timers: Timers,
    private readonly maxProducers: number,
    private readonly idleMs: number,
  ) {
    if (kv === undefined) return;
    const now = timers.now();
    for (const [key, value] of kv.takeRecovered()) {
      if (key.startsWith(PREPARED_PREFIX)) {
        const sequences = decodeHeld(value);
        if (sequences === undefined) kv.delete(key);
        else this.held.set(key.slice(PREPARED_PREFIX.length), { sequences, prepared: true });
        continue;
      }
      const decoded = decodeRecord(value);
      if (decoded === undefined || now - decoded.lastUsed > idleMs) kv.delete(key);
      else this.entries.set(key, { ...decoded, dirty: false });
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** True when `sequence` of `producerId` was accepted before (it must not be routed again). */
  isDuplicate(producerId: string, sequence: number): boolean {
    const e = this.entries.get(producerId);
    return e !== undefined && sequence <= e.sequence;
  }

  /**
   * Records `sequence` as accepted; `durable` when the message went to the store; `id` the message id
   * when the send asked for it (kept with the record while `sequence` is the highest).
   */
  accept(producerId: string, sequence: number, durable: boolean, id = ''): void {
    const now = this.timers.now();
    let e = this.entries.get(producerId);
    if (e === undefined) {
      e = { sequence, lastUsed: now, id, dirty: false };
      this.entries.set(producerId, e);
      this.evict(now);
    } else {
      // Re-inserted: Map order is least-recently-used first.
      this.entries.delete(producerId);
      this.entries.set(producerId, e);
      if (sequence > e.sequence) {
        e.sequence = sequence;
        e.id = id;
      }
      e.lastUsed = now;
    }
    if (!durable || this.kv === undefined || e.dirty) return;
    e.dirty = true;
    this.dirty.push(producerId);
    if (!inInputTurn()) this.flushTurn();
    else if (!this.queued) {
      this.queued = true;
      flushAfterTurn(this);
    }
  }

  // ---- transactions ----------------------------------------------------------------------------------

  /**
   * A send of `sequence` inside transaction `txKey`: true when it must be dropped as a duplicate (the
   * sequence was committed, or this transaction holds it already). CONFLICT when another unfinished
   * transaction holds it.
   */
  isDuplicateInTransaction(txKey: string, producerId: string, sequence: number): boolean {
    if (this.isDuplicate(producerId, sequence)) return true;
    const mine = this.held.get(txKey)?.sequences.get(producerId);
    if (mine !== undefined && sequence <= mine) return true;
    for (const [key, other] of this.held) {
      const theirs = other.sequences.get(producerId);
      if (key !== txKey && theirs !== undefined && sequence <= theirs) {
        throw new BlazeError(
          'CONFLICT',
          `sequence ${sequence} of producer ${producerId} is held by an unfinished transaction`,
        );
      }
    }
    return false;
  }

  /** The transaction's send of `sequence` was accepted by the core: the transaction holds it now. */
  holdInTransaction(txKey: string, producerId: string, sequence: number): void {
    let tx = this.held.get(txKey);
    if (tx === undefined) {
      tx = { sequences: new Map(), prepared: false };
      this.held.set(txKey, tx);
    }
    const mine = tx.sequences.get(producerId);
    if (mine === undefined || sequence > mine) tx.sequences.set(producerId, sequence);
  }

  /** True when transaction `txKey` holds any sequence. */
  holds(txKey: string): boolean {
    return this.held.has(txKey);
  }

  /** True when `txKey` holds sequences and they were written with its prepare. */
  isPrepared(txKey: string): boolean {
    return this.held.get(txKey)?.prepared === true;
  }

  /** Call in the turn that prepares the XA branch: its held sequences join the prepare's store batch. */
  prepareTransaction(txKey: string): void {
    const tx = this.held.get(txKey);
    if (tx === undefined || tx.prepared) return;
    tx.prepared = true;
    this.kv?.put(PREPARED_PREFIX + txKey, encodeHeld(tx.sequences));
  }

  /**
   * Call in the turn that commits the transaction: the held sequences become the high-water marks, and
   * their records join the commit's store batch (so they are durable exactly when the commit is).
   */
  commitTransaction(txKey: string): void {
    const tx = this.held.get(txKey);
    if (tx === undefined) return;
    this.held.delete(txKey);
    if (tx.prepared) this.kv?.delete(PREPARED_PREFIX + txKey);
    for (const [producerId, sequence] of tx.sequences) {
      this.accept(producerId, sequence, true, this.recentIds.get(producerId, sequence) ?? '');
    }
    // Written now rather than at the end of the input turn: a commit can complete outside one.
    this.flushTurn();
  }

  /** The transaction rolled back: what it held can be sent again. */
  abortTransaction(txKey: string): void {
    const tx = this.held.get(txKey);
    if (tx === undefined) return;
    this.held.delete(txKey);
    if (tx.prepared) this.kv?.delete(PREPARED_PREFIX + txKey);
  }

  /** A send of (producerId, sequence) that asked for ids was given `id`. */
  rememberId(producerId: string, sequence: number, id: string): void {
    this.recentIds.remember(producerId, sequence, id);
  }

  /** The id the first send of (producerId, sequence) was given, '' when not known (any more). */
  idOf(producerId: string, sequence: number): string {
    const recent = this.recentIds.get(producerId, sequence);
    if (recent !== undefined) return recent;
    const e = this.entries.get(producerId);
    return e !== undefined && e.sequence === sequence ? e.id : '';
  }

  /** Writes this turn's records; they join the store batch of the turn's messages. */
  flushTurn(): void {
    this.queued = false;
    for (const id of this.dirty) {
      const e = this.entries.get(id);
      if (e === undefined) continue;
      e.dirty = false;
      this.kv!.put(id, encodeRecord(e.sequence, e.lastUsed, e.id));
    }
    this.dirty.length = 0;
  }

  private evict(now: number): void {
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.maxProducers && now - e.lastUsed <= this.idleMs) break;
      this.entries.delete(id);
      this.kv?.delete(id);
    }
  }
}

/**
 * A producer's record: sequence (float64 LE), last used (float64 LE), then the UTF-8 message id of that
 * sequence when known. Records of 16 bytes (no id, or written before ids were kept) stay valid.
 */
export function encodeRecord(sequence: number, lastUsed: number, id = ''): Uint8Array {
  const idBytes = id === '' ? undefined : new TextEncoder().encode(id);
  const out = new Uint8Array(16 + (idBytes?.length ?? 0));
  const view = new DataView(out.buffer);
  view.setFloat64(0, sequence, true);
  view.setFloat64(8, lastUsed, true);
  if (idBytes !== undefined) out.set(idBytes, 16);
  return out;
}

export function decodeRecord(
  bytes: Uint8Array,
): { sequence: number; lastUsed: number; id: string } | undefined {
  if (bytes.length < 16) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const id = bytes.length === 16 ? '' : new TextDecoder().decode(bytes.subarray(16));
  return { sequence: view.getFloat64(0, true), lastUsed: view.getFloat64(8, true), id };
}

/** Held sequences of a prepared branch: JSON [[producerId, sequence], ...] (small, written rarely). */
function encodeHeld(sequences: Held): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([...sequences]));
}

function decodeHeld(bytes: Uint8Array): Held | undefined {
  try {
    const pairs: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (!Array.isArray(pairs)) return undefined;
    const out: Held = new Map();
    for (const p of pairs) {
      if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'number') return undefined;
      out.set(p[0], p[1]);
    }
    return out;
  } catch {
    return undefined;
  }
}
