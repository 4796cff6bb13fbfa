/**
 * What every Transport does to its output, whatever carries it (TCP socket, WebSocket): chunks written
 * during one event-loop turn are collected and handed over together from one `setImmediate` (one write per
 * turn, not one per frame: DEPENDENCIES.md), and `write` reports back-pressure against a high-water mark
 * with listeners told once output is back under a low-water mark.
 *
 * Output caused by a session's input (util/input-turn.ts) is handed over at the end of that input turn
 * instead, if nothing was handed over since the last `setImmediate`: the reply to a small read (MQTT at a
 * fixed rate: 5 PUBLISHes per read) leaves without waiting for the rest of the loop iteration (measured
 * ~13 us at a cold cache). What arrives after that in the same iteration (many producers feeding one
 * consumer) is still collected for the `setImmediate`: at most two writes per iteration.
 */
import { inInputTurnOrItsFlush, sendAfterTurn, type TurnOutput } from '../util/input-turn.js';

export class OutputBatch implements TurnOutput {
  private chunks: Uint8Array[] = [];
  /**
   * Bytes that continue the last chunk in the same memory (frames cut one after the other from one
   * slab) and are not in its view yet: the view over the whole run is made once, when the run ends.
   */
  private extended = 0;
  /**
   * A flush is due (at the end of the input turn, or from the `setImmediate`). After a flush at the end
   * of an input turn it stays set until the `setImmediate` that follows, so later output is collected.
   */
  private scheduled = false;
  /** Bytes added and not yet taken. */
  bytes = 0;

  /** `flush` is called once per turn in which something was added; it calls `take()`. */
  constructor(private readonly flush: () => void) {}

  private readonly onImmediate = (): void => {
    this.scheduled = false;
    if (this.bytes > 0) this.flush();
  };

  /** End of the input turn that added output (input-turn.ts). */
  flushTurn(): void {
    // Scheduled first: `scheduled` must be cleared by the immediate even if the carrier's write throws.
    setImmediate(this.onImmediate);
    if (this.bytes > 0) this.flush();
  }

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
      if (inInputTurnOrItsFlush()) sendAfterTurn(this);
      else setImmediate(this.onImmediate);
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
