/**
 * Topic history for Server-Sent Events resume (HTML §9.2.4: a reconnecting EventSource sends the last
 * event id it saw as `Last-Event-ID`).
 *
 * A topic keeps nothing for absent subscribers, so the SSE endpoint keeps it: per streamed (topic address,
 * selector) one `HistoryRing` numbers the messages 1, 2, 3... and keeps the last `maxMessages` / `maxBytes`
 * of them. An event id is `<epoch>-<seq>`; the epoch (random, per ring) tells a resume against this ring
 * from one against a ring that no longer exists (expired, broker restarted), whose numbers mean nothing.
 *
 * `resumeFrom` answers where a reconnecting stream starts and how many messages it missed:
 *   - same epoch, seq still in the ring or just before it: replay what follows, nothing missed;
 *   - same epoch, older than the ring: `missed` = how many fell out of it, replay the whole ring;
 *   - another epoch, or a malformed id: missed is unknown (`null`), start from now.
 * Pure and clock-free, unit-tested.
 */
import { randomBytes } from 'node:crypto';
import type { Message } from '../../core/message.js';

/** Bytes counted per message beyond its body (ids, properties, bookkeeping): an estimate, to bound memory. */
const ENTRY_OVERHEAD = 256;

export interface ResumePoint {
  /** The stream continues after this sequence number. */
  after: number;
  /** Messages the client lost: 0, a count, or null when unknown. */
  missed: number | null;
}

export class HistoryRing {
  readonly epoch: string;
  private entries: Message[] = [];
  /** Index in `entries` of the oldest kept message (entries before it are dropped lazily). */
  private head = 0;
  /** Sequence number of entries[head]. */
  private firstSeq = 1;
  private bytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
    epoch?: string,
  ) {
    this.epoch = epoch ?? randomBytes(6).toString('base64url');
  }

  /** Sequence number of the newest message; 0 before the first. */
  get lastSeq(): number {
    return this.firstSeq + (this.entries.length - this.head) - 1;
  }

  /** Sequence number of the oldest message still kept (lastSeq + 1 when empty). */
  get oldestSeq(): number {
    return this.firstSeq;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  get byteSize(): number {
    return this.bytes;
  }

  idOf(seq: number): string {
    return `${this.epoch}-${seq}`;
  }

  /** Keeps `m` as the next sequence number (returned), dropping the oldest beyond the bounds. */
  append(m: Message): number {
    this.entries.push(m);
    this.bytes += m.body.byteLength + ENTRY_OVERHEAD;
    while (this.size > 0 && (this.size > this.maxMessages || this.bytes > this.maxBytes)) this.dropOldest();
    // Compact once the dropped prefix is the larger part, so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return this.lastSeq;
  }

  /** The message numbered `seq`, if still kept. */
  at(seq: number): Message | undefined {
    if (seq < this.firstSeq || seq > this.lastSeq) return undefined;
    return this.entries[this.head + (seq - this.firstSeq)];
  }

  resumeFrom(lastEventId: string | undefined): ResumePoint {
    if (lastEventId === undefined) return { after: this.lastSeq, missed: 0 };
    const m = /^([A-Za-z0-9_-]+)-(\d{1,15})$/.exec(lastEventId);
    if (!m || m[1] !== this.epoch) return { after: this.lastSeq, missed: null };
    const seq = Number(m[2]);
    // An id from the future was not issued by this ring: treat it as unknown.
    if (seq > this.lastSeq) return { after: this.lastSeq, missed: null };
    if (seq >= this.firstSeq - 1) return { after: seq, missed: 0 };
    return { after: this.firstSeq - 1, missed: this.firstSeq - 1 - seq };
  }

  private dropOldest(): void {
    const m = this.entries[this.head]!;
    this.entries[this.head] = undefined as unknown as Message;
    this.head++;
    this.firstSeq++;
    this.bytes -= m.body.byteLength + ENTRY_OVERHEAD;
  }
}
