/**
 * Keep Alive (3.1.2.10): a client that sends no packet for 1.5 times its interval is disconnected as for
 * a network failure ([MQTT-3.1.2-22] in 5.0, [MQTT-3.1.2-24] in 3.1.1). One timer per connection, re-armed
 * for the time left rather than on every packet: reading only stamps the time.
 */
import type { MqttTimers } from './context.js';

export interface KeepAliveOwner {
  /** The session stopped reading on purpose (flow control): silence then proves nothing. */
  readonly readingPaused: boolean;
  /** No packet for `idleMs`: disconnect. */
  keepAliveExpired(idleMs: number): void;
}

export class KeepAlive {
  private periodMs = 0;
  private lastRead = 0;
  private timer: unknown = null;

  constructor(
    private readonly timers: MqttTimers,
    private readonly owner: KeepAliveOwner,
  ) {}

  /** `seconds` as agreed in CONNECT / CONNACK; 0 turns the mechanism off. */
  start(seconds: number): void {
    if (seconds <= 0) return;
    this.periodMs = seconds * 1500;
    this.lastRead = this.timers.now();
    this.arm(this.periodMs);
  }

  /** Bytes arrived from the client. */
  touch(): void {
    if (this.periodMs > 0) this.lastRead = this.timers.now();
  }

  stop(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.periodMs = 0;
  }

  private arm(ms: number): void {
    this.timer = this.timers.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    this.timer = null;
    if (this.periodMs === 0) return;
    const now = this.timers.now();
    const idle = now - this.lastRead;
    if (idle < this.periodMs) {
      this.arm(this.periodMs - idle);
      return;
    }
    // Our own flow control stops reading; a client we do not read from cannot prove it is alive.
    if (this.owner.readingPaused) {
      this.lastRead = now;
      this.arm(this.periodMs);
      return;
    }
    this.owner.keepAliveExpired(idle);
  }
}
