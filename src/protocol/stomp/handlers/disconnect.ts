/**
 * DISCONNECT (1.2 "DISCONNECT"): the RECEIPT, if asked for, comes after every earlier frame's outcome;
 * then the connection is closed gracefully (buffered output flushed first).
 */
import type { StompFrame } from '../codec/frame.js';
import type { StompSession } from '../session.js';

export function handleDisconnect(session: StompSession, frame: StompFrame): void {
  session.disconnect(frame);
}
