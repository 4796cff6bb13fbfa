/**
 * An in-memory Transport for protocol session tests: records what the session writes (copied, as a
 * socket would take it), lets the test refuse writes (`writable = false`) and release them (`drain()`),
 * and counts reading pauses and resumes.
 */
import type { Transport } from '../../src/net/transport.js';

export class FakeTransport implements Transport {
  readonly chunks: Buffer[] = [];
  writable = true;
  readingPaused = false;
  pauseCalls = 0;
  resumeCalls = 0;
  ended = false;
  destroyed = false;
  private drainListeners: Array<() => void> = [];

  constructor(readonly remoteAddress = '192.0.2.1:40000') {}

  get closed(): boolean {
    return this.ended || this.destroyed;
  }
  get drainWaiters(): number {
    return this.drainListeners.length;
  }
  write(chunk: Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk));
    return this.writable;
  }
  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }
  drain(): void {
    this.writable = true;
    const ls = this.drainListeners;
    this.drainListeners = [];
    for (const l of ls) l();
  }
  pauseReading(): void {
    this.readingPaused = true;
    this.pauseCalls++;
  }
  resumeReading(): void {
    this.readingPaused = false;
    this.resumeCalls++;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}
