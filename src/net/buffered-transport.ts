/**
 * What every stream `Transport` does whatever carries its bytes (TCP or TLS socket, WebSocket): output
 * batched per event-loop turn (output-batch.ts), back-pressure against a high-water mark with `onDrain`
 * at a low-water mark, reading paused by the session or by the input-turn limit (input-turn-limit.ts),
 * and a graceful `end` that gives a peer which never reads `endTimeoutMs` before it is dropped.
 * Subclasses say how a batch goes out, what their carrier still buffers, and how it closes.
 */
import { DEFAULT_INPUT_TURN_BYTES, InputTurnLimit } from './input-turn-limit.js';
import { DrainSignal, OutputBatch } from './output-batch.js';
import type { Transport } from './transport.js';

export interface BufferedTransportOptions {
  /** Buffered output (bytes) above which `write` returns false. Default 1 MiB. */
  highWaterMark?: number;
  /** `onDrain` fires once buffered output is at or below this. Default 64 KiB (never below the carrier's own). */
  lowWaterMark?: number;
  /** After `end()`, a peer that does not take the last bytes (or the closing handshake) is dropped after this. Default 5 s. */
  endTimeoutMs?: number;
  /** Bytes read in one event-loop turn before reading stops until the next (input-turn-limit.ts). Default 64 KiB. */
  inputTurnBytes?: number;
}

/** How the carrier pauses and resumes reading. */
export interface ReadControl {
  pause(): void;
  resume(): void;
}

export abstract class BufferedTransport implements Transport {
  private readonly output = new OutputBatch(() => this.flush());
  private readonly drain: DrainSignal;
  private readonly input: InputTurnLimit;
  private readonly endTimeoutMs: number;
  private ending = false;
  private carrierClosed = false;
  private endTimer: NodeJS.Timeout | undefined;

  /**
   * `carrierHighWaterMark`: the carrier emits 'drain' only after one of its own writes went above it, so
   * a low-water mark at least that high guarantees we either see 'drain' or can fire right after a flush.
   */
  constructor(
    readonly remoteAddress: string,
    carrierHighWaterMark: number,
    reading: ReadControl,
    options: BufferedTransportOptions,
  ) {
    this.drain = new DrainSignal(
      options.highWaterMark ?? 1024 * 1024,
      Math.max(options.lowWaterMark ?? 64 * 1024, carrierHighWaterMark),
    );
    this.endTimeoutMs = options.endTimeoutMs ?? 5000;
    this.input = new InputTurnLimit(options.inputTurnBytes ?? DEFAULT_INPUT_TURN_BYTES, {
      pause: () => reading.pause(),
      resume: () => reading.resume(),
      closed: () => this.carrierClosed,
    });
  }

  /** The carrier accepts no more output (or never will again). */
  protected abstract get carrierDone(): boolean;
  /** Bytes the carrier (and the kernel below it, as far as it tells) still holds. */
  protected abstract get carrierBuffered(): number;
  /** Hands one turn's output to the carrier: `chunks`, `bytes` in all. */
  protected abstract send(chunks: Uint8Array[], bytes: number): void;
  /** Starts the carrier's graceful close (after everything written so far). */
  protected abstract closeGracefully(): void;
  /** Drops the carrier at once. */
  protected abstract terminate(): void;

  get closed(): boolean {
    return this.ending || this.carrierClosed || this.carrierDone;
  }

  /** Bytes accepted by `write` and not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.output.bytes + this.carrierBuffered;
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed) return false;
    this.output.add(chunk);
    return this.drain.accept(this.bufferedBytes);
  }

  /**
   * Registers a listener called once, the next time buffered output drains to the low-water mark after
   * `write` returned false (like `socket.once('drain')`). Register again after the next `false`.
   */
  onDrain(listener: () => void): void {
    if (this.carrierClosed) return;
    this.drain.onDrain(listener);
  }

  pauseReading(): void {
    this.input.pauseBySession();
  }

  resumeReading(): void {
    this.input.resumeBySession();
  }

  /** `bytes` were read (input-turn-limit.ts). */
  countInput(bytes: number): void {
    this.input.count(bytes);
  }

  end(): void {
    if (this.ending || this.carrierClosed) return;
    this.flush();
    this.ending = true;
    this.closeGracefully();
    this.endTimer = setTimeout(() => this.terminate(), this.endTimeoutMs);
    this.endTimer.unref();
  }

  destroy(): void {
    this.output.clear();
    this.ending = true;
    this.terminate();
  }

  /** For subclasses: the carrier's 'drain'. */
  protected carrierDrained(): void {
    if (!this.carrierClosed) this.drain.check(this.bufferedBytes);
  }

  /** For subclasses: the carrier closed (either side); what is still queued is dropped. */
  protected carrierClosedNow(): void {
    this.carrierClosed = true;
    this.output.clear();
    this.drain.clear();
    if (this.endTimer) clearTimeout(this.endTimer);
  }

  private flush(): void {
    if (this.output.bytes === 0 || this.closed) return;
    const bytes = this.output.bytes;
    this.send(this.output.take(), bytes);
    this.carrierDrained();
  }
}
