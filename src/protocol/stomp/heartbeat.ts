/**
 * Heart-beat timers for one connection (1.2 "Heart-beating").
 *
 * Outgoing: a tick every half interval sends one EOL if nothing was written since the previous tick, so
 * the gap between two writes never exceeds the agreed interval, and an idle connection gets one EOL per
 * interval. The hot path only sets `wrote = true`.
 * Incoming: the session stamps `lastRead` on every chunk; a tick every interval closes a connection that
 * has been silent for longer than interval x grace.
 */
import type { StompTimers } from './context.js';

export interface HeartbeatCallbacks {
  sendBeat(): void;
  peerSilent(silentForMs: number): void;
}

export class Heartbeats {
  wrote = false;
  lastRead: number;
  private sendTimer: unknown = null;
  private readTimer: unknown = null;

  constructor(
    private readonly timers: StompTimers,
    private readonly callbacks: HeartbeatCallbacks,
  ) {
    this.lastRead = timers.now();
  }

  start(sendEvery: number, expectEvery: number, graceFactor: number): void {
    this.stop();
    if (sendEvery > 0) {
      this.sendTimer = this.timers.setInterval(
        () => {
          // The beat itself sets `wrote` (through the session's write path), so it counts as output.
          if (this.wrote) this.wrote = false;
          else this.callbacks.sendBeat();
        },
        Math.max(1, Math.floor(sendEvery / 2)),
      );
    }
    if (expectEvery > 0) {
      this.lastRead = this.timers.now();
      const allowed = expectEvery * graceFactor;
      this.readTimer = this.timers.setInterval(() => {
        const silent = this.timers.now() - this.lastRead;
        if (silent > allowed) this.callbacks.peerSilent(silent);
      }, expectEvery);
    }
  }

  markRead(): void {
    this.lastRead = this.timers.now();
  }

  stop(): void {
    if (this.sendTimer !== null) this.timers.clearInterval(this.sendTimer);
    if (this.readTimer !== null) this.timers.clearInterval(this.readTimer);
    this.sendTimer = null;
    this.readTimer = null;
  }
}
