/**
 * The key/value operations of the group being filled, held until it is sealed (journal.ts `deferKv`).
 * A group is atomic (one record, one fdatasync), so only the last operation of a key in it matters,
 * and a put followed by its delete in the same group leaves nothing to write: after a crash the
 * journal would hold both or neither, and both read back as "no record". Operations are encoded only
 * when the group is sealed, so one that is cancelled costs no encoding.
 *
 * Nothing is allocated per group: the arrays keep their capacity from one group to the next, and the
 * key table is not emptied at each seal (entries carry a running number; those below `base` belong to
 * earlier groups). A Map and arrays made per group were young garbage that lived until the seal,
 * which is what V8's scavenges pay for (MQTT W3: one put and one delete per QoS 1 delivery).
 */
import type { ByteWriter } from './bytes.js';
import { encodeOp, type JournalOp } from './codec.js';

export type KvOp = Extract<JournalOp, { type: 'kv-put' | 'kv-delete' }>;

/** Keys remembered across groups (see `byKey`) before the table is started over. */
const MAX_REMEMBERED_KEYS = 8192;

export class PendingKv {
  // The group's operations in the order added (`n` in use), and whether each still counts.
  private n = 0;
  private readonly ops: Array<KvOp | undefined> = [];
  private readonly live: boolean[] = [];
  /**
   * namespace -> key -> running number of its latest operation; only numbers from `base` on belong to
   * this group. The same few keys come back group after group (MQTT reuses its packet ids), so keys
   * stay until the table grows past a bound.
   */
  private readonly byKey = new Map<string, Map<string, number>>();
  private base = 0;
  /** Operations that will never be written (replaced or cancelled within the group). */
  elided = 0;

  get size(): number {
    return this.n;
  }

  /** An operation of the group holds `key`: it replaces whatever record the key had before. */
  has(namespace: string, key: string): boolean {
    const e = this.byKey.get(namespace)?.get(key);
    return e !== undefined && e >= this.base;
  }

  /**
   * Adds `op`. `stored` tells whether an earlier group holds a record of the key: a delete of a key
   * that none does (only this group's put existed, if any) is not written.
   */
  add(op: KvOp, stored: boolean): void {
    let keys = this.byKey.get(op.namespace);
    if (keys === undefined) {
      keys = new Map();
      this.byKey.set(op.namespace, keys);
    }
    const e = keys.get(op.key);
    const before = e !== undefined && e >= this.base;
    if (before) {
      this.live[e - this.base] = false;
      this.elided++;
    }
    if (op.type === 'kv-delete' && !stored) {
      if (before) keys.delete(op.key);
      this.elided++;
      return;
    }
    const i = this.n++;
    keys.set(op.key, this.base + i);
    this.ops[i] = op;
    this.live[i] = true;
  }

  /**
   * Encodes the operations still live into `out`, in the order they were added, calling `written` for
   * each with its size; then starts over. Returns how many were written.
   */
  drain(out: ByteWriter, written: (op: KvOp, bytes: number) => void): number {
    let count = 0;
    for (let i = 0; i < this.n; i++) {
      if (!this.live[i]) continue;
      const op = this.ops[i]!;
      const start = out.pos;
      encodeOp(out, op);
      written(op, out.pos - start);
      count++;
    }
    this.clear();
    return count;
  }

  /** Forgets the group's operations (sealed, or the journal failed). */
  clear(): void {
    for (let i = 0; i < this.n; i++) this.ops[i] = undefined;
    this.base += this.n;
    this.n = 0;
    for (const keys of this.byKey.values()) if (keys.size > MAX_REMEMBERED_KEYS) keys.clear();
  }
}
