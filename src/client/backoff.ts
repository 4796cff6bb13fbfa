/**
 * Reconnection delays: exponential back-off from `initialDelay`, times `multiplier` per failed attempt,
 * capped at `maxDelay` (ActiveMQ failover semantics). Pure, so the failover logic runs on a fake clock.
 */
import type { ReconnectOptions } from './url.js';

export const DEFAULT_RECONNECT: ReconnectOptions = {
  initialDelay: 100,
  maxDelay: 30_000,
  multiplier: 2,
  maxReconnectAttempts: -1,
  randomize: false,
};

/** Delay before attempt number `attempt` (1 = the first retry after a failure). */
export function reconnectDelay(attempt: number, o: ReconnectOptions): number {
  const raw = o.initialDelay * o.multiplier ** Math.max(0, attempt - 1);
  return Math.min(o.maxDelay, Number.isFinite(raw) ? raw : o.maxDelay);
}

/** True when `failures` failed attempts in a row exhaust the budget. */
export function exhausted(failures: number, o: ReconnectOptions): boolean {
  return o.maxReconnectAttempts >= 0 && failures > o.maxReconnectAttempts;
}
