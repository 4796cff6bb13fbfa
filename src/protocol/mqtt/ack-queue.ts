/**
 * Acknowledgements of incoming PUBLISHes, written in the order the PUBLISHes arrived: [MQTT-4.6.0-2]
 * (PUBACK) and [MQTT-4.6.0-3] (PUBREC) require it, while the core answers a persistent send only once
 * the store has it and a refused send at once. An ack the core gave synchronously (the shared ACCEPTED
 * promise) with nothing queued before it is written at once, without a microtask per message.
 */
import { ACCEPTED } from '../../core/index.js';

interface Entry {
  bytes: Uint8Array | null;
  done: boolean;
}

export interface AckSink {
  writeAck(bytes: Uint8Array): void;
  /** An entry completed (flow control may resume reading). */
  ackProgressed(): void;
}

export class AckQueue {
  private readonly entries: Entry[] = [];
  private head = 0;
  private stopped = false;

  constructor(private readonly sink: AckSink) {}

  get pending(): number {
    return this.entries.length - this.head;
  }

  /**
   * Queues the ack of an operation completing with `result`; `ok` / `failed` build its bytes then (null
   * writes nothing).
   */
  add(
    result: Promise<void>,
    ok: () => Uint8Array | null,
    failed: (error: unknown) => Uint8Array | null,
  ): void {
    if (result === ACCEPTED && this.pending === 0) {
      const bytes = ok();
      if (bytes !== null) this.sink.writeAck(bytes);
      return;
    }
    const entry: Entry = { bytes: null, done: false };
    this.entries.push(entry);
    result.then(
      () => this.complete(entry, ok),
      (e: unknown) => this.complete(entry, () => failed(e)),
    );
  }

  private complete(entry: Entry, build: () => Uint8Array | null): void {
    if (this.stopped) return;
    entry.bytes = build();
    entry.done = true;
    while (this.head < this.entries.length && this.entries[this.head]!.done) {
      const bytes = this.entries[this.head]!.bytes;
      this.entries[this.head++] = undefined as unknown as Entry;
      if (bytes !== null) this.sink.writeAck(bytes);
      if (this.stopped) return;
    }
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    }
    this.sink.ackProgressed();
  }

  /** The connection is gone: late completions write nothing. */
  stop(): void {
    this.stopped = true;
  }
}
