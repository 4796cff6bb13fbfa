/**
 * Bounds what one connection is read per event-loop turn, for every transport. libuv reads a readable
 * socket up to 32 times (64 KiB each) per poll phase, so a producer with a deep pipeline (1,000
 * unanswered persistent SENDs) had the broker handle ~1 MiB, 10-20 ms of work, in one turn: the store's
 * write and fdatasync completions and every other connection waited behind it, and the pipeline ran
 * stop-and-go (event-loop delay p99 11-15 ms in W4p, docs/PERFORMANCE.md); a fast MQTT publisher filled
 * its subscribers' buffers before any output left (broker RSS). Past `limit` bytes reading stops until the
 * next turn (setImmediate: after the turn's output is written and the store's completions ran); the chunk
 * in hand is still handled in full, and the rest waits in the kernel, where TCP slows the peer.
 *
 * Reading is resumed only if the session has not paused it for its own reasons (flow control).
 */
export class InputTurnLimit {
  private turnBytes = 0;
  private turnPaused = false;
  private sessionPaused = false;
  private readonly endTurn = (): void => {
    this.turnBytes = 0;
    this.turnPaused = false;
    if (!this.sessionPaused && !this.io.closed()) this.io.resume();
  };

  constructor(
    private readonly limit: number,
    private readonly io: { pause(): void; resume(): void; closed(): boolean },
  ) {}

  /** `bytes` were just read. */
  count(bytes: number): void {
    this.turnBytes += bytes;
    if (this.turnPaused || this.turnBytes < this.limit) return;
    this.turnPaused = true;
    this.io.pause();
    setImmediate(this.endTurn);
  }

  /** The session stops reading (Transport.pauseReading). */
  pauseBySession(): void {
    this.sessionPaused = true;
    if (!this.io.closed()) this.io.pause();
  }

  /** The session reads again (Transport.resumeReading), unless the turn's limit still holds. */
  resumeBySession(): void {
    this.sessionPaused = false;
    if (!this.io.closed() && !this.turnPaused) this.io.resume();
  }
}

/** Default bytes read per connection per turn. */
export const DEFAULT_INPUT_TURN_BYTES = 64 * 1024;
