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
 */
import type { KeyValueNamespace } from '../../core/kv.js';
import { flushAfterTurn, inInputTurn, type TurnOutput } from '../../util/input-turn.js';
import type { Timers } from '../../util/timers.js';

interface Entry {
  sequence: number;
  lastUsed: number;
  /** Must be written to the store at the end of this turn. */
  dirty: boolean;
}

export class ProducerRegistry implements TurnOutput {
  private readonly entries = new Map<string, Entry>();
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

  /** Records `sequence` as accepted; `durable` when the message went to the store. */
  accept(producerId: string, sequence: number, durable: boolean): void {
    const now = this.timers.now();
    let e = this.entries.get(producerId);
    if (e === undefined) {
      e = { sequence, lastUsed: now, dirty: false };
      this.entries.set(producerId, e);
      this.evict(now);
    } else {
      // Re-inserted: Map order is least-recently-used first.
      this.entries.delete(producerId);
      this.entries.set(producerId, e);
      if (sequence > e.sequence) e.sequence = sequence;
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

  /** Writes this turn's records; they join the store batch of the turn's messages. */
  flushTurn(): void {
    this.queued = false;
    for (const id of this.dirty) {
      const e = this.entries.get(id);
      if (e === undefined) continue;
      e.dirty = false;
      this.kv!.put(id, encodeRecord(e.sequence, e.lastUsed));
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

function encodeRecord(sequence: number, lastUsed: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setFloat64(0, sequence, true);
  view.setFloat64(8, lastUsed, true);
  return out;
}

function decodeRecord(bytes: Uint8Array): { sequence: number; lastUsed: number } | undefined {
  if (bytes.length !== 16) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  return { sequence: view.getFloat64(0, true), lastUsed: view.getFloat64(8, true) };
}
