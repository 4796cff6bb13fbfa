/**
 * Size limits the decoder enforces before it buffers or allocates anything (STOMP 1.2 "Size Limits":
 * a server may limit frame size, header count and header length, and must reply ERROR + close when a
 * client exceeds them). Defaults follow ActiveMQ's STOMP transport where it has one.
 */
export interface StompLimits {
  /** Whole frame: command + headers + body. */
  maxFrameSize: number;
  maxBodySize: number;
  maxHeaders: number;
  /** One `name:value` line, in bytes, escapes included. */
  maxHeaderLineLength: number;
  maxCommandLength: number;
}

export const DEFAULT_STOMP_LIMITS: Readonly<StompLimits> = Object.freeze({
  maxFrameSize: 10 * 1024 * 1024,
  maxBodySize: 10 * 1024 * 1024,
  maxHeaders: 1000,
  maxHeaderLineLength: 10 * 1024,
  maxCommandLength: 1024,
});

export function resolveLimits(partial?: Partial<StompLimits>): StompLimits {
  return { ...DEFAULT_STOMP_LIMITS, ...partial };
}
