/**
 * SEND (1.2 "SEND"): destination -> canonical address, headers -> MessageInit (message-in.ts), then one
 * `core.send`. Its promise resolves once the message is accepted (persistent: durable), which is when
 * the RECEIPT goes out; until then the SEND counts against the connection's in-flight limit.
 */
import type { StompFrame } from '../codec/frame.js';
import { toMessageInit } from '../message-in.js';
import type { StompSession } from '../session.js';

export function handleSend(session: StompSession, frame: StompFrame): void {
  const destination = session.requireHeader(frame, 'destination');
  const address = session.destinations.toAddress(destination);
  const replyHeader = frame.headers['reply-to'];
  const replyTo =
    replyHeader === undefined || replyHeader === '' ? undefined : session.destinations.toAddress(replyHeader);
  const tx = session.transactionOf(frame);
  session.track(session.conn.send(toMessageInit(frame, address, replyTo), tx), frame);
}
