/**
 * Rebuilds fragmented messages per (sender, msgId), in any arrival order. There is no timeout: the
 * reliability layer below guarantees that every fragment of a live sender arrives. Memory is still
 * bounded, because a sender may crash mid-message or misbehave: limits on message size, on partial
 * messages and on buffered bytes; past them the oldest partial message is evicted (and counted). Size
 * the limits so that honest traffic never reaches them, and call `dropSender` when a member leaves.
 */
import { decodeFragment, type Fragment } from './codec.js';

export interface ReassemblerOptions {
  /** Largest message accepted, in bytes; default 16 MiB. */
  maxMessageSize?: number;
  /** Partial messages kept at once, all senders together; default 1024. */
  maxPartialMessages?: number;
  /** Fragment bytes buffered at once; default 64 MiB, and at least maxMessageSize. */
  maxBufferedBytes?: number;
}

export interface ReassemblerStats {
  completed: number;
  /** Fragments refused: malformed, over maxMessageSize, or inconsistent with earlier fragments. */
  rejected: number;
  /** Fragments already held (the reliability layer should make this 0). */
  duplicates: number;
  /** Partial messages thrown away to stay within the limits. */
  evicted: number;
}

interface Partial {
  sender: string;
  count: number;
  totalSize: number;
  bytes: number;
  /** index -> data; a Map so that memory follows what arrived, not the count a fragment claims. */
  parts: Map<number, Uint8Array>;
}

export class Reassembler {
  readonly stats: ReassemblerStats = { completed: 0, rejected: 0, duplicates: 0, evicted: 0 };
  private readonly maxMessageSize: number;
  private readonly maxPartial: number;
  private readonly maxBuffered: number;
  /** Insertion order is age order, which is what eviction wants. */
  private readonly partials = new Map<string, Partial>();
  private buffered = 0;

  constructor(options: ReassemblerOptions = {}) {
    this.maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
    this.maxPartial = Math.max(1, options.maxPartialMessages ?? 1024);
    this.maxBuffered = Math.max(this.maxMessageSize, options.maxBufferedBytes ?? 64 * 1024 * 1024);
  }

  get partialCount(): number {
    return this.partials.size;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds an encoded fragment; returns the whole message once its last fragment is in. */
  add(sender: string, encoded: Uint8Array): Uint8Array | undefined {
    const f = decodeFragment(encoded);
    if (!f) {
      this.stats.rejected++;
      return undefined;
    }
    return this.addFragment(sender, f);
  }

  addFragment(sender: string, f: Fragment): Uint8Array | undefined {
    if (f.totalSize > this.maxMessageSize) {
      this.stats.rejected++;
      return undefined;
    }
    if (f.count === 1) {
      if (f.data.length !== f.totalSize) {
        this.stats.rejected++;
        return undefined;
      }
      this.stats.completed++;
      return f.data;
    }
    const key = `${sender}\u0000${f.msgId}`;
    let p = this.partials.get(key);
    if (!p) {
      p = { sender, count: f.count, totalSize: f.totalSize, bytes: 0, parts: new Map() };
      this.partials.set(key, p);
    } else if (p.count !== f.count || p.totalSize !== f.totalSize) {
      this.stats.rejected++;
      return undefined;
    }
    if (p.parts.has(f.index)) {
      this.stats.duplicates++;
      return undefined;
    }
    if (p.bytes + f.data.length > p.totalSize) {
      // More data than announced: the sender is broken; drop the whole message.
      this.stats.rejected++;
      this.remove(key, p);
      return undefined;
    }
    p.parts.set(f.index, f.data);
    p.bytes += f.data.length;
    this.buffered += f.data.length;

    if (p.parts.size === p.count) {
      this.remove(key, p);
      if (p.bytes !== p.totalSize) {
        this.stats.rejected++;
        return undefined;
      }
      const out = Buffer.allocUnsafe(p.totalSize); // fully overwritten: bytes === totalSize
      let pos = 0;
      for (let i = 0; i < p.count; i++) {
        const part = p.parts.get(i)!;
        out.set(part, pos);
        pos += part.length;
      }
      this.stats.completed++;
      return out;
    }
    this.enforceLimits(key);
    return undefined;
  }

  /** Forgets a departed member's partial messages (call on a view change). */
  dropSender(sender: string): void {
    for (const [key, p] of this.partials) if (p.sender === sender) this.remove(key, p);
  }

  private remove(key: string, p: Partial): void {
    this.partials.delete(key);
    this.buffered -= p.bytes;
  }

  /** Evicts oldest first; the message just added goes last, and only if it alone breaks a limit. */
  private enforceLimits(current: string): void {
    for (const [key, p] of this.partials) {
      if (this.partials.size <= this.maxPartial && this.buffered <= this.maxBuffered) return;
      if (key === current && this.partials.size > 1) continue;
      this.remove(key, p);
      this.stats.evicted++;
    }
  }
}
