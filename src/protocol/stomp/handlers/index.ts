/**
 * Command -> handler, one file per concern. A handler validates its frame, makes one core call and
 * reports the outcome through the session (`done`/`track`); it throws BlazeError for anything refused,
 * which the session turns into ERROR + close.
 */
import type { StompFrame, StompVersion } from '../codec/frame.js';
import type { StompSession } from '../session.js';
import { handleAck, handleNack } from './ack.js';
import { handleConnect, handleReconnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handleSend } from './send.js';
import { handleSubscribe } from './subscribe.js';
import { handleAbort, handleBegin, handleCommit } from './transaction.js';
import { handleUnsubscribe } from './unsubscribe.js';

export type Handler = (session: StompSession, frame: StompFrame) => void;

const CONNECTED: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['SEND', handleSend],
  ['SUBSCRIBE', handleSubscribe],
  ['UNSUBSCRIBE', handleUnsubscribe],
  ['ACK', handleAck],
  ['NACK', handleNack],
  ['BEGIN', handleBegin],
  ['COMMIT', handleCommit],
  ['ABORT', handleAbort],
  ['DISCONNECT', handleDisconnect],
  ['CONNECT', handleReconnect],
  ['STOMP', handleReconnect],
]);

/**
 * The handler for `command`; `version` null before CONNECT. NACK does not exist in 1.0 (added by 1.1),
 * so a 1.0 client sending it gets "unknown command".
 */
export function handlerFor(command: string, version: StompVersion | null): Handler | undefined {
  if (version === null) return command === 'CONNECT' || command === 'STOMP' ? handleConnect : undefined;
  if (command === 'NACK' && version === '1.0') return undefined;
  return CONNECTED.get(command);
}
