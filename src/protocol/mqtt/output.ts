/**
 * A session's output: the one place where its bytes go to the transport.
 *
 * Batching (util/input-turn.ts): while any session handles input (`onData`, bracketed by `enterInput` / `leaveInput`),
 * what that input causes - acks, and PUBLISHes to this or other sessions (one PUBLISH fans out) - is
 * collected per session and handed to the transport when the outermost `onData` returns. Packets cut one
 * after another from the encoder's slab (codec/encoder.ts) are adjacent in memory, so a run of them is
 * one view: one transport write per session per turn, no copy, no per-packet transport call. Output made
 * anywhere else (timers, drain, store completions) is written at once, after what was collected.
 *
 * Holding: output made while a SUBSCRIBE is handled waits for the SUBACK (`hold` / `release`). A QoS 2
 * PUBLISH of a persistent session, and everything written after it, waits until its outbound record is
 * durable (`writeAfter`): order is kept, and the client never holds a QoS 2 message the broker could
 * forget in a crash.
 *
 * Back-pressure: `transport.write` returning false blocks output; the owner pauses its subscriptions
 * until the transport drains, and a peer that never drains is dropped after `slowConsumerTimeoutMs`.
 */
import type { Transport } from '../../net/transport.js';
import { flushAfterTurn, inInputTurn, type TurnOutput } from '../../util/input-turn.js';
import type { MqttTimers } from './context.js';

export interface OutputOwner {
  /** Output blocked or unblocked: pause or resume the core subscriptions. */
  outputBlockedChanged(): void;
  /** The transport stayed above its high-water mark for `timeoutMs`. */
  slowConsumer(timeoutMs: number): void;
}

/** A run of collected bytes is handed over once it reaches this size. */
const BATCH_BYTES = 64 * 1024;

export class SessionOutput implements TurnOutput {
  /** Set while the session is in the module's flush list. */
  queued = false;
  /** First chunk of the collected run, which extends to `runEnd` in the same memory. */
  private run: Uint8Array | null = null;
  private runEnd = 0;
  private held: Uint8Array[] | null = null;
  /** The latest durability wait output is behind (`writeAfter`), and what waits behind it, in order. */
  private barrier: Promise<void> | null = null;
  private behind: Uint8Array[] = [];
  private blockedFlag = false;
  private closed = false;
  private slowTimer: unknown = null;

  constructor(
    private readonly transport: Transport,
    private readonly timers: MqttTimers,
    private readonly slowConsumerTimeoutMs: number,
    private readonly owner: OutputOwner,
  ) {}

  /** The transport is over its high-water mark. */
  get blocked(): boolean {
    return this.blockedFlag;
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.held !== null) {
      this.held.push(bytes);
      return;
    }
    if (this.barrier !== null) {
      this.behind.push(bytes);
      return;
    }
    if (!inInputTurn()) {
      this.flush();
      this.send(bytes);
      return;
    }
    const run = this.run;
    if (run !== null) {
      if (
        run.buffer === bytes.buffer &&
        this.runEnd === bytes.byteOffset &&
        this.runEnd + bytes.byteLength - run.byteOffset <= BATCH_BYTES
      ) {
        this.runEnd += bytes.byteLength;
        return;
      }
      this.flush();
    }
    this.run = bytes;
    this.runEnd = bytes.byteOffset + bytes.byteLength;
    if (!this.queued) {
      this.queued = true;
      flushAfterTurn(this);
    }
  }

  flushTurn(): void {
    this.queued = false;
    this.flush();
  }

  /** Hands the collected run to the transport. */
  flush(): void {
    const run = this.run;
    if (run === null) return;
    this.run = null;
    const length = this.runEnd - run.byteOffset;
    this.send(length === run.byteLength ? run : Buffer.from(run.buffer, run.byteOffset, length));
  }

  /**
   * Writes `bytes` once `durable` resolves, and holds everything written after them until then. Waits
   * resolve in the order they were taken (the store's group commits), so only the latest one matters; a
   * failed one drops what waits (the store failed: the session is closed by its owner).
   */
  writeAfter(durable: Promise<void>, bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.held !== null) {
      // Inside a SUBSCRIBE: after the SUBACK, as everything else, then behind the wait.
      this.held.push(bytes);
      return;
    }
    this.flush();
    this.barrier = durable;
    this.behind.push(bytes);
    durable.then(
      () => this.passBarrier(durable),
      () => {
        if (this.barrier !== durable) return;
        this.barrier = null;
        this.behind = [];
      },
    );
  }

  private passBarrier(durable: Promise<void>): void {
    if (this.barrier !== durable) return;
    this.barrier = null;
    const waiting = this.behind;
    this.behind = [];
    for (const b of waiting) this.write(b);
  }

  /** Holds output (deliveries made inside a SUBSCRIBE) until `release`, after the SUBACK. */
  hold(): void {
    this.held ??= [];
  }

  dropHeld(): void {
    this.held = null;
  }

  release(first: Uint8Array): void {
    const held = this.held ?? [];
    this.held = null;
    this.write(first);
    for (const b of held) this.write(b);
  }

  /** Writes what was collected (not what is held), then accepts nothing more. */
  close(): void {
    if (this.closed) return;
    this.held = null;
    this.barrier = null;
    this.behind = [];
    this.flush();
    this.closed = true;
    this.clearSlowTimer();
  }

  private send(bytes: Uint8Array): void {
    if (!this.transport.write(bytes) && !this.blockedFlag) this.block();
  }

  private block(): void {
    this.blockedFlag = true;
    this.owner.outputBlockedChanged();
    this.transport.onDrain(() => this.unblock());
    const timeout = this.slowConsumerTimeoutMs;
    this.slowTimer = this.timers.setTimeout(() => {
      this.slowTimer = null;
      if (!this.closed && this.blockedFlag) this.owner.slowConsumer(timeout);
    }, timeout);
  }

  private unblock(): void {
    if (!this.blockedFlag || this.closed) return;
    this.blockedFlag = false;
    this.clearSlowTimer();
    this.owner.outputBlockedChanged();
  }

  private clearSlowTimer(): void {
    if (this.slowTimer !== null) this.timers.clearTimeout(this.slowTimer);
    this.slowTimer = null;
  }
}
