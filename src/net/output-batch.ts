/**
 * What every Transport does to its output, whatever carries it (TCP socket, WebSocket): chunks written
 * during one event-loop turn are collected and handed over together from one `setImmediate` (one write per
 * turn, not one per frame: DEPENDENCIES.md), and `write` reports back-pressure against a high-water mark
 * with listeners told once output is back under a low-water mark.
 */

export class OutputBatch {
  private chunks: Uint8Array[] = [];
  /**
   * Bytes that continue the last chunk in the same memory (frames cut one after the other from one
   * slab) and are not in its view yet: the view over the whole run is made once, when the run ends.
   */
  private extended = 0;
  private scheduled = false;
  /** Bytes added and not yet taken. */
  bytes = 0;

  /** `flush` is called once per turn in which something was added; it calls `take()`. */
  constructor(private readonly flush: () => void) {}

  add(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    const n = this.chunks.length;
    const last = n > 0 ? this.chunks[n - 1]! : undefined;
    if (
      last !== undefined &&
      last.buffer === chunk.buffer &&
      last.byteOffset + last.byteLength + this.extended === chunk.byteOffset
    ) {
      // One view over the run, so the batch needs no copy to become a single write.
      this.extended += chunk.byteLength;
    } else {
      this.endRun();
      this.chunks.push(chunk);
    }
    this.bytes += chunk.byteLength;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Everything added so far, in order; the batch is empty afterwards. */
  take(): Uint8Array[] {
    this.endRun();
    const chunks = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return chunks;
  }

  clear(): void {
    this.chunks = [];
    this.extended = 0;
    this.bytes = 0;
  }

  /** The last chunk becomes one view over itself and the bytes that continued it. */
  private endRun(): void {
    if (this.extended === 0) return;
    const n = this.chunks.length - 1;
    const last = this.chunks[n]!;
    this.chunks[n] = Buffer.from(last.buffer, last.byteOffset, last.byteLength + this.extended);
    this.extended = 0;
  }
}

/** `write() === false` above `highWaterMark`; the listeners registered then fire once at or below `lowWaterMark`. */
export class DrainSignal {
  private needed = false;
  private listeners: Array<() => void> = [];

  constructor(
    private readonly highWaterMark: number,
    private readonly lowWaterMark: number,
  ) {}

  /** After queueing output: false when the caller should stop producing until drained. */
  accept(bufferedBytes: number): boolean {
    if (bufferedBytes > this.highWaterMark) this.needed = true;
    return !this.needed;
  }

  /** Called once, the next time output drains after `accept` returned false (like `socket.once('drain')`). */
  onDrain(listener: () => void): void {
    this.listeners.push(listener);
  }

  check(bufferedBytes: number): void {
    if (!this.needed || bufferedBytes > this.lowWaterMark) return;
    this.needed = false;
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l();
  }

  clear(): void {
    this.listeners = [];
  }
}
