/**
 * The output side shared by every SSE stream (sse-stream.ts, sse-feed.ts): a heart-beat comment after
 * `heartbeatMs` without output, back-pressure (a `write` the response refuses pauses the stream until
 * `drain`), and the slow-consumer rule: a browser that has not drained within `slowConsumerTimeoutMs` is
 * cut off, as STOMP does, so that nothing is held for it longer than that.
 */
import { encodeComment } from './sse-codec.js';

/** What a stream needs of a response (a `ServerResponse`, or any Writable in tests). */
export interface SseOutput {
  write(chunk: string | Uint8Array, flushed?: (err?: Error | null) => void): boolean;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
  end(): void;
  destroy(): void;
}

export type SseCloseReason = 'client' | 'slow' | 'broker' | 'shutdown';

export interface SseWriterOptions {
  heartbeatMs: number;
  slowConsumerTimeoutMs: number;
  now?: () => number;
}

export interface SseWriterHooks {
  /** The response refused a write: stop producing until `drained`. */
  paused(): void;
  drained(): void;
  /** Not drained within the slow-consumer timeout: the stream should close with reason 'slow'. */
  slow(): void;
}

export class SseWriter {
  private blocked = false;
  private done = false;
  private lastWrite: number;
  private slowTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly onDrain = () => {
    if (this.done) return;
    this.blocked = false;
    if (this.slowTimer) clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
    this.hooks.drained();
  };

  constructor(
    private readonly out: SseOutput,
    private readonly options: SseWriterOptions,
    private readonly hooks: SseWriterHooks,
  ) {
    this.now = options.now ?? Date.now;
    this.lastWrite = this.now();
    this.heartbeat = setInterval(
      () => {
        if (!this.blocked && this.now() - this.lastWrite >= options.heartbeatMs)
          this.write(encodeComment('hb'));
      },
      Math.max(10, Math.floor(options.heartbeatMs / 2)),
    );
    this.heartbeat.unref();
  }

  /** The response refused output and has not drained yet. */
  get paused(): boolean {
    return this.blocked;
  }

  write(chunk: string | Uint8Array, flushed?: (err?: Error | null) => void): void {
    this.lastWrite = this.now();
    if ((flushed ? this.out.write(chunk, flushed) : this.out.write(chunk)) || this.blocked) return;
    this.blocked = true;
    this.hooks.paused();
    this.out.once('drain', this.onDrain);
    this.slowTimer = setTimeout(() => this.hooks.slow(), this.options.slowConsumerTimeoutMs);
  }

  /** Stops the timers and ends the response as `reason` requires. */
  close(reason: SseCloseReason): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.heartbeat);
    if (this.slowTimer) clearTimeout(this.slowTimer);
    this.out.removeListener('drain', this.onDrain);
    // A slow browser's buffered backlog is dropped, not flushed: it is what made it slow.
    if (reason === 'slow') this.out.destroy();
    else if (reason !== 'client') this.out.end();
  }
}
