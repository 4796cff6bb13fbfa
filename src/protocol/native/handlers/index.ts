/** One handler per client frame kind (Connect and Heartbeat are the session's own). */
import type { ClientFrameKind, ClientFrames } from '../codec/types.js';
import type { NativeSession } from '../session.js';
import { handleAck, handleNack } from './ack.js';
import { handleBrowse, handleCreateTemporary, handleDeleteTemporary } from './other.js';
import { handleSend, handleSendBatch } from './send.js';
import { handleDisconnect } from './session.js';
import { handleCredit, handleSubscribe, handleUnsubscribe, handleUnsubscribeDurable } from './subscribe.js';
import {
  handleTxBegin,
  handleTxCommit,
  handleTxRollback,
  handleXaCommit,
  handleXaEnd,
  handleXaPrepare,
  handleXaRecover,
  handleXaRollback,
  handleXaStart,
} from './transaction.js';

type Handlers = {
  [K in Exclude<ClientFrameKind, 'connect' | 'heartbeat'>]: (s: NativeSession, f: ClientFrames[K]) => void;
};

const HANDLERS: Handlers = {
  disconnect: handleDisconnect,
  send: handleSend,
  send_batch: handleSendBatch,
  subscribe: handleSubscribe,
  unsubscribe: handleUnsubscribe,
  credit: handleCredit,
  ack: handleAck,
  nack: handleNack,
  unsubscribe_durable: handleUnsubscribeDurable,
  tx_begin: handleTxBegin,
  tx_commit: handleTxCommit,
  tx_rollback: handleTxRollback,
  xa_start: handleXaStart,
  xa_end: handleXaEnd,
  xa_prepare: handleXaPrepare,
  xa_commit: handleXaCommit,
  xa_rollback: handleXaRollback,
  xa_recover: handleXaRecover,
  browse: handleBrowse,
  create_temporary: handleCreateTemporary,
  delete_temporary: handleDeleteTemporary,
};

export function handlerFor(kind: keyof Handlers): (s: NativeSession, f: never) => void {
  return HANDLERS[kind] as (s: NativeSession, f: never) => void;
}
