/**
 * The native protocol's frames (proto/blaze/v1/native.proto) as plain objects with the .proto's field
 * names (protobufjs `keepCase`), so that hand-decoded hot frames and protobufjs-decoded cold frames have
 * one shape. Decoded frames carry every field, proto3 defaults filled in (0, '', false, []).
 * 64-bit fields are numbers (the .proto guarantees values below 2^53).
 */

/** Decoded `blaze.v1.Value` and `blaze.v1.Message` (util/native-message.ts, shared with the client). */
import type { DecodedMessage, WireValue } from '../../../util/native-message.js';

export type { WireValue };
export type WireMessage = DecodedMessage;

export interface WireXid {
  format_id: number;
  global_transaction_id: Uint8Array;
  branch_qualifier: Uint8Array;
}

export const ACK_MODE_AUTO = 0;
export const ACK_MODE_CUMULATIVE = 1;
export const ACK_MODE_INDIVIDUAL = 2;
export const TEMPORARY_KIND_QUEUE = 0;
export const TEMPORARY_KIND_TOPIC = 1;

export interface Connect {
  request_id: number;
  versions: number[];
  login: string;
  passcode: string;
  token: string;
  client_id: string;
  heartbeat_ms: number;
  max_frame_size: number;
  client_name: string;
}
export interface Send {
  request_id: number;
  message: WireMessage;
  tx_id: string;
  producer_id: string;
  sequence: number;
  /** Version 2: answer with the broker-assigned id (Ok.message_ids). */
  want_ids: boolean;
}
export interface SendBatch {
  request_id: number;
  messages: WireMessage[];
  tx_id: string;
  producer_id: string;
  first_sequence: number;
  /** Version 2: answer with one broker-assigned id per message (Ok.message_ids). */
  want_ids: boolean;
}
export interface Subscribe {
  request_id: number;
  subscription_id: number;
  address: string;
  ack_mode: number;
  credit: number;
  selector: string;
  durable_name: string;
  no_local: boolean;
  share_group: string;
}
export interface Credit {
  subscription_id: number;
  credit: number;
}
export interface Ack {
  request_id: number;
  subscription_id: number;
  tags: number[];
  up_to: number;
  tx_id: string;
}
export interface Nack {
  request_id: number;
  subscription_id: number;
  tags: number[];
  tx_id: string;
}
export interface RequestOnly {
  request_id: number;
}
export interface Unsubscribe {
  request_id: number;
  subscription_id: number;
}
export interface UnsubscribeDurable {
  request_id: number;
  durable_name: string;
}
export interface TxFrame {
  request_id: number;
  tx_id: string;
}
export interface XaStart {
  request_id: number;
  xid: WireXid | null;
  tx_id: string;
  flags: number;
}
export interface XaEnd {
  request_id: number;
  xid: WireXid | null;
  flags: number;
}
export interface XaXid {
  request_id: number;
  xid: WireXid | null;
}
export interface XaCommit {
  request_id: number;
  xid: WireXid | null;
  one_phase: boolean;
}
export interface Browse {
  request_id: number;
  address: string;
  selector: string;
  max_messages: number;
}
export interface CreateTemporary {
  request_id: number;
  kind: number;
}
export interface DeleteTemporary {
  request_id: number;
  address: string;
}

/** What a client may send, by `Frame.kind` name. */
export interface ClientFrames {
  connect: Connect;
  heartbeat: Record<string, never>;
  disconnect: RequestOnly;
  send: Send;
  send_batch: SendBatch;
  subscribe: Subscribe;
  unsubscribe: Unsubscribe;
  credit: Credit;
  ack: Ack;
  nack: Nack;
  unsubscribe_durable: UnsubscribeDurable;
  tx_begin: TxFrame;
  tx_commit: TxFrame;
  tx_rollback: TxFrame;
  xa_start: XaStart;
  xa_end: XaEnd;
  xa_prepare: XaXid;
  xa_commit: XaCommit;
  xa_rollback: XaXid;
  xa_recover: RequestOnly;
  browse: Browse;
  create_temporary: CreateTemporary;
  delete_temporary: DeleteTemporary;
}

export type ClientFrameKind = keyof ClientFrames;

export type ClientFrame = { [K in ClientFrameKind]: { kind: K; value: ClientFrames[K] } }[ClientFrameKind];

/** Frame kinds only the broker sends; a client sending one breaks the protocol. */
export const BROKER_ONLY_KINDS: ReadonlySet<string> = new Set([
  'connected',
  'ok',
  'error',
  'subscribed',
  'deliver',
  'subscription_closed',
  'xa_recovered',
  'browse_result',
  'temporary_created',
]);

/** `Frame` oneof field numbers (native.proto). */
export const FIELD = {
  connect: 1,
  connected: 2,
  heartbeat: 3,
  disconnect: 4,
  ok: 5,
  error: 6,
  send: 10,
  send_batch: 11,
  subscribe: 20,
  subscribed: 21,
  unsubscribe: 22,
  credit: 23,
  deliver: 24,
  ack: 25,
  nack: 26,
  subscription_closed: 27,
  unsubscribe_durable: 28,
  tx_begin: 30,
  tx_commit: 31,
  tx_rollback: 32,
  xa_start: 40,
  xa_end: 41,
  xa_prepare: 42,
  xa_commit: 43,
  xa_rollback: 44,
  xa_recover: 45,
  xa_recovered: 46,
  browse: 50,
  browse_result: 51,
  create_temporary: 52,
  temporary_created: 53,
  delete_temporary: 54,
} as const;

export type FrameKind = keyof typeof FIELD;
